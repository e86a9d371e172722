"""The HLS core's configuration header (``sdsnn_config.h``), generated from a manifest.

The C++ in ``hls/`` is templates over one configuration struct per layer, in the
style of hls4ml; this module derives those structs from an export's manifest and
writes them with the list ``SDSNN_LAYERS(X)`` the network top expands. Two targets,
as for the RTL top (:mod:`sdsnn_hw.rtl_top`):

- ``synth``: the export's own widths and memory depths, what Vitis HLS synthesizes.
- ``sim``: the widest a layer of its shape, lanes, layout, weight and bias widths can
  need (32-bit membranes, a current that holds every weight at its largest, a word per
  unit row of every input unit, per tap in ``tap_list``), so one C simulation build
  serves every export of that shape, as the random regression needs.

Neuron thresholds, leaks and membrane ranges are never in the header: they are
runtime parameters of the core (s_axilite registers), so they do not split builds.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from hls import HLS_DIR
from sdsnn_hw.layouts import REGISTRY, addr_bits_for, bank_depth, slot_bits_for, tap_bits_for
from sdsnn_hw.manifest import LayerSpec, Manifest, ManifestError
from sdsnn_hw.netspec import CONV
from sdsnn_hw.neuron import signed_bits_for, unsigned_bits_for

TARGETS = ("synth", "sim")
SIM_V_BITS = 32
"""Membrane width of a ``sim`` build: the contract's widest; narrower layers saturate
through their runtime ``v_min``/``v_max``, so the arithmetic equals the narrow one."""
AP_INT_DEFAULT_MAX_W = 1024
"""Widest ap_uint the Xilinx headers allow unless ``AP_INT_MAX_W`` is raised."""
CONFIG_NAME = "sdsnn_config.h"
LAYOUT_HEADER = "sdsnn_layouts.h"


class HlsConfigError(ManifestError):
    """An export the HLS core cannot be configured for."""


@dataclass(frozen=True)
class HlsLayerConfig:
    """The compile-time parameters of one layer (the C++ names in upper case).

    Attributes:
        name: memory file prefix.
        kind: ``fc`` or ``conv``.
        layout: a layout of :data:`sdsnn_hw.layouts.REGISTRY` (a decoder struct of the
            same name in ``hls/sdsnn_layouts.h``).
        lanes: P.
        in_c, in_h, in_w, pool: the input map before pooling and the AP<k>.
        units_in: pointer entries - 1 (fc: pooled inputs, conv: input channels).
        n_raw: input spikes, ``in_c * in_h * in_w``.
        out_c, out_h, out_w, n_out: the output map (fc: ``n_out x 1 x 1``) and its size.
        kernel: K (1 for fc).
        rows, depth: unit rows per bank and bank depth D.
        w_bits, tap_bits, kernel_bits, addr_bits, slot_bits, word_bits: weight memory
            fields: a slot is ``addr_bits`` of bank row above ``kernel_bits`` (a kernel of
            ``kernel**2`` weights, or in ``tap_list`` a ``tap_bits`` tap index above one
            weight).
        b_bits, bias_depth: bias width (0: none) and bias memory words (1 without).
        v_bits, acc_bits, sum_bits: membrane, current and update-sum widths.
        ptr_bits, wrom_depth: pointer width and weight memory words.
    """

    name: str
    kind: str
    layout: str
    lanes: int
    in_c: int
    in_h: int
    in_w: int
    pool: int
    units_in: int
    n_raw: int
    out_c: int
    out_h: int
    out_w: int
    n_out: int
    kernel: int
    rows: int
    depth: int
    w_bits: int
    tap_bits: int
    kernel_bits: int
    addr_bits: int
    slot_bits: int
    word_bits: int
    b_bits: int
    bias_depth: int
    v_bits: int
    acc_bits: int
    sum_bits: int
    ptr_bits: int
    wrom_depth: int

    @property
    def function(self) -> str:
        """The layer template of its kind (``hls/sdsnn_fc.h``, ``hls/sdsnn_conv.h``)."""
        return "conv_layer" if self.kind == CONV else "fc_layer"


@dataclass(frozen=True)
class HlsConfig:
    """A whole network's configuration: inputs, classes and every layer's."""

    target: str
    inputs: int
    classes: int
    layers: tuple[HlsLayerConfig, ...]

    def as_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))

    def differences(self, built: dict) -> list[str]:
        """Fields where ``built`` (a configuration a library reports) differs from this
        one, as ``field: this, built`` lines."""
        mine = self.as_dict()
        lines = [
            f"{key} is {mine[key]}, the build's {built.get(key)}"
            for key in ("target", "inputs", "classes")
            if mine[key] != built.get(key)
        ]
        theirs = built.get("layers") or []
        if len(theirs) != len(self.layers):
            return [*lines, f"{len(self.layers)} layers, the build has {len(theirs)}"]
        for i, (layer, other) in enumerate(zip(mine["layers"], theirs, strict=True)):
            lines += [
                f"layers[{i}].{key} is {value}, the build's {other.get(key)}"
                for key, value in layer.items()
                if other.get(key) != value
            ]
        return lines


def layer_config(layer: LayerSpec, lanes: int, target: str) -> HlsLayerConfig:
    """The configuration of one manifest layer for ``target`` (see the module doc).

    Raises:
        HlsConfigError: on an unknown target or layout, or a weight memory whose width
            does not fit the layer's layout.
    """
    if target not in TARGETS:
        raise HlsConfigError(f"unknown target {target!r}; expected one of: {', '.join(TARGETS)}")
    if layer.layout not in REGISTRY:
        raise HlsConfigError(f"layer {layer.name}: unknown layout {layer.layout!r}")
    shape = layer.shape
    out_c, out_h, out_w = shape.out_shape
    rows = bank_depth(out_c, lanes)
    entry = REGISTRY[layer.layout]
    addr_bits = addr_bits_for(rows) if entry.addressed else 0
    slot_bits = slot_bits_for(layer.layout, layer.weight_bits, rows, layer.taps)
    if layer.weights.width != lanes * slot_bits:
        raise HlsConfigError(
            f"layer {layer.name}: weight words are {layer.weights.width} bits, the "
            f"{layer.layout} layout with {lanes} lanes needs {lanes * slot_bits}"
        )
    units_in = layer.in_channels if layer.kind == CONV else layer.n_in
    if target == "synth":
        v_bits, acc_bits, wrom_depth = layer.v_bits, layer.acc_bits, layer.weights.depth
        ptr_bits = layer.ptr.width
    else:
        bias = (1 << (layer.bias_bits - 1)) - 1 if layer.bias_bits else 0
        limit = layer.pool**2 * shape.fan_in * ((1 << (layer.weight_bits - 1)) - 1) + bias
        v_bits = SIM_V_BITS
        acc_bits = max(layer.weight_bits, signed_bits_for(-limit, limit))
        # a word per unit row of every input unit (tap_list: per row and tap)
        wrom_depth = units_in * rows * (layer.taps if entry.per_tap else 1)
        ptr_bits = unsigned_bits_for(wrom_depth)
    return HlsLayerConfig(
        name=layer.name,
        kind=layer.kind,
        layout=layer.layout,
        lanes=lanes,
        in_c=layer.in_channels,
        in_h=layer.in_height,
        in_w=layer.in_width,
        pool=layer.pool,
        units_in=units_in,
        n_raw=layer.in_channels * layer.in_height * layer.in_width,
        out_c=out_c,
        out_h=out_h,
        out_w=out_w,
        n_out=out_c * out_h * out_w,
        kernel=shape.kernel,
        rows=rows,
        depth=rows * out_h * out_w,
        w_bits=layer.weight_bits,
        tap_bits=tap_bits_for(layer.taps) if entry.per_tap else 0,
        kernel_bits=slot_bits - addr_bits,
        addr_bits=addr_bits,
        slot_bits=slot_bits,
        word_bits=lanes * slot_bits,
        b_bits=layer.bias_bits,
        bias_depth=out_c if layer.bias_bits else 1,
        v_bits=v_bits,
        acc_bits=acc_bits,
        sum_bits=max(v_bits, acc_bits) + 1,
        ptr_bits=ptr_bits,
        wrom_depth=wrom_depth,
    )


def network_config(manifest: Manifest, target: str = "synth") -> HlsConfig:
    """The configuration of every layer of ``manifest`` for ``target``."""
    layers = tuple(layer_config(layer, manifest.lanes, target) for layer in manifest.layers)
    return HlsConfig(target, manifest.inputs, manifest.classes, layers)


def missing_decoders(config: HlsConfig) -> list[str]:
    """Layouts of ``config`` with no decoder struct in ``hls/sdsnn_layouts.h``."""
    text = (HLS_DIR / LAYOUT_HEADER).read_text()
    return sorted({x.layout for x in config.layers if f"struct {x.layout} " not in text})


_SKIPPED = {"name", "kind", "layout"}


def render_config(config: HlsConfig, source: str) -> str:
    """The text of ``sdsnn_config.h`` for ``config``; ``source`` names where it came from."""
    widest = max(layer.word_bits for layer in config.layers)
    lines = [
        f"// Generated by sdsnn-hw from {source} (target {config.target}); do not edit.",
        "#ifndef SDSNN_CONFIG_H",
        "#define SDSNN_CONFIG_H",
        "",
    ]
    if widest > AP_INT_DEFAULT_MAX_W:
        lines += [f"#define AP_INT_MAX_W {-(-widest // 1024) * 1024}", ""]
    json_text = config.to_json().replace("\\", "\\\\").replace('"', '\\"')
    lines += [
        '#include "sdsnn_conv.h"',
        '#include "sdsnn_fc.h"',
        "",
        f"#define SDSNN_INPUTS {config.inputs}",
        f"#define SDSNN_CLASSES {config.classes}",
        f"#define SDSNN_LAYER_COUNT {len(config.layers)}",
        f'#define SDSNN_CONFIG_JSON "{json_text}"',
        "",
    ]
    for layer in config.layers:
        base = "conv_config" if layer.kind == CONV else "fc_config"
        lines += [
            f"struct {layer.name}_config : sdsnn::{base} {{",
            f"    typedef sdsnn::layouts::{layer.layout} layout;",
            f"    static const unsigned KIND = sdsnn::KIND_{layer.kind.upper()};",
        ]
        lines += [
            f"    static const unsigned {f.name.upper()} = {getattr(layer, f.name)};"
            for f in fields(layer)
            if f.name not in _SKIPPED
        ]
        lines += [
            "    typedef ap_uint<PTR_BITS> ptr_t;",
            "    typedef ap_uint<WORD_BITS> word_t;",
            "    typedef ap_uint<SLOT_BITS> slot_t;",
            f"    typedef ap_int<{max(layer.b_bits, 2)}> bias_t;",
            "    typedef ap_int<ACC_BITS> acc_t;",
            "    typedef ap_int<V_BITS> v_t;",
            "};",
            "",
        ]
    inputs = ["spikes_in"] + [f"l{i}_spikes" for i in range(len(config.layers) - 1)]
    entries = " ".join(
        f"X({i}, {layer.name}_config, {layer.function}, {inputs[i]})"
        for i, layer in enumerate(config.layers)
    )
    lines += [f"#define SDSNN_LAYERS(X) {entries}", "", "#endif", ""]
    return "\n".join(lines)
