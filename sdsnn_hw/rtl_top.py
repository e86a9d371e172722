"""Generate the network top that chains one ``lif_core`` per exported layer.

One generator, two targets (docs/microarchitecture.md, section 8):

- ``synth``: the top for FPGA tools. Each layer's ROMs load their images with
  ``$readmemh`` from file names given as string parameters (the manifest's names by
  default), the neuron configuration is constant, and the ports are the step
  handshake, the last layer's spikes and a 64-bit cycle counter.
- ``sim``: the same chain for the cocotb testbench. It holds shapes only, so one build
  serves every export of the same shape: the neuron configuration comes in through
  ports, the ROMs load from ``+L<l>_PTR=`` / ``+L<l>_WROM=`` / ``+L<l>_BIAS=``
  plusargs (and load again on ``sim_reload_i``), every layer has the widest weights,
  biases and membranes (:data:`SIM_W_BITS`, :data:`SIM_B_BITS`, :data:`SIM_V_BITS`)
  and the largest weight ROM its shape can need. It generates its own clock and holds
  a step driver and a recorder: a run plays up to :data:`SIM_RUN_STEPS` steps from a
  file and writes every layer's spikes and membranes (gathered by
  ``update_collector``) and the counters to another, so the testbench wakes up once
  per run instead of once per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sdsnn_hw.layouts import REGISTRY, bank_depth, layouts_for, slot_bits_for
from sdsnn_hw.manifest import LayerSpec, Manifest
from sdsnn_hw.netspec import CONV
from sdsnn_hw.neuron import signed_bits_for, unsigned_bits_for

TOP_MODULE = "sdsnn_net"
TARGETS = ("synth", "sim")
SIM_W_BITS = 8
"""Weight width of every simulation build (the contract's widest weights)."""
SIM_B_BITS = 16
"""Bias width of every simulation build with biases (the widest trained biases)."""
SIM_V_BITS = 32
"""Membrane width of every simulation build; a layer's narrower range comes in through
its saturation-bound ports, and each membrane reads out as one 32-bit word."""
COUNTERS = (
    "cycles",
    "synops",
    "ptr_reads",
    "wrom_reads",
    "acc_reads",
    "acc_writes",
    "mem_reads",
    "mem_writes",
)
"""The core's activity counters (64-bit), named as :class:`sdsnn_hw.microarch.Costs`."""
SIM_CLOCK_NS = 10
"""Clock period of the simulation top (ns; the builds' time unit is 1 ns)."""
SIM_RUN_STEPS = 1024
"""Steps one run of the simulation driver plays at most (its stimulus memory depth)."""
SIM_RUN_BITS = SIM_RUN_STEPS.bit_length()
"""Width of ``sim_steps_i`` (0 .. :data:`SIM_RUN_STEPS`)."""
SIM_LIMIT_BITS = 32
"""Width of a step's cycle limit in the driver's stimulus words."""
ROM_INSTANCES = ("u_ptr_lo.g_auto", "u_ptr_hi.g_auto", "u_wrom.g_block")
"""Each core's ``weight_rom`` instances inside their generate branch (``BLOCK`` 0 or
1), whose ``reload()`` task the simulation top calls."""
BIAS_INSTANCE = "g_bias.u_bias"
"""The ``bias_rom`` of a core with biases."""


@dataclass(frozen=True)
class CoreShape:
    """Parameters of one ``lif_core`` instance.

    Attributes:
        conv: a convolution (else fully connected).
        in_c, in_h, in_w: the input map, before pooling (fc after fc: ``n_in x 1 x 1``).
        pool: the ``AP<k>`` folded into the input (1: none).
        out_c: output units (fc neurons, conv output channels).
        kernel: K (1 for fc).
        layout: index into the kind's layouts (0 dense, 1 list, 2 tap list).
        w_bits, b_bits, v_bits, acc_bits: weight, bias (0: none), stored membrane and
            current widths.
        wrom_depth: weight ROM words.
        ptr_bits: pointer ROM word width.
    """

    conv: bool
    in_c: int
    in_h: int
    in_w: int
    pool: int
    out_c: int
    kernel: int
    layout: int
    w_bits: int
    b_bits: int
    v_bits: int
    acc_bits: int
    wrom_depth: int
    ptr_bits: int

    @property
    def n_in(self) -> int:
        """Input spikes: the map before pooling."""
        return self.in_c * self.in_h * self.in_w

    @property
    def hw(self) -> int:
        """Neurons per output unit: the pooled map's positions (conv), 1 (fc)."""
        return (self.in_h // self.pool) * (self.in_w // self.pool) if self.conv else 1

    @property
    def n_out(self) -> int:
        return self.out_c * self.hw

    def depth(self, lanes: int) -> int:
        """Bank depth D: unit rows times positions."""
        return bank_depth(self.out_c, lanes) * self.hw

    def params(self, lanes: int) -> dict[str, int]:
        """The core's parameters (files and plusargs apart)."""
        return {
            "CONV": int(self.conv),
            "IN_C": self.in_c,
            "IN_H": self.in_h,
            "IN_W": self.in_w,
            "POOL": self.pool,
            "OUT_C": self.out_c,
            "K": self.kernel,
            "LANES": lanes,
            "LAYOUT": self.layout,
            "W_BITS": self.w_bits,
            "V_BITS": self.v_bits,
            "ACC_BITS": self.acc_bits,
            "B_BITS": self.b_bits,
            "WROM_DEPTH": self.wrom_depth,
            "PTR_BITS": self.ptr_bits,
        }


def core_shape(layer: LayerSpec, lanes: int, target: str) -> CoreShape:
    """The core parameters of ``layer`` in ``target``.

    ``synth`` takes the export's widths and ROM sizes; ``sim`` the widest a layer of
    this shape can have: a word for every unit row of every input unit (a dense layout
    with every input used; times the taps for ``tap_list``), :data:`SIM_W_BITS`
    weights, :data:`SIM_B_BITS` biases, :data:`SIM_V_BITS` membranes and a current that
    holds every synapse at its largest weight, every count at its largest, and the
    largest bias.

    Raises:
        ValueError: on an unknown target, or a weight memory whose width does not fit
            the layer's layout.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of: {', '.join(TARGETS)}")
    shape = layer.shape
    rows = bank_depth(layer.out_channels, lanes)
    geometry = {
        "conv": layer.kind == CONV,
        "in_c": layer.in_channels,
        "in_h": layer.in_height,
        "in_w": layer.in_width,
        "pool": layer.pool,
        "out_c": layer.out_channels,
        "kernel": shape.kernel,
        "layout": layouts_for(layer.kind).index(layer.layout),
    }
    if target == "synth":
        width = lanes * slot_bits_for(layer.layout, layer.weight_bits, rows, layer.taps)
        if layer.weights.width != width:
            raise ValueError(
                f"layer {layer.name}: weight words are {layer.weights.width} bits, "
                f"the {layer.layout} layout with {lanes} lanes needs {width}"
            )
        return CoreShape(
            **geometry,
            w_bits=layer.weight_bits,
            b_bits=layer.bias_bits,
            v_bits=layer.v_bits,
            acc_bits=layer.acc_bits,
            wrom_depth=layer.weights.depth,
            ptr_bits=layer.ptr.width,
        )
    units_in = layer.in_channels if layer.kind == CONV else layer.n_in
    fan_in = layer.shape.fan_in
    b_bits = SIM_B_BITS if layer.bias_bits else 0
    bias = (1 << (b_bits - 1)) - 1 if b_bits else 0
    limit = layer.pool**2 * fan_in * ((1 << (SIM_W_BITS - 1)) - 1) + bias
    # a word for every unit row of every input unit, times the taps where a slot is one
    wrom_depth = units_in * rows * (layer.taps if REGISTRY[layer.layout].per_tap else 1)
    return CoreShape(
        **geometry,
        w_bits=SIM_W_BITS,
        b_bits=b_bits,
        v_bits=SIM_V_BITS,
        acc_bits=max(SIM_W_BITS, signed_bits_for(-limit, limit)),
        wrom_depth=wrom_depth,
        ptr_bits=unsigned_bits_for(wrom_depth),
    )


def _shift_bits(v_bits: int) -> int:
    """Width of the core's leak_shift_i port, ``$clog2(V_BITS)``."""
    return (v_bits - 1).bit_length()


def _hex(value: int, bits: int) -> str:
    """A sized hexadecimal literal of ``value`` (two's complement if negative)."""
    return f"{bits}'h{value & ((1 << bits) - 1):x}"


def _clock(target: str) -> str:
    """The clock net: the ``clk_i`` port (synth) or the clock the sim top generates."""
    return "clk" if target == "sim" else "clk_i"


def _core(index: int, layer: LayerSpec, lanes: int, target: str) -> str:
    """One core instance and the wires around it."""
    shape = core_shape(layer, lanes, target)
    p = f"l{index}_"
    depth = shape.depth(lanes)
    aw = max(1, (depth - 1).bit_length())
    sim = target == "sim"
    clock = _clock(target)
    params: dict[str, int | str] = dict(shape.params(lanes))
    if sim:
        files = {"PTR_PLUSARG": f'"L{index}_PTR"', "WROM_PLUSARG": f'"L{index}_WROM"'}
        if shape.b_bits:
            files["BIAS_PLUSARG"] = f'"L{index}_BIAS"'
        # registered: the simulator then evaluates the neuron update once per cycle,
        # not on every input change (the testbench sets them before reset)
        config = {name: f"{p}{name}_q" for name in ("v_th", "leak_shift", "v_min", "v_max")}
    else:
        files = {"PTR_FILE": f"L{index}_PTR_FILE", "WROM_FILE": f"L{index}_WEIGHTS_FILE"}
        if shape.b_bits:
            files["BIAS_FILE"] = f"L{index}_BIAS_FILE"
        lif, v = layer.lif, shape.v_bits
        config = {
            "v_th": _hex(lif.v_th, v),
            "leak_shift": f"{_shift_bits(v)}'d{lif.leak_shift}",
            "v_min": _hex(lif.v_min, v),
            "v_max": _hex(lif.v_max, v),
        }
    if index > 0:
        params["MAP_IN"] = 1
    param_text = ",\n".join(f"      .{k}({v})" for k, v in {**params, **files}.items())
    start = "accept" if index == 0 else f"l{index - 1}_done"
    # the sim top's first layer takes its steps from the driver (pres_*_q); every later
    # layer's map is written into its block RAM by the update stream of the one before
    if index == 0:
        spikes = "pres_spikes_q" if sim else "spikes_i"
        map_depth = -(-shape.in_c // lanes) * shape.in_h * shape.in_w
        map_in = ["1'b0", f"{max(1, (map_depth - 1).bit_length())}'d0", f"{lanes}'d0"]
    else:
        spikes = f"{shape.in_c * shape.in_h * shape.in_w}'d0"
        map_in = [f"l{index - 1}_upd_{name}" for name in ("valid", "addr", "spikes")]
    map_ports = "".join(
        f"      .map_{name}_i({wire}),\n"
        for name, wire in zip(("valid", "addr", "spikes"), map_in, strict=True)
    )
    first = ("pres_first_q" if sim else "first_step_i") if index == 0 else "first_q"
    counters = "".join(f"      .{c}_o({p}{c}),\n" for c in COUNTERS)
    config_text = "".join(f"      .{k}_i({v}),\n" for k, v in config.items())
    wires = [
        f"  logic {p}done;",
        f"  logic [{shape.n_out - 1}:0] {p}spikes;",
        f"  logic {p}upd_valid;",
        f"  logic [{aw - 1}:0] {p}upd_addr;",
        f"  logic [{lanes - 1}:0] {p}upd_spikes;",
        f"  logic [{lanes * shape.v_bits - 1}:0] {p}upd_membranes;",
        f"  logic [63:0] {', '.join(p + c for c in COUNTERS)};",
    ]
    if sim:
        v = shape.v_bits
        wires += [
            f"  logic [{v - 1}:0] {p}v_th_q, {p}v_min_q, {p}v_max_q;",
            f"  logic [{_shift_bits(v) - 1}:0] {p}leak_shift_q;",
        ]
        # the collector takes the stream's membranes; spikes come from spikes_o
        unused = [f"{p}upd_spikes", f"{p}upd_addr"]
        outputs = "".join(f"  assign {p}{c}_o = {p}{c};\n" for c in COUNTERS)
        extra = f"""
  update_collector #(
      .N_OUT({depth * lanes}),
      .LANES({lanes}),
      .V_BITS({shape.v_bits})
  ) u_{p}collector (
      .clk_i({clock}),
      .valid_i({p}upd_valid),
      .membranes_i({p}upd_membranes),
      .membranes_o({p}membranes_o)
  );
  always_ff @(posedge {clock}) begin
    {p}v_th_q <= {p}v_th_i;
    {p}leak_shift_q <= {p}leak_shift_i;
    {p}v_min_q <= {p}v_min_i;
    {p}v_max_q <= {p}v_max_i;
  end
  assign {p}spikes_o = {p}spikes;
{outputs}"""
    else:
        # the counters are for simulation and synthesis removes them, as it does the
        # last layer's update stream (every other one feeds the next layer's map)
        unused = [f"{p}{c}" for c in COUNTERS]
        unused += [f"{p}upd_valid", f"{p}upd_addr", f"{p}upd_spikes", f"{p}upd_membranes"]
        # the map goes on through the update stream: only the last layer's spikes_o has
        # a load, and synthesis drops the others' flip-flops
        unused.append(f"{p}spikes")
    wire_text = "\n".join(wires)
    return f"""
{wire_text}
  logic unused_{p}outputs;
  assign unused_{p}outputs = ^{{{", ".join(unused)}}};

  lif_core #(
{param_text}
  ) u_{layer.name} (
      .clk_i({clock}),
      .rst_ni(rst_ni),
{config_text}      .start_i({start}),
      .first_step_i({first}),
      .spikes_i({spikes}),
{map_ports}      .ready_o(layer_ready[{index}]),
      .done_o({p}done),
      .spikes_o({p}spikes),
      .upd_valid_o({p}upd_valid),
      .upd_addr_o({p}upd_addr),
      .upd_spikes_o({p}upd_spikes),
{counters}      .upd_membranes_o({p}upd_membranes)
  );
{extra if sim else ""}"""


def raw_neurons(layer: LayerSpec, lanes: int) -> int:
    """Membranes a layer's update collector holds: every lane of every bank address,
    padding units included (:func:`raw_order` maps them to neurons)."""
    return core_shape(layer, lanes, "sim").depth(lanes) * lanes


def raw_order(layer: LayerSpec, lanes: int) -> np.ndarray:
    """For each neuron of ``layer`` in C order, its index among the collector's raw
    membranes: neuron ``(o, pos)`` of unit ``o = r * P + p`` is lane ``p`` of bank
    address ``r * HW + pos`` (contract section 5)."""
    hw = layer.out_height * layer.out_width
    unit, pos = np.divmod(np.arange(layer.n_out), hw)
    return ((unit // lanes) * hw + pos) * lanes + unit % lanes


def _ports(manifest: Manifest, target: str) -> str:
    """The port list: declarations, each with its comment after the comma."""
    taken = "start_i" if target == "synth" else "the driver's step"
    outputs = [
        ("output logic        ready_o", f"{taken} is taken in this cycle"),
        ("output logic        done_o", "pulse: spikes_o holds the step"),
        (f"output logic [{manifest.classes - 1}:0] spikes_o", "the last layer's spikes"),
        ("output logic [63:0] cycles_o", "cycles spent on steps since reset"),
    ]
    if target == "synth":
        ports = [
            ("input  wire         clk_i", ""),
            ("input  wire         rst_ni", "asynchronous, active low"),
            ("input  wire         start_i", "run one time step (valid/ready)"),
            ("input  wire         first_step_i", "with start_i: a new sample"),
            (f"input  wire  [{manifest.inputs - 1}:0] spikes_i", ""),
            *outputs,
        ]
    else:
        v = SIM_V_BITS
        # the steps come from the driver (the sim_* ports), not from step inputs
        ports = [
            ("output logic        clk_o", "the clock, generated here"),
            ("input  wire         rst_ni", "asynchronous, active low"),
            *outputs,
            (f"output logic [{len(manifest.layers) - 1}:0] layers_busy_o", ""),
            ("input  wire         sim_reload_i", "read every ROM image again"),
            ("input  wire         sim_run_i", "play sim_steps_i steps of +SIM_STIMULUS"),
            (f"input  wire  [{SIM_RUN_BITS - 1}:0] sim_steps_i", ""),
            ("output logic        sim_done_o", "the run has ended, +SIM_RECORD is flushed"),
        ]
        for i, layer in enumerate(manifest.layers):
            p = f"l{i}_"
            ports += [
                (f"input  wire  [{v - 1}:0] {p}v_th_i", f"layer {layer.name} configuration"),
                (f"input  wire  [{_shift_bits(v) - 1}:0] {p}leak_shift_i", ""),
                (f"input  wire  [{v - 1}:0] {p}v_min_i", ""),
                (f"input  wire  [{v - 1}:0] {p}v_max_i", ""),
                (f"output logic [{layer.n_out - 1}:0] {p}spikes_o", ""),
                (
                    f"output logic [{raw_neurons(layer, manifest.lanes) * v - 1}:0] {p}membranes_o",
                    "after the step, bank address major",
                ),
                *((f"output logic [63:0] {p}{c}_o", "") for c in COUNTERS),
            ]
    lines = []
    for k, (decl, comment) in enumerate(ports):
        comma = "," if k < len(ports) - 1 else ""
        lines.append(f"    {decl}{comma}" + (f"  // {comment}" if comment else ""))
    return "\n".join(lines)


def record_counters(layers: int) -> list[str]:
    """The counters of a record line, most significant first: the top's ``cycles`` and
    each layer's :data:`COUNTERS` (``l<l>_<name>``), 64 bits each."""
    return ["cycles", *(f"l{i}_{c}" for i in range(layers) for c in COUNTERS)]


def _sim_declarations(manifest: Manifest) -> str:
    """The sim top's clock and the state of its step driver and recorder.

    Stimulus word (``+SIM_STIMULUS``, ``$readmemh``): ``{limit, last, first, spikes}``,
    ``limit`` the cycles the step may take (:data:`SIM_LIMIT_BITS`), ``last`` the last
    step of a sample. Record lines (``+SIM_RECORD``), in hexadecimal:

    - ``s <l0 spikes> <l0 membranes> ...``: a step finished, every layer's spikes and
      membranes (the collectors); after a sample's last step also the counters
      (:func:`record_counters`, one number), read in the last layer's done cycle;
    - ``h <busy layers, binary>``: a step not done within its limit; the run ends;
    - ``e <cycles>``: the run ended; the cycles in which its start waited (not ready).
    """
    half = SIM_CLOCK_NS // 2
    snap_bits = 64 * len(record_counters(len(manifest.layers)))
    return f"""
  // ---------------------------------------------------------------------------------
  // Simulation only (docs/microarchitecture.md, section 8): the clock, the ROM reload,
  // a driver that plays a run of steps from +SIM_STIMULUS with start held high (each
  // next step waits, holding its data, while the network is busy) and a recorder that
  // writes every finished step to +SIM_RECORD, so the testbench wakes up once per run.
  logic clk;
  initial clk = 1'b0;
  always #{half} clk = ~clk;
  assign clk_o = clk;

  localparam int STIM_BITS = {SIM_LIMIT_BITS} + 2 + {manifest.inputs};
  logic [STIM_BITS-1:0] stim_mem[{SIM_RUN_STEPS}];
  string stim_path, record_path;
  int record;
  // pres: the step on the network's inputs; fly: the step it works on; rec: the step
  // whose line is written in this cycle (the collectors complete it at the done edge)
  logic running_q, pres_valid_q, pres_first_q, pres_last_q, fly_valid_q, fly_last_q;
  logic rec_valid_q, rec_last_q;
  logic [{manifest.inputs - 1}:0] pres_spikes_q;
  logic [{SIM_LIMIT_BITS - 1}:0] pres_limit_q, fly_limit_q, fly_cycles_q;
  logic [31:0] waits_q;
  logic [{SIM_RUN_BITS - 1}:0] next_q, steps_q;
  logic [{snap_bits - 1}:0] snap_q;
"""


def _sim_driver(manifest: Manifest) -> str:
    """The sim top's ROM reload, step driver and recorder, after the cores they use."""
    layers = manifest.layers
    n = len(layers)
    last = f"l{n - 1}_done"
    addr = SIM_RUN_BITS - 1
    snap = ", ".join(["cycles_q", *(f"l{i}_{c}" for i in range(n) for c in COUNTERS)])
    fields = " ".join(["s", *(["%h %h"] * n)])
    values = ", ".join(f"l{i}_spikes, l{i}_membranes_o" for i in range(n))
    reloads = "".join(
        f"      u_{layer.name}.{rom}.reload();\n"
        for layer in layers
        for rom in (*ROM_INSTANCES, *((BIAS_INSTANCE,) if layer.bias_bits else ()))
    )
    return f"""
  // ---------------------------------------------------------------------------------
  // Simulation only: ROM reload, step driver and recorder (see the declarations above)
  always @(posedge clk) begin : reload_roms
    if (sim_reload_i) begin
{reloads}    end
  end

  initial begin : open_record
    if ($value$plusargs("SIM_STIMULUS=%s", stim_path) == 0
        || $value$plusargs("SIM_RECORD=%s", record_path) == 0) begin
      $fatal(1, "%m: +SIM_STIMULUS=<path> and +SIM_RECORD=<path> are required");
    end
    record = $fopen(record_path, "w");
    if (record == 0) begin
      $fatal(1, "%m: cannot write %s", record_path);
    end
  end

  always @(posedge clk or negedge rst_ni) begin : driver
    if (!rst_ni) begin
      running_q <= 1'b0;
      pres_valid_q <= 1'b0;
      fly_valid_q <= 1'b0;
      rec_valid_q <= 1'b0;
      sim_done_o <= 1'b0;
    end else begin
      if (rec_valid_q) begin
        if (rec_last_q) begin
          $fwrite(record, "{fields} %h\\n", {values}, snap_q);
        end else begin
          $fwrite(record, "{fields}\\n", {values});
        end
        rec_valid_q <= 1'b0;
      end
      if ({last}) begin
        rec_valid_q <= 1'b1;
        rec_last_q <= fly_last_q;
        snap_q <= {{{snap}}};
      end
      if (pres_valid_q && !ready_o) begin
        waits_q <= waits_q + 32'd1;
      end
      if (sim_run_i && !running_q) begin
        running_q <= 1'b1;
        sim_done_o <= 1'b0;
        steps_q <= sim_steps_i;
        waits_q <= '0;
        if (sim_steps_i != '0) begin
          $readmemh(stim_path, stim_mem, 0, sim_steps_i - 1'b1);
          {{pres_limit_q, pres_last_q, pres_first_q, pres_spikes_q}} <= stim_mem[0];
          pres_valid_q <= 1'b1;
          next_q <= {SIM_RUN_BITS}'d1;
        end
      end else if (accept) begin
        fly_valid_q <= 1'b1;
        fly_last_q <= pres_last_q;
        fly_limit_q <= pres_limit_q;
        fly_cycles_q <= {SIM_LIMIT_BITS}'d1;
        if (next_q < steps_q) begin
          {{pres_limit_q, pres_last_q, pres_first_q, pres_spikes_q}} <=
              stim_mem[next_q[{addr - 1}:0]];
          next_q <= next_q + 1'b1;
        end else begin
          pres_valid_q <= 1'b0;
        end
      end else if ({last}) begin
        fly_valid_q <= 1'b0;
      end else if (fly_valid_q && fly_cycles_q >= fly_limit_q) begin
        $fwrite(record, "h %b\\n", ~layer_ready);
        $fflush(record);
        running_q <= 1'b0;
        pres_valid_q <= 1'b0;
        fly_valid_q <= 1'b0;
        sim_done_o <= 1'b1;
      end else if (fly_valid_q) begin
        fly_cycles_q <= fly_cycles_q + 1'b1;
      end else if (running_q && !pres_valid_q && !rec_valid_q) begin
        $fwrite(record, "e %0d\\n", waits_q);
        $fflush(record);
        running_q <= 1'b0;
        sim_done_o <= 1'b1;
      end
    end
  end
"""


def render_top(manifest: Manifest, target: str) -> str:
    """SystemVerilog text of the network top of ``manifest`` for ``target``.

    Layers run one after another within a step: a layer's done starts the next one
    with its spikes. ``ready_o`` is high while every layer is idle (also in the done
    cycle), so a start held high runs steps back to back. ``cycles_o`` counts each
    step from its accept cycle to the cycle before the last layer's done: the sum of
    the layers' cycles (docs/microarchitecture.md, section 5).
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of: {', '.join(TARGETS)}")
    layers = manifest.layers
    n = len(layers)
    last = f"l{n - 1}_done"
    sim = target == "sim"
    clock = _clock(target)
    params = ""
    if target == "synth":
        names = []
        for i, layer in enumerate(layers):
            names += [
                f'    parameter L{i}_PTR_FILE = "{layer.ptr.file}"',
                f'    parameter L{i}_WEIGHTS_FILE = "{layer.weights.file}"',
            ]
            if layer.bias is not None:
                names.append(f'    parameter L{i}_BIAS_FILE = "{layer.bias.file}"')
        params = " #(\n    // ROM images ($readmemh) of each layer\n" + ",\n".join(names) + "\n)"
    port_text = _ports(manifest, target)
    busy = "\n  assign layers_busy_o = ~layer_ready;\n" if sim else ""
    start, first = ("pres_valid_q", "pres_first_q") if sim else ("start_i", "first_step_i")
    cores = "".join(_core(i, layer, manifest.lanes, target) for i, layer in enumerate(layers))
    what = (
        "simulation: shapes only, configuration by ports, ROMs by plusarg"
        if sim
        else "synthesis: ROM images by $readmemh, configuration constant"
    )
    return f"""// Generated by sdsnn_hw.rtl_top from an export manifest: edit the generator.
// Target {what}.
// Layers run one after another within a time step (docs/microarchitecture.md).
`default_nettype none

module {TOP_MODULE}{params} (
{port_text}
);
  logic busy_q, busy_d, first_q, first_d, accept;
  logic [63:0] cycles_q, cycles_d;
  logic [{n - 1}:0] layer_ready;
{_sim_declarations(manifest) if sim else ""}
  assign ready_o = (!busy_q || {last}) && (&layer_ready);
  assign accept = {start} && ready_o;
  assign done_o = {last};
  assign spikes_o = l{n - 1}_spikes;
  assign cycles_o = cycles_q;
{busy}
  always_comb begin
    busy_d = busy_q;
    first_d = first_q;
    cycles_d = cycles_q;
    if (accept) begin
      busy_d = 1'b1;
      first_d = {first};
    end else if ({last}) begin
      busy_d = 1'b0;
    end
    if (accept || (busy_q && !{last})) begin
      cycles_d = cycles_q + 64'd1;
    end
  end

  always_ff @(posedge {clock} or negedge rst_ni) begin
    if (!rst_ni) begin
      busy_q <= 1'b0;
      first_q <= 1'b0;
      cycles_q <= '0;
    end else begin
      busy_q <= busy_d;
      first_q <= first_d;
      cycles_q <= cycles_d;
    end
  end
{cores}{_sim_driver(manifest) if sim else ""}endmodule

`default_nettype wire
"""
