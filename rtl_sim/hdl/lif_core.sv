// P-lane event-driven layer of integer LIF neurons: fully connected (CONV = 0) or a
// K x K 'same' convolution (CONV = 1), either one behind an optional AP<POOL>.
//
// See docs/microarchitecture.md for the pipeline, banking, hazards and the exact
// cycle count; numerics follow docs/hardware-contract.md, sections 3 and 5.
//
// Output unit o (an fc neuron, a conv output channel) lives in bank o % LANES at unit
// row o / LANES; neuron (o, y, x) of a conv map at bank address (o / LANES) * H * W +
// y * W + x. One time step:
//   accept  start_i while ready_o: the spike queue latches spikes_i and hands out
//           only the events of inputs whose unit owns weight words; behind AP<k>
//           every spike of a window is its own event
//   stream  the spike queue pops one event per cycle, the pointer ROM gives its unit's
//           word range, and one weight-ROM word per cycle is read; fc: its LANES slots
//           add into the LANES accumulator banks; conv: the word is held for one cycle
//           per kernel tap that lands inside the map, each adding that tap of LANES
//           kernels (read-modify-write, last write forwarded)
//   update  DEPTH cycles, LANES neurons each: read accumulator and membrane, update,
//           write the membrane back, restart the accumulator at the unit's bias, stream
//           out, set spikes_o
//   done_o  one-cycle pulse: spikes_o holds the step's output spikes
// After reset a clear pass zeroes the membranes, sets the accumulators to the biases
// and scans the pointer ROM (ready_o low).
`default_nettype none

module lif_core #(
    parameter int CONV = 0,             // 0: fc, 1: conv ('same' padding, stride 1)
    parameter int IN_C = 8,             // input map channels (fc without pooling: inputs)
    parameter int IN_H = 1,             // input map rows and columns, before pooling
    parameter int IN_W = 1,
    parameter int POOL = 1,             // the k of the AP<k> folded into the input
    parameter int OUT_C = 8,            // output units: fc neurons, conv output channels
    parameter int K = 1,                // kernel size (odd); 1 for fc
    parameter int LANES = 2,            // synapse and neuron lanes P: 1, 2, 4 or 8
    parameter int MAP_IN = 0,           // 0: the input map on spikes_i; 1: written into
                                        // block RAM by the producer's update stream
                                        // (map_*_i), spikes_i unused
    parameter int LAYOUT = 0,           // 0 dense_rows / dense_kernels, 1 csr_fanout /
                                        // kernel_list, 2 tap_list (conv)
    parameter int W_BITS = 8,           // weight field width (two's complement)
    parameter int V_BITS = 16,          // stored membrane width (v_min_i/v_max_i may be narrower)
    parameter int ACC_BITS = 16,        // step current plus bias width, never overflows
    parameter int B_BITS = 0,           // bias width; 0: no bias
    parameter int WROM_DEPTH = 1,       // weight ROM words
    parameter int PTR_BITS = 1,         // pointer ROM word width (holds WROM word counts)
    parameter PTR_FILE = "",            // pointer ROM image (input units + 1 words)
    parameter WROM_FILE = "",           // weight ROM image (WROM_DEPTH words)
    parameter BIAS_FILE = "",           // bias image (OUT_C words of B_BITS)
    parameter PTR_PLUSARG = "",         // simulation: +<PTR_PLUSARG>=<path> overrides PTR_FILE
    parameter WROM_PLUSARG = "",        // simulation: +<WROM_PLUSARG>=<path> overrides WROM_FILE
    parameter BIAS_PLUSARG = "",        // simulation: +<BIAS_PLUSARG>=<path> overrides BIAS_FILE
    // derived, do not override
    parameter int H = IN_H / POOL,                    // map rows and columns after pooling
    parameter int W = IN_W / POOL,
    parameter int HW = (CONV != 0) ? H * W : 1,       // neurons per output unit
    parameter int N_IN = IN_C * IN_H * IN_W,          // input spikes (the map before pooling)
    parameter int N_OUT = OUT_C * HW,                 // output neurons
    parameter int DEPTH = (OUT_C + LANES - 1) / LANES * HW,  // bank depth
    parameter int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1,      // bank address width
    parameter int MAP_DEPTH = (IN_C + LANES - 1) / LANES * IN_H * IN_W,  // producer's
    parameter int MAW = (MAP_DEPTH > 1) ? $clog2(MAP_DEPTH) : 1         // bank depth
) (
    input  wire                             clk_i,
    input  wire                             rst_ni,           // asynchronous, active low
    // layer configuration, held constant while the core runs
    input  wire signed [        V_BITS-1:0] v_th_i,
    input  wire        [$clog2(V_BITS)-1:0] leak_shift_i,
    input  wire signed [        V_BITS-1:0] v_min_i,          // membrane saturation bounds
    input  wire signed [        V_BITS-1:0] v_max_i,
    // step handshake: start_i, spikes_i and first_step_i are taken when ready_o is high
    input  wire                             start_i,
    input  wire                             first_step_i,     // new sample: membranes from 0
    input  wire        [          N_IN-1:0] spikes_i,         // the input map in C order
    // MAP_IN = 1: the producer's update stream (same LANES), one beat per bank address
    input  wire                             map_valid_i,
    input  wire        [           MAW-1:0] map_addr_i,
    input  wire        [         LANES-1:0] map_spikes_i,
    output logic                            ready_o,
    output logic                            done_o,           // pulse: spikes_o complete
    output logic       [         N_OUT-1:0] spikes_o,         // the output map in C order
    // update stream: one beat per bank address in every step
    output logic                            upd_valid_o,
    output logic       [            AW-1:0] upd_addr_o,       // bank address a, lanes p
    output logic       [         LANES-1:0] upd_spikes_o,
    output logic       [  LANES*V_BITS-1:0] upd_membranes_o,  // lane p at [p*V_BITS +: V_BITS]
    // activity counters since reset (docs/microarchitecture.md)
    output logic       [              63:0] cycles_o,
    output logic       [              63:0] synops_o,
    output logic       [              63:0] ptr_reads_o,
    output logic       [              63:0] wrom_reads_o,
    output logic       [              63:0] acc_reads_o,
    output logic       [              63:0] acc_writes_o,
    output logic       [              63:0] mem_reads_o,
    output logic       [              63:0] mem_writes_o
);
  localparam int ROWS = (OUT_C + LANES - 1) / LANES;     // unit rows R per bank
  localparam int RB = (ROWS > 1) ? $clog2(ROWS) : 1;     // unit row width (slot address)
  localparam int UNITS_IN = (CONV != 0) ? IN_C : IN_C * H * W;  // pointer ROM units
  localparam int TAPS = K * K;
  localparam int PAD = K / 2;
  // An event's position {y, x} in the pooled map (spike_queue's pos_o; conv only)
  localparam int HB = (CONV != 0 && H > 1) ? $clog2(H) : 0;
  localparam int WB = (CONV != 0 && W > 1) ? $clog2(W) : 0;
  localparam int HP = 1 << HB;
  localparam int WP = 1 << WB;
  localparam int TAGW = HB + WB + 1;
  localparam int JW = $clog2(UNITS_IN + 1);               // pointer ROM address width
  localparam int TW = (TAPS > 1) ? $clog2(TAPS) : 1;     // tap index width (tap_list)
  localparam int SLOT_BITS = (LAYOUT == 2) ? RB + TW + W_BITS
                           : ((LAYOUT == 1) ? RB : 0) + TAPS * W_BITS;
  localparam int WORD_BITS = LANES * SLOT_BITS;
  localparam int WAW = (WROM_DEPTH > 1) ? $clog2(WROM_DEPTH) : 1;
  localparam int CLR_CYCLES = (DEPTH + 1 > UNITS_IN + 2) ? DEPTH + 1 : UNITS_IN + 2;
  localparam int CW = $clog2(CLR_CYCLES + 1);
  localparam int LW = $clog2(LANES + 1);                  // lane count width
  localparam int PW = (HW > 1) ? $clog2(HW) : 1;          // position within a unit
  // the spike queue holds pending_o one stage longer for conv (the tap stage), so a
  // step without events costs the same overhead as one with
  localparam int HOLD = (CONV != 0) ? 6 : 5;

  initial begin : check_parameters
    if (LANES != 1 && LANES != 2 && LANES != 4 && LANES != 8) begin
      $fatal(1, "%m: LANES must be 1, 2, 4 or 8");
    end
    if (LAYOUT < 0 || LAYOUT > 2 || (LAYOUT == 2 && CONV == 0)) begin
      $fatal(1, "%m: LAYOUT must be 0 (dense), 1 (list) or, for conv, 2 (tap list)");
    end
    if (IN_C < 1 || OUT_C < 1 || IN_H < 1 || IN_W < 1 || POOL < 1) begin
      $fatal(1, "%m: IN_C, OUT_C, IN_H, IN_W and POOL must be at least 1");
    end
    if (IN_H % POOL != 0 || IN_W % POOL != 0) begin
      $fatal(1, "%m: POOL must divide IN_H and IN_W");
    end
    if (K % 2 != 1 || (CONV == 0 && K != 1)) begin
      $fatal(1, "%m: K must be odd, and 1 for fc");
    end
    if (ACC_BITS < W_BITS) begin
      $fatal(1, "%m: ACC_BITS must be at least W_BITS");
    end
    if (WAW > PTR_BITS) begin
      $fatal(1, "%m: PTR_BITS must hold every weight ROM address");
    end
  end

  typedef enum logic [2:0] {
    S_CLEAR,  // after reset: zero the RAMs, scan the pointer ROM
    S_IDLE,   // ready for a step
    S_ACC,    // stream the weight words of the events
    S_UPD,    // read accumulators and membranes, DEPTH cycles
    S_FIN     // last update write
  } state_e;

  // ---------------------------------------------------------------------------------
  // Control registers
  state_e state_q, state_d, state_next;  // state_next: without this cycle's accept
  logic [CW-1:0] clr_q, clr_d;            // clear pass cycle
  logic scan_q, scan_d;                   // the next unit's pointer words arrive
  logic [UNITS_IN-1:0] nonempty_q, nonempty_d;  // units with at least one weight word
  logic [UNITS_IN-1:0] single_q, single_d;      // units with exactly one weight word
  logic [UNITS_IN-1:0] pair_q, pair_d;          // units with exactly two weight words
  logic scan2_q;                            // ... and are in scan_lo_q, scan_hi_q
  logic [PTR_BITS-1:0] scan_lo_q, scan_hi_q;
  logic ptr_single_q, ptr_single_d;       // the pointer ROM output range has one word
  logic ptr_pair_q, ptr_pair_d;           // ... two words
  logic [TAGW-1:0] ptr_tag_q, ptr_tag_d;  // ... and belongs to this event position
  logic last_act_q, last_act_d;           // the next word of the range is its last
  logic fresh_q, fresh_d;                 // the range's next word is addr_q, not addr_q + 1
  logic first_q, first_d;
  logic ptrv_q, ptrv_d;                   // pointer ROM output holds an unused range
  logic act_q, act_d;                     // streaming a range
  logic [PTR_BITS-1:0] addr_q, addr_d, end_q, end_d;
  logic [RB-1:0] row_q, row_d;            // word index within the unit (dense layouts)
  logic [TAGW-1:0] act_tag_q, act_tag_d;
  logic rom_valid_q, rom_valid_d;         // the weight word is at the ROM output
  logic [RB-1:0] rom_row_q, rom_row_d;
  logic [TAGW-1:0] rom_tag_q, rom_tag_d;
  logic s0_valid_q, s0_valid_d;           // ... and in word_q
  logic [RB-1:0] s0_row_q, s0_row_d;
  logic [AW-1:0] uaddr_q, uaddr_d;        // clear and update pass address
  logic [RB-1:0] urow_q, urow_d;          // ... its unit row
  logic [PW-1:0] upos_q, upos_d;          // ... and its position within the unit
  logic u2_valid_q, u2_valid_d;           // update operands arrive
  logic clear2_q, clear2_d;               // the clear pass writes u2_addr_q
  logic [AW-1:0] u2_addr_q, u2_addr_d;
  logic [LANES-1:0][DEPTH-1:0] fired_q;  // the step's spikes, per lane
  logic done_q, done_d;
  logic upd_valid_q, upd_valid_d;
  logic [AW-1:0] upd_addr_q, upd_addr_d;
  logic [LANES-1:0] upd_spikes_q, upd_spikes_d;
  logic [LANES*V_BITS-1:0] upd_mem_q, upd_mem_d;
  logic [63:0] cycles_q, cycles_d, synops_q, synops_d, ptr_reads_q, ptr_reads_d;
  logic [63:0] wrom_reads_q, wrom_reads_d, acc_reads_q, acc_reads_d;
  logic [63:0] acc_writes_q, acc_writes_d, mem_reads_q, mem_reads_d;
  logic [63:0] mem_writes_q, mem_writes_d;

  // Per-lane pipeline registers
  logic [LANES-1:0] s2_en_q, s2_en_d;                 // accumulate stage 2 active
  logic [AW-1:0] s2_addr_q[LANES], s2_addr_d[LANES];
  logic signed [W_BITS-1:0] s2_w_q[LANES], s2_w_d[LANES];

  // ---------------------------------------------------------------------------------
  // Spike queue and pointer ROM (two read ports: ptr[j] and ptr[j + 1])
  logic accept;
  logic q_valid, q_pop, q_pending;
  logic [1:0] q_marks;  // {pair, single} of the head unit
  logic [TAGW-1:0] q_tag;  // the head event's position
  logic ptr_en;
  logic [JW-1:0] ptr_addr_lo, ptr_addr_hi, q_unit;
  logic [PTR_BITS-1:0] ptr_lo, ptr_hi;

  // HOLD: a step with words idles once the last word has left the pipeline ahead of
  // the accumulator read; a step without any idles as late, so that every step costs
  // the same overhead (docs/microarchitecture.md, section 5)
  if (MAP_IN != 0) begin : g_map_queue
    logic unused_spikes;  // the map arrives on map_*_i
    assign unused_spikes = ^spikes_i;
    map_queue #(
        .CONV (CONV),
        .IN_C (IN_C),
        .IN_H (IN_H),
        .IN_W (IN_W),
        .POOL (POOL),
        .LANES(LANES),
        .M    (2),
        .HOLD (HOLD)
    ) u_queue (
        .clk_i      (clk_i),
        .rst_ni     (rst_ni),
        .wr_valid_i (map_valid_i),
        .wr_addr_i  (map_addr_i),
        .wr_spikes_i(map_spikes_i),
        .load_i     (accept),
        .mask_i     (nonempty_q),
        .marks_i    ({pair_q, single_q}),
        .pop_i      (q_pop),
        .valid_o    (q_valid),
        .unit_o     (q_unit),
        .pos_o      (q_tag),
        .marks_o    (q_marks),
        .pending_o  (q_pending)
    );
  end else begin : g_spike_queue
    logic unused_map;  // the map arrives on spikes_i
    assign unused_map = ^{map_valid_i, map_addr_i, map_spikes_i};
    spike_queue #(
        .CONV(CONV),
        .IN_C(IN_C),
        .IN_H(IN_H),
        .IN_W(IN_W),
        .POOL(POOL),
        .M   (2),
        .HOLD(HOLD)
    ) u_queue (
        .clk_i    (clk_i),
        .rst_ni   (rst_ni),
        .load_i   (accept),
        .spikes_i (spikes_i),
        .mask_i   (nonempty_q),
        .marks_i  ({pair_q, single_q}),
        .pop_i    (q_pop),
        .valid_o  (q_valid),
        .unit_o   (q_unit),
        .pos_o    (q_tag),
        .marks_o  (q_marks),
        .pending_o(q_pending)
    );
  end

  weight_rom #(
      .WIDTH  (PTR_BITS),
      .DEPTH  (UNITS_IN + 1),
      .FILE   (PTR_FILE),
      .PLUSARG(PTR_PLUSARG),
      .BLOCK  (1'b0)
  ) u_ptr_lo (
      .clk_i  (clk_i),
      .en_i   (ptr_en),
      .addr_i (ptr_addr_lo),
      .rdata_o(ptr_lo)
  );

  weight_rom #(
      .WIDTH  (PTR_BITS),
      .DEPTH  (UNITS_IN + 1),
      .FILE   (PTR_FILE),
      .PLUSARG(PTR_PLUSARG),
      .BLOCK  (1'b0)
  ) u_ptr_hi (
      .clk_i  (clk_i),
      .en_i   (ptr_en),
      .addr_i (ptr_addr_hi),
      .rdata_o(ptr_hi)
  );

  // ---------------------------------------------------------------------------------
  // Word issue: the current range, or straight from the pointer ROM output. While the
  // tap stage holds a conv word for its next tap (stall), everything before it waits.
  logic issue, last, ptr_take, idle, next_last, stall, drained;
  logic [PTR_BITS-1:0] cur_addr, cur_end;
  logic [RB-1:0] cur_row;
  logic [TAGW-1:0] cur_tag;
  logic [WORD_BITS-1:0] word, word_q;

  always_comb begin
    // addr_q is the word issued last (or, fresh, the next one), so that neither the
    // range start nor its end passes through an adder after the pointer block RAM
    cur_addr = !act_q ? ptr_lo : fresh_q ? addr_q : addr_q + 1'b1;
    cur_end = act_q ? end_q : ptr_hi;
    cur_row = act_q ? row_q : '0;
    cur_tag = act_q ? act_tag_q : ptr_tag_q;
    issue = (state_q == S_ACC) && (act_q || ptrv_q) && !stall;
    last = act_q ? last_act_q : ptr_single_q;
    // after issuing cur_addr (not the last word): is cur_addr + 1 the last one?
    // from the pointer ROM output it is a mark, so no adder follows the block RAM
    next_last = !act_q ? ptr_pair_q
              : (PTR_BITS + 1)'(addr_q) + (fresh_q ? (PTR_BITS + 1)'(2) : (PTR_BITS + 1)'(3))
                == (PTR_BITS + 1)'(end_q);
    ptr_take = issue && (!act_q || (last && ptrv_q));
    q_pop = (state_q == S_ACC) && q_valid && (!ptrv_q || ptr_take);
    idle = (state_q == S_ACC) && !act_q && !ptrv_q && !q_pending && !rom_valid_q && drained;
  end

  weight_rom #(
      .WIDTH  (WORD_BITS),
      .DEPTH  (WROM_DEPTH),
      .FILE   (WROM_FILE),
      .PLUSARG(WROM_PLUSARG)
  ) u_wrom (
      .clk_i  (clk_i),
      .en_i   (issue),
      .addr_i (cur_addr[WAW-1:0]),
      .rdata_o(word)
  );

  // ---------------------------------------------------------------------------------
  // Stage 1, the accumulator read: LANES (address, weight) pairs, straight from the
  // weight word (fc) or from the tap stage (conv)
  logic s1_valid;
  logic [AW-1:0] s1_addr[LANES];
  logic signed [W_BITS-1:0] s1_w[LANES];

  if (CONV == 0) begin : g_fc
    assign s1_valid = s0_valid_q;
    assign stall = 1'b0;
    assign drained = 1'b1;  // the last word is in stage 1 when rom_valid_q falls
    for (genvar p = 0; p < LANES; p++) begin : g_lane
      assign s1_w[p] = word_q[p*SLOT_BITS+:W_BITS];
      if (LAYOUT == 1) begin : g_list
        assign s1_addr[p] = word_q[p*SLOT_BITS+W_BITS+:AW];
      end else begin : g_dense
        assign s1_addr[p] = s0_row_q;
      end
    end
    logic unused_tag;  // an fc event has no position
    assign unused_tag = ^rom_tag_q;
  end else begin : g_conv
    // Stage 0 (word_q): each lane's base address, from its unit row and the event's
    // position. The tap stage then subtracts the tap's offset dy * W + dx:
    //   target (y + PAD - dy, x + PAD - dx) = base - (dy * W + dx),
    //   base = row * H * W + y * W + x + PAD * W + PAD.
    localparam int BW = $clog2(DEPTH + PAD * W + PAD + 1);  // base width
    localparam int KW = (K > 1) ? $clog2(K) : 1;  // a kernel row or column
    localparam int OW = $clog2((K - 1) * W + K + 1);         // tap offset width

    // row * H * W as a sum of shifted constants: a few adders, not a multiplier
    function automatic logic [BW-1:0] row_base(input logic [RB-1:0] row);
      row_base = '0;
      for (int b = 0; b < RB; b++) begin
        if (row[b]) begin
          row_base = row_base + BW'(HW << b);
        end
      end
    endfunction

    // position of the event in the ROM stage, and the taps inside the map
    logic [KW-1:0] dy_lo, dy_hi, dx_lo, dx_hi;
    logic [BW-1:0] center;
    always_comb begin
      int y, x;
      y = (int'(rom_tag_q) >> WB) % HP;
      x = int'(rom_tag_q) % WP;
      dy_lo = KW'((y + PAD > H - 1) ? y + PAD - (H - 1) : 0);
      dy_hi = KW'((y + PAD < K - 1) ? y + PAD : K - 1);
      dx_lo = KW'((x + PAD > W - 1) ? x + PAD - (W - 1) : 0);
      dx_hi = KW'((x + PAD < K - 1) ? x + PAD : K - 1);
      center = BW'(y * W + x + PAD * W + PAD);
    end

    // stage 0 registers (beside word_q)
    logic [KW-1:0] s0_dy_lo, s0_dy_hi, s0_dx_lo, s0_dx_hi;
    logic [BW-1:0] s0_center;
    always_ff @(posedge clk_i) begin
      if (!stall) begin
        s0_dy_lo <= dy_lo;
        s0_dy_hi <= dy_hi;
        s0_dx_lo <= dx_lo;
        s0_dx_hi <= dx_hi;
        s0_center <= center;
      end
    end

    if (LAYOUT == 2) begin : g_per_tap
      // tap_list: a slot is one tap {row, tap, weight}; every word is one cycle, each
      // lane on its own tap. A lane whose tap lands outside the map idles (weight 0).
      logic t_valid_q;
      logic [BW-1:0] t_base_q[LANES];
      logic [OW-1:0] t_off_q[LANES];
      logic signed [W_BITS-1:0] t_w_q[LANES];

      assign stall = 1'b0;
      assign drained = !s0_valid_q;
      assign s1_valid = t_valid_q;

      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          t_valid_q <= 1'b0;
        end else begin
          t_valid_q <= s0_valid_q;
        end
      end

      for (genvar p = 0; p < LANES; p++) begin : g_lane
        logic [RB-1:0] unit_row;
        logic [TW-1:0] tap;
        logic signed [W_BITS-1:0] weight;
        logic in_map;
        logic [OW-1:0] offset;
        assign weight = word_q[p*SLOT_BITS+:W_BITS];
        assign tap = word_q[p*SLOT_BITS+W_BITS+:TW];
        assign unit_row = word_q[p*SLOT_BITS+W_BITS+TW+:RB];
        // the tap's row, column and offset are constants: a multiplexer over the taps
        always_comb begin
          in_map = 1'b0;
          offset = '0;
          for (int k = 0; k < TAPS; k++) begin
            if (tap == TW'(k)) begin
              in_map = KW'(k / K) >= s0_dy_lo && KW'(k / K) <= s0_dy_hi
                    && KW'(k % K) >= s0_dx_lo && KW'(k % K) <= s0_dx_hi;
              offset = OW'((k / K) * W + k % K);
            end
          end
        end
        always_ff @(posedge clk_i) begin
          t_base_q[p] <= row_base(unit_row) + s0_center;
          t_off_q[p] <= offset;
          t_w_q[p] <= in_map ? weight : '0;
        end
        assign s1_w[p] = t_w_q[p];
        assign s1_addr[p] = AW'(t_base_q[p] - BW'(t_off_q[p]));
      end
    end else begin : g_walk
      // tap stage: the word, each lane's base and the current tap
      logic t_valid_q, t_last_q, t_last_d;
      logic [WORD_BITS-1:0] t_word_q;
      logic [BW-1:0] t_base_q[LANES];
      logic [KW-1:0] t_dy_q, t_dx_q, t_dy_d, t_dx_d, t_dy_hi_q, t_dx_lo_q, t_dx_hi_q;
      logic [TW-1:0] t_tap_q, t_tap_d;   // dy * K + dx
      logic [OW-1:0] t_off_q, t_off_d;   // dy * W + dx

      assign stall = t_valid_q && !t_last_q;
      assign drained = !s0_valid_q && !stall;
      assign s1_valid = t_valid_q;

      always_comb begin
        if (t_dx_q == t_dx_hi_q) begin  // next kernel row
          t_dx_d = t_dx_lo_q;
          t_dy_d = t_dy_q + 1'b1;
          t_tap_d = t_tap_q + TW'(K) - TW'(t_dx_hi_q - t_dx_lo_q);
          t_off_d = t_off_q + OW'(W) - OW'(t_dx_hi_q - t_dx_lo_q);
        end else begin
          t_dx_d = t_dx_q + 1'b1;
          t_dy_d = t_dy_q;
          t_tap_d = t_tap_q + 1'b1;
          t_off_d = t_off_q + 1'b1;
        end
        t_last_d = t_dy_d == t_dy_hi_q && t_dx_d == t_dx_hi_q;
      end

      always_ff @(posedge clk_i or negedge rst_ni) begin
        if (!rst_ni) begin
          t_valid_q <= 1'b0;
          t_last_q <= 1'b0;
        end else if (!stall) begin  // take the word of stage 0 (or nothing)
          t_valid_q <= s0_valid_q;
          t_last_q <= s0_dy_lo == s0_dy_hi && s0_dx_lo == s0_dx_hi;
        end else begin
          t_last_q <= t_last_d;
        end
      end

      always_ff @(posedge clk_i) begin
        if (!stall) begin
          t_word_q <= word_q;
          t_dy_q <= s0_dy_lo;
          t_dx_q <= s0_dx_lo;
          t_dy_hi_q <= s0_dy_hi;
          t_dx_lo_q <= s0_dx_lo;
          t_dx_hi_q <= s0_dx_hi;
          t_tap_q <= TW'(s0_dy_lo * K + s0_dx_lo);
          t_off_q <= OW'(s0_dy_lo * W + s0_dx_lo);
        end else begin
          t_dy_q <= t_dy_d;
          t_dx_q <= t_dx_d;
          t_tap_q <= t_tap_d;
          t_off_q <= t_off_d;
        end
      end

      for (genvar p = 0; p < LANES; p++) begin : g_lane
        logic [RB-1:0] unit_row;
        if (LAYOUT == 1) begin : g_list
          assign unit_row = word_q[p*SLOT_BITS+TAPS*W_BITS+:RB];
        end else begin : g_dense
          assign unit_row = s0_row_q;
        end
        always_ff @(posedge clk_i) begin
          if (!stall) begin
            t_base_q[p] <= row_base(unit_row) + s0_center;
          end
        end
        // the tap's weight: a multiplexer over the taps, no index arithmetic
        always_comb begin
          s1_w[p] = '0;
          for (int k = 0; k < TAPS; k++) begin
            if (t_tap_q == TW'(k)) begin
              s1_w[p] = t_word_q[p*SLOT_BITS+k*W_BITS+:W_BITS];
            end
          end
        end
        assign s1_addr[p] = AW'(t_base_q[p] - BW'(t_off_q));
      end
    end
  end
  if (LAYOUT != 0) begin : g_no_row
    logic unused_row;  // the unit row comes from the slot
    assign unused_row = ^s0_row_q;
  end

  // ---------------------------------------------------------------------------------
  // Banks: accumulators and membranes, one bank per lane
  logic [LANES-1:0] acc_we, acc_re, mem_we, s1_en, fire;
  logic [AW-1:0] acc_waddr[LANES], acc_raddr[LANES];
  logic signed [ACC_BITS-1:0] acc_wdata[LANES], acc_rdata[LANES], acc_operand[LANES];
  logic signed [ACC_BITS-1:0] acc_start[LANES];  // the unit's bias
  logic signed [V_BITS-1:0] mem_wdata[LANES], mem_rdata[LANES], u_new[LANES];
  logic clearing, bias_en;
  // Membrane reads run one cycle ahead of the accumulator reads (address 0 in the
  // idle-detect cycle, a + 1 in the update read of a), so lif_update can shift the
  // membrane and prepare its bounds in U1 while the accumulator read is in flight.
  logic mem_re;
  logic [AW-1:0] mem_raddr, mraddr_q, mraddr_d;  // 0 until the idle-detect cycle, then a + 1
  assign mem_re = idle || ((state_q == S_UPD) && (uaddr_q != AW'(DEPTH - 1)));
  assign mem_raddr = mraddr_q;
  assign mraddr_d = (idle || state_q == S_UPD) ? mraddr_q + 1'b1
                  : (state_q == S_ACC) ? mraddr_q : '0;

  assign clearing = (state_q == S_CLEAR) && (clr_q < CW'(DEPTH));
  assign bias_en = clearing || (state_q == S_UPD);

  // The clear pass cycle as a pointer ROM address
  logic [JW-1:0] clr_ptr;
  assign clr_ptr = clr_q[JW-1:0];

  // The bias of the row the clear or update pass reads arrives with its write (U2):
  // the accumulator restarts there, so the bias costs no cycle and no adder.
  if (B_BITS > 0) begin : g_bias
    logic [LANES*B_BITS-1:0] bias_row;
    bias_rom #(
        .WIDTH  (B_BITS),
        .UNITS  (OUT_C),
        .LANES  (LANES),
        .FILE   (BIAS_FILE),
        .PLUSARG(BIAS_PLUSARG)
    ) u_bias (
        .clk_i  (clk_i),
        .en_i   (bias_en),
        .row_i  (urow_q),
        .rdata_o(bias_row)
    );
    for (genvar p = 0; p < LANES; p++) begin : g_lane
      logic signed [B_BITS-1:0] bias;
      assign bias = bias_row[p*B_BITS+:B_BITS];
      assign acc_start[p] = ACC_BITS'(bias);
      if (B_BITS > ACC_BITS) begin : g_narrow
        logic unused_high;  // the bias fits in ACC_BITS (contract section 3)
        assign unused_high = ^bias[B_BITS-1:ACC_BITS];
      end
    end
  end else begin : g_no_bias
    logic unused_bias;
    assign unused_bias = ^{bias_en, urow_q};
    for (genvar p = 0; p < LANES; p++) begin : g_lane
      assign acc_start[p] = '0;
    end
  end

  for (genvar p = 0; p < LANES; p++) begin : g_lane
    assign s1_en[p] = s1_valid && (s1_w[p] != '0);

    // Stage 2 / update stage 2: the read data, or the write of the previous cycle to
    // the same address (the RAM may not have it yet)
    // the accumulator banks are write-first: a read issued in the cycle of a write to
    // the same address returns the new word, so acc_rdata already holds the forwarded
    // value
    assign acc_operand[p] = acc_rdata[p];
    // every stage-1 word reads (also slots with weight 0, whose data goes unused), so
    // the read enable does not wait for the weight ROM's slow clock-to-output
    assign acc_re[p] = s1_valid || (state_q == S_UPD);
    assign acc_raddr[p] = (state_q == S_UPD) ? uaddr_q : s1_addr[p];
    assign acc_we[p] = s2_en_q[p] || u2_valid_q || clear2_q;
    assign acc_waddr[p] = s2_en_q[p] ? s2_addr_q[p] : u2_addr_q;
    assign acc_wdata[p] = s2_en_q[p] ? acc_operand[p] + ACC_BITS'(s2_w_q[p]) : acc_start[p];
    assign mem_we[p] = u2_valid_q || clear2_q;
    assign mem_wdata[p] = clear2_q ? '0 : u_new[p];

    bank_ram #(
        .WIDTH(ACC_BITS),
        .DEPTH(DEPTH),
        .TRANSPARENT(1'b1)
    ) u_acc (
        .clk_i  (clk_i),
        .we_i   (acc_we[p]),
        .waddr_i(acc_waddr[p]),
        .wdata_i(acc_wdata[p]),
        .re_i   (acc_re[p]),
        .raddr_i(acc_raddr[p]),
        .rdata_o(acc_rdata[p])
    );

    bank_ram #(
        .WIDTH(V_BITS),
        .DEPTH(DEPTH)
    ) u_mem (
        .clk_i  (clk_i),
        .we_i   (mem_we[p]),
        .waddr_i(u2_addr_q),
        .wdata_i(mem_wdata[p]),
        .re_i   (mem_re),
        .raddr_i(mem_raddr),
        .rdata_o(mem_rdata[p])
    );

    lif_update #(
        .V_BITS  (V_BITS),
        .ACC_BITS(ACC_BITS)
    ) u_update (
        .clk_i       (clk_i),
        .u_i         (mem_rdata[p]),
        .first_i     (first_q),
        .acc_i       (acc_operand[p]),
        .leak_shift_i(leak_shift_i),
        .v_th_i      (v_th_i),
        .v_min_i     (v_min_i),
        .v_max_i     (v_max_i),
        .fire_o      (fire[p]),
        .u_o         (u_new[p])
    );
  end

  // Population counts of the lanes active this cycle (synapses, accumulator writes)
  function automatic logic [LW-1:0] count_ones(input logic [LANES-1:0] bits);
    count_ones = '0;
    for (int p = 0; p < LANES; p++) begin
      count_ones = count_ones + LW'(bits[p]);
    end
  endfunction

  logic [LW-1:0] s2_count;
  assign s2_count = count_ones(s2_en_q);

  // ---------------------------------------------------------------------------------
  // Next state
  // Kept apart from the blocks below: only this logic depends on the step inputs, so a
  // simulator re-evaluates little when they change.
  assign accept = (state_q == S_IDLE) && start_i;
  assign state_d = accept ? S_ACC : state_next;
  assign first_d = accept ? first_step_i : first_q;
  assign cycles_d = cycles_q + 64'(accept || state_q == S_ACC || state_q == S_UPD
                                   || state_q == S_FIN);

  // the clear and update passes walk the bank addresses with their unit row
  logic walk;
  always_comb begin
    walk = clearing || ((state_q == S_UPD) && (uaddr_q != AW'(DEPTH - 1)));
    uaddr_d = uaddr_q;
    urow_d = urow_q;
    upos_d = upos_q;
    if (idle) begin
      uaddr_d = '0;
      urow_d = '0;
      upos_d = '0;
    end else if (walk) begin
      uaddr_d = uaddr_q + 1'b1;
      if (upos_q == PW'(HW - 1)) begin
        upos_d = '0;
        urow_d = urow_q + 1'b1;
      end else begin
        upos_d = upos_q + 1'b1;
      end
    end
  end

  always_comb begin
    state_next = state_q;
    clr_d = clr_q;
    scan_d = 1'b0;
    nonempty_d = nonempty_q;
    single_d = single_q;
    pair_d = pair_q;
    last_act_d = last_act_q;
    ptrv_d = ptrv_q;
    act_d = act_q;
    addr_d = addr_q;
    fresh_d = fresh_q;
    end_d = end_q;
    row_d = row_q;
    act_tag_d = act_tag_q;
    ptr_en = 1'b0;
    ptr_addr_lo = q_unit;
    ptr_addr_hi = q_unit + 1'b1;

    case (state_q)
      S_CLEAR: begin
        // cycle k: clear bank address k, read ptr[k] and ptr[k + 1]; they arrive at
        // k + 1 and are compared at k + 2 (see the masks below)
        ptr_addr_lo = clr_ptr;
        ptr_addr_hi = clr_ptr + 1'b1;
        if (clr_q < CW'(UNITS_IN)) begin
          ptr_en = 1'b1;
          scan_d = 1'b1;
        end
        if (clr_q == CW'(CLR_CYCLES - 1)) begin
          state_next = S_IDLE;
        end else begin
          clr_d = clr_q + 1'b1;
        end
      end
      S_IDLE: ;  // a start is taken below
      S_ACC: begin
        ptr_en = q_pop;
        if (q_pop) begin
          ptrv_d = 1'b1;
        end else if (ptr_take) begin
          ptrv_d = 1'b0;
        end
        if (issue) begin
          if (!last) begin
            act_d = 1'b1;
            addr_d = cur_addr;
            fresh_d = 1'b0;
            end_d = cur_end;
            last_act_d = next_last;
            row_d = cur_row + 1'b1;
            act_tag_d = cur_tag;
          end else if (act_q && ptrv_q) begin
            act_d = 1'b1;
            addr_d = ptr_lo;
            fresh_d = 1'b1;
            end_d = ptr_hi;
            last_act_d = ptr_single_q;
            row_d = '0;
            act_tag_d = ptr_tag_q;
          end else begin
            act_d = 1'b0;
          end
        end
        if (idle) begin
          state_next = S_UPD;
        end
      end
      S_UPD: begin
        if (uaddr_q == AW'(DEPTH - 1)) begin
          state_next = S_FIN;
        end
      end
      S_FIN: begin
        state_next = S_IDLE;
      end
      default: state_next = S_IDLE;
    endcase
    // The clear pass visits units 0 .. UNITS_IN-1 in order and shifts each one's flags
    // in at the top, so after UNITS_IN shifts unit j's flags are bit j: no per-bit
    // write decoder. The compares start from registered copies of the pointer words.
    if (scan2_q) begin
      nonempty_d = (nonempty_q >> 1)
                 | (UNITS_IN'(scan_lo_q != scan_hi_q) << (UNITS_IN - 1));
      single_d = (single_q >> 1)
               | (UNITS_IN'(scan_lo_q + 1'b1 == scan_hi_q) << (UNITS_IN - 1));
      pair_d = (pair_q >> 1) | (UNITS_IN'((PTR_BITS + 1)'(scan_lo_q) + (PTR_BITS + 1)'(2)
                                          == (PTR_BITS + 1)'(scan_hi_q)) << (UNITS_IN - 1));
    end
    ptr_single_d = q_pop ? q_marks[0] : ptr_single_q;
    ptr_pair_d = q_pop ? q_marks[1] : ptr_pair_q;
    ptr_tag_d = q_pop ? q_tag : ptr_tag_q;
  end

  always_comb begin
    // the ROM stage and stage 0 wait while the tap stage holds a word
    rom_valid_d = stall ? rom_valid_q : issue;
    rom_row_d = stall ? rom_row_q : cur_row;
    rom_tag_d = stall ? rom_tag_q : cur_tag;
    s0_valid_d = stall ? s0_valid_q : rom_valid_q;
    s0_row_d = stall ? s0_row_q : rom_row_q;
    u2_valid_d = state_q == S_UPD;
    clear2_d = clearing;
    u2_addr_d = uaddr_q;
    done_d = state_q == S_FIN;
    upd_valid_d = u2_valid_q;
    upd_addr_d = u2_addr_q;
    for (int p = 0; p < LANES; p++) begin
      s2_en_d[p] = s1_en[p];
      s2_addr_d[p] = s1_addr[p];
      s2_w_d[p] = s1_w[p];
      upd_spikes_d[p] = u2_valid_q ? fire[p] : upd_spikes_q[p];  // holds between steps
      upd_mem_d[p*V_BITS+:V_BITS] = u_new[p];
    end
    synops_d = synops_q + 64'(s2_count);  // counted in S2, off the weight ROM output
    ptr_reads_d = ptr_reads_q + (q_pop ? 64'd2 : 64'd0);
    wrom_reads_d = wrom_reads_q + 64'(issue);
    acc_reads_d = acc_reads_q + 64'(s2_count) + ((state_q == S_UPD) ? 64'(LANES) : 64'd0);
    acc_writes_d = acc_writes_q + 64'(s2_count) + (u2_valid_q ? 64'(LANES) : 64'd0);
    mem_reads_d = mem_reads_q + ((state_q == S_UPD) ? 64'(LANES) : 64'd0);
    mem_writes_d = mem_writes_q + (u2_valid_q ? 64'(LANES) : 64'd0);
  end

  // ---------------------------------------------------------------------------------
  // Registers
  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= S_CLEAR;
      clr_q <= '0;
      scan_q <= 1'b0;
      nonempty_q <= '0;
      single_q <= '0;
      pair_q <= '0;
      scan2_q <= 1'b0;
      scan_lo_q <= '0;
      scan_hi_q <= '0;
      fresh_q <= 1'b0;
      ptr_single_q <= 1'b0;
      ptr_pair_q <= 1'b0;
      ptr_tag_q <= '0;
      last_act_q <= 1'b0;
      first_q <= 1'b0;
      ptrv_q <= 1'b0;
      act_q <= 1'b0;
      addr_q <= '0;
      end_q <= '0;
      row_q <= '0;
      act_tag_q <= '0;
      rom_valid_q <= 1'b0;
      rom_row_q <= '0;
      rom_tag_q <= '0;
      s0_valid_q <= 1'b0;
      s0_row_q <= '0;
      uaddr_q <= '0;
      urow_q <= '0;
      upos_q <= '0;
      u2_valid_q <= 1'b0;
      clear2_q <= 1'b0;
      u2_addr_q <= '0;
      done_q <= 1'b0;
      upd_valid_q <= 1'b0;
      upd_addr_q <= '0;
      upd_spikes_q <= '0;
      upd_mem_q <= '0;
      cycles_q <= '0;
      synops_q <= '0;
      ptr_reads_q <= '0;
      wrom_reads_q <= '0;
      acc_reads_q <= '0;
      acc_writes_q <= '0;
      mem_reads_q <= '0;
      mem_writes_q <= '0;
      s2_en_q <= '0;
      mraddr_q <= '0;
    end else begin
      state_q <= state_d;
      clr_q <= clr_d;
      scan_q <= scan_d;
      nonempty_q <= nonempty_d;
      single_q <= single_d;
      pair_q <= pair_d;
      scan2_q <= scan_q;
      scan_lo_q <= ptr_lo;
      scan_hi_q <= ptr_hi;
      fresh_q <= fresh_d;
      ptr_single_q <= ptr_single_d;
      ptr_pair_q <= ptr_pair_d;
      ptr_tag_q <= ptr_tag_d;
      last_act_q <= last_act_d;
      first_q <= first_d;
      ptrv_q <= ptrv_d;
      act_q <= act_d;
      addr_q <= addr_d;
      end_q <= end_d;
      row_q <= row_d;
      act_tag_q <= act_tag_d;
      rom_valid_q <= rom_valid_d;
      rom_row_q <= rom_row_d;
      rom_tag_q <= rom_tag_d;
      s0_valid_q <= s0_valid_d;
      s0_row_q <= s0_row_d;
      uaddr_q <= uaddr_d;
      urow_q <= urow_d;
      upos_q <= upos_d;
      u2_valid_q <= u2_valid_d;
      clear2_q <= clear2_d;
      u2_addr_q <= u2_addr_d;
      done_q <= done_d;
      upd_valid_q <= upd_valid_d;
      upd_addr_q <= upd_addr_d;
      upd_spikes_q <= upd_spikes_d;
      upd_mem_q <= upd_mem_d;
      cycles_q <= cycles_d;
      synops_q <= synops_d;
      ptr_reads_q <= ptr_reads_d;
      wrom_reads_q <= wrom_reads_d;
      acc_reads_q <= acc_reads_d;
      acc_writes_q <= acc_writes_d;
      mem_reads_q <= mem_reads_d;
      mem_writes_q <= mem_writes_d;
      s2_en_q <= s2_en_d;
      mraddr_q <= mraddr_d;
    end
  end

  // The weight word, one cycle after the ROM output: the block RAM's slow
  // clock-to-output (and, for a ROM of several blocks, its output multiplexer) is
  // followed by nothing but this register. Data only: rom_valid_q and s0_valid_q say
  // when it counts.
  always_ff @(posedge clk_i) begin
    if (!stall) begin
      word_q <= word;
    end
  end

  // The step's spikes: data only, complete from the done_o cycle until the next
  // update pass (a wide register without reset is a plain shift register)
  // each update beat shifts lane p's spike in at the top of its register: after the
  // last beat, bank address a is bit a
  always_ff @(posedge clk_i) begin
    if (u2_valid_q) begin
      for (int p = 0; p < LANES; p++) begin
        fired_q[p] <= DEPTH'({fire[p], fired_q[p]} >> 1);
      end
    end
  end

  // Per-lane data registers (their valid bits above are reset)
  for (genvar p = 0; p < LANES; p++) begin : g_lane_q
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        s2_addr_q[p] <= '0;
        s2_w_q[p] <= '0;
      end else begin
        s2_addr_q[p] <= s2_addr_d[p];
        s2_w_q[p] <= s2_w_d[p];
      end
    end
  end

  assign ready_o = state_q == S_IDLE;
  assign done_o = done_q;
  // unit o = r * LANES + p is lane p's bank addresses r * HW .. r * HW + HW - 1, its
  // HW neurons in C order: the output map is slices of the lane registers
  for (genvar o = 0; o < OUT_C; o++) begin : g_spikes_o
    assign spikes_o[o*HW+:HW] = fired_q[o%LANES][(o/LANES)*HW+:HW];
  end
  for (genvar o = OUT_C; o < ROWS * LANES; o++) begin : g_padding
    logic unused_padding;  // padding units: no neuron
    assign unused_padding = ^fired_q[o%LANES][(o/LANES)*HW+:HW];
  end
  assign upd_valid_o = upd_valid_q;
  assign upd_addr_o = upd_addr_q;
  assign upd_spikes_o = upd_spikes_q;
  assign upd_membranes_o = upd_mem_q;
  assign cycles_o = cycles_q;
  assign synops_o = synops_q;
  assign ptr_reads_o = ptr_reads_q;
  assign wrom_reads_o = wrom_reads_q;
  assign acc_reads_o = acc_reads_q;
  assign acc_writes_o = acc_writes_q;
  assign mem_reads_o = mem_reads_q;
  assign mem_writes_o = mem_writes_q;
endmodule

`default_nettype wire
