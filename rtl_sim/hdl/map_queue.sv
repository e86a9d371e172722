// Input event queue of a layer behind another core, with the spike map in block RAM.
//
// The producer's update pass visits its bank addresses in order, LANES fire bits a
// beat (unit o = r * LANES + p is lane p at addresses r * IN_H * IN_W + y * IN_W + x).
// Each beat is written, masked, as one LANES-bit word of a RAM; a flip-flop per word
// says whether it holds a spike. The queue then hands out the step's events like
// spike_queue (same ports, same pipeline, same cycles): the occupancy's lowest word
// is read from the RAM, its spikes go out one per pop, each as its input unit and,
// for conv, its pooled position {y, x}. Layers run one after another within a step,
// so the producer never writes while this queue reads: one buffer is enough.
//
// The event order is the word order {unit row r, pooled y, window row, pooled x,
// window column}, each field padded to a power of two, then the lane; the contract
// lets a core visit its events in any order (docs/hardware-contract.md, section 3),
// and every event costs the same cycles wherever it comes. The write side tracks the
// fields with counters (the producer's address is dense), so no field needs a divider.
//
// Stages after the load, as in spike_queue: occ_q (words with spikes still to go),
// the RAM read of the lowest (the word stage: its registered output), cur (that
// word's spikes not yet handed out), head (the lowest of them). The first head is
// valid in the fourth cycle after the load; pending_o stays high for at least HOLD
// cycles after it. The last beat of the producer's pass may come in the load cycle.
//
// Masked units cost no cycle: a unit's mask and marks are read per lane from tables
// in which lane p holds only its own units (units r * LANES + p), a multiplexer over
// 1/LANES of them, not over every unit.
`default_nettype none

module map_queue #(
    parameter int CONV = 0,   // the consumer's kind: 0 fc, 1 conv
    parameter int IN_C = 8,   // the map: producer units (channels or neurons), rows,
    parameter int IN_H = 1,   // columns (before pooling)
    parameter int IN_W = 1,
    parameter int POOL = 1,   // the k of AP<k>; IN_H and IN_W are multiples of it
    parameter int LANES = 2,  // the producer's lanes: bits per beat
    parameter int M = 1,      // mark bits per unit
    parameter int HOLD = 4,   // cycles after a load with pending_o high, at least 4
    // derived, do not override
    parameter int H = IN_H / POOL,                           // pooled map
    parameter int W = IN_W / POOL,
    parameter int UNITS = (CONV != 0) ? IN_C : IN_C * H * W,
    parameter int UW = $clog2(UNITS + 1),                    // unit width
    parameter int HB = (CONV != 0 && H > 1) ? $clog2(H) : 0,
    parameter int WB = (CONV != 0 && W > 1) ? $clog2(W) : 0,
    parameter int PW = HB + WB + 1,                          // position {y, x} width
    parameter int ROWS = (IN_C + LANES - 1) / LANES,         // producer unit rows
    parameter int SRC_DEPTH = ROWS * IN_H * IN_W,            // producer bank depth
    parameter int SAW = (SRC_DEPTH > 1) ? $clog2(SRC_DEPTH) : 1
) (
    input  wire                clk_i,
    input  wire                rst_ni,
    input  wire                wr_valid_i,  // the producer's update beat
    input  wire  [    SAW-1:0] wr_addr_i,   // its bank address
    input  wire  [  LANES-1:0] wr_spikes_i, // its lanes' fire bits
    input  wire                load_i,      // hand out the events of the map written
    input  wire  [  UNITS-1:0] mask_i,      // units whose events count; constant
    input  wire  [M*UNITS-1:0] marks_i,     // mark m of unit u at bit m*UNITS + u; constant
    input  wire                pop_i,       // remove the head (ignored when empty)
    output logic               valid_o,     // unit_o / pos_o is the first waiting event
    output logic [     UW-1:0] unit_o,
    output logic [     PW-1:0] pos_o,       // conv: {y, x} of the pooled map; fc: 0
    output logic [      M-1:0] marks_o,     // the head unit's marks
    output logic               pending_o    // a head is valid or still to come in this step
);
  // word index fields, each padded to a power of two
  localparam int KB = (POOL > 1) ? $clog2(POOL) : 0;
  localparam int YB = (H > 1) ? $clog2(H) : 0;
  localparam int XB = (W > 1) ? $clog2(W) : 0;
  localparam int RB = (ROWS > 1) ? $clog2(ROWS) : 0;
  localparam int XS = KB;                  // shift of the pooled x
  localparam int AS = XS + XB;             // ... the window row
  localparam int YS = AS + KB;             // ... the pooled y
  localparam int RS = YS + YB;             // ... the unit row
  localparam int NB = (RS + RB > 0) ? RS + RB : 1;
  localparam int NW = 1 << NB;             // words (at least 2)
  localparam int LW = (LANES > 1) ? $clog2(LANES) : 1;
  // lane tables: entry e = r * S + s for unit row r and pooled position s
  localparam int S = (CONV != 0) ? 1 : H * W;
  localparam int T = ROWS * S;

  initial begin : check_parameters
    if (IN_H % POOL != 0 || IN_W % POOL != 0) begin
      $fatal(1, "%m: IN_H and IN_W must be multiples of POOL");
    end
    if (HOLD < 4) begin
      $fatal(1, "%m: HOLD must be at least 4");
    end
  end

  // The tables: lane p's mask and marks of unit row r at pooled position s.
  logic [T-1:0] lane_mask[LANES];
  logic [T-1:0] lane_marks[M][LANES];
  for (genvar p = 0; p < LANES; p++) begin : g_lane
    for (genvar r = 0; r < ROWS; r++) begin : g_row
      for (genvar s = 0; s < S; s++) begin : g_pos
        localparam int C = r * LANES + p;
        localparam int U = (CONV != 0) ? C : C * S + s;
        if (C < IN_C) begin : g_unit
          assign lane_mask[p][r*S+s] = mask_i[U];
          for (genvar m = 0; m < M; m++) begin : g_mark
            assign lane_marks[m][p][r*S+s] = marks_i[m*UNITS+U];
          end
        end else begin : g_padding
          assign lane_mask[p][r*S+s] = 1'b0;
          for (genvar m = 0; m < M; m++) begin : g_mark
            assign lane_marks[m][p][r*S+s] = 1'b0;
          end
        end
      end
    end
  end

  // A word's fields and its table entry
  localparam int EW = (T > 1) ? $clog2(T) : 1;
  function automatic int field(input logic [NB-1:0] index, input int shift, input int bits);
    field = (int'(index) >> shift) & ((1 << bits) - 1);
  endfunction
  function automatic logic [EW-1:0] entry_of(input int r, input int y, input int x);
    entry_of = EW'((CONV != 0) ? r : (r * H + y) * W + x);
  endfunction
  function automatic logic [EW-1:0] entry(input logic [NB-1:0] index);
    entry = entry_of(field(index, RS, RB), field(index, YS, YB), field(index, XS, XB));
  endfunction

  // ---------------------------------------------------------------------------------
  // Write side: the producer's beats in address order; its fields by counting
  localparam int RW = (RB > 0) ? RB : 1;
  localparam int YW = (YB > 0) ? YB : 1;
  localparam int KW = (KB > 0) ? KB : 1;
  localparam int XW = (XB > 0) ? XB : 1;
  logic [RW-1:0] next_r_q, wr_r;  // unit row, pooled y, window row, pooled x, window
  logic [YW-1:0] next_y_q, wr_y;  // column: next_*_q of the beat after the last one,
  logic [KW-1:0] next_a_q, wr_a;  // wr_* of this one (address 0 starts a pass)
  logic [XW-1:0] next_x_q, wr_x;
  logic [KW-1:0] next_b_q, wr_b;
  logic [NB-1:0] wr_index;
  logic [LANES-1:0] wr_bits;
  always_comb begin
    if (wr_addr_i == '0) begin
      {wr_r, wr_y, wr_a, wr_x, wr_b} = '0;
    end else begin
      {wr_r, wr_y, wr_a, wr_x, wr_b} = {next_r_q, next_y_q, next_a_q, next_x_q, next_b_q};
    end
    wr_index = NB'((int'(wr_r) << RS) | (int'(wr_y) << YS) | (int'(wr_a) << AS)
                   | (int'(wr_x) << XS) | int'(wr_b));
    for (int p = 0; p < LANES; p++) begin
      wr_bits[p] = wr_spikes_i[p] && lane_mask[p][entry_of(int'(wr_r), int'(wr_y), int'(wr_x))];
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      {next_r_q, next_y_q, next_a_q, next_x_q, next_b_q} <= '0;
    end else if (wr_valid_i) begin
      {next_r_q, next_y_q, next_a_q, next_x_q} <= {wr_r, wr_y, wr_a, wr_x};
      next_b_q <= wr_b + 1'b1;
      if (int'(wr_b) == POOL - 1) begin
        next_b_q <= '0;
        next_x_q <= wr_x + 1'b1;
        if (int'(wr_x) == W - 1) begin
          next_x_q <= '0;
          next_a_q <= wr_a + 1'b1;
          if (int'(wr_a) == POOL - 1) begin
            next_a_q <= '0;
            next_y_q <= wr_y + 1'b1;
            if (int'(wr_y) == H - 1) begin
              next_y_q <= '0;
              next_r_q <= wr_r + 1'b1;
            end
          end
        end
      end
    end
  end

  // ---------------------------------------------------------------------------------
  // Read side
  logic [NW-1:0] occ_q;
  logic armed_q;                             // from a load until occ_q is empty
  logic widx_v_q, widx_v_d;
  logic [NB-1:0] widx_q, widx_d;
  logic cur_v_q, cur_v_d;
  logic [LANES-1:0] cur_q, cur_d;
  logic [NB-1:0] cur_w_q, cur_w_d;
  logic [M*LANES-1:0] cur_marks_q, cur_marks_d;  // mark m at [m*LANES +: LANES]
  logic head_v_q, head_v_d;
  logic [UW-1:0] head_unit_q, head_unit_d;
  logic [PW-1:0] head_pos_q, head_pos_d;
  logic [M-1:0] head_marks_q, head_marks_d;
  logic [HOLD-1:0] warm_q;                   // countdown after the load, one bit per cycle

  logic occ_found, cur_found;
  logic [NB-1:0] occ_low;
  logic [LW-1:0] cur_low;
  // its own module in a flattened netlist: timing-driven mapping across it copied the
  // encoder into the enable of every occupancy bit (about 13,000 LUT4 more at 2,048 words)
  (* keep_hierarchy *)
  lowest_set #(.N(NW)) u_word (
      .bits_i (occ_q),
      .found_o(occ_found),
      .index_o(occ_low)
  );
  lowest_set #(.N(LANES)) u_lane (
      .bits_i (cur_q),
      .found_o(cur_found),
      .index_o(cur_low)
  );

  // the word stage is the RAM's read register: it reads when the stage takes a word
  logic take_occ;
  logic [LANES-1:0] word;
  bank_ram #(
      .WIDTH(LANES),
      .DEPTH(NW)
  ) u_map (
      .clk_i  (clk_i),
      .we_i   (wr_valid_i),
      .waddr_i(wr_index),
      .wdata_i(wr_bits),
      .re_i   (take_occ),
      .raddr_i(occ_low),
      .rdata_o(word)
  );

  // Occupancy: a write sets or clears its word's bit, a take clears it. Each bit is a
  // flip-flop whose enable is the AND of two predecoded halves of the word index (one
  // LUT a bit); an indexed assignment to the whole vector became a comparator per bit
  // and per port. A write and a take never come in one cycle: the producer writes
  // before the load, the queue takes after it.
  localparam int LB = (NB + 1) / 2;          // low half of the word index
  localparam int NL = 1 << LB;
  localparam int NH = NW / NL;
  logic [NL-1:0] wr_lo, take_lo;
  logic [NH-1:0] wr_hi, take_hi;
  always_comb begin
    // unsigned slices and shifts: a signed '/' or '%' of an int is a divider
    wr_lo = wr_valid_i ? NL'(1) << wr_index[LB-1:0] : '0;
    wr_hi = NH'(1) << (wr_index >> LB);
    take_lo = take_occ ? NL'(1) << occ_low[LB-1:0] : '0;
    take_hi = NH'(1) << (occ_low >> LB);
  end
  for (genvar i = 0; i < NW; i++) begin : g_occ
    always_ff @(posedge clk_i or negedge rst_ni) begin
      if (!rst_ni) begin
        occ_q[i] <= 1'b0;
      end else if ((wr_hi[i/NL] && wr_lo[i%NL]) || (take_hi[i/NL] && take_lo[i%NL])) begin
        occ_q[i] <= wr_valid_i && |wr_bits;
      end
    end
  end

  logic head_free, take_cur, cur_last, cur_refill, take_widx, widx_free;
  logic [LANES-1:0] cur_rest, cur_lowest;
  assign cur_rest = cur_q & (cur_q - 1'b1);  // without the spike the head takes
  assign cur_lowest = cur_q ^ cur_rest;      // one-hot: the spike the head takes
  assign cur_last = cur_rest == '0;
  assign head_free = !head_v_q || pop_i;
  assign take_cur = head_free && cur_v_q;
  assign cur_refill = !cur_v_q || (take_cur && cur_last);
  assign take_widx = cur_refill && widx_v_q;
  assign widx_free = !widx_v_q || take_widx;
  assign take_occ = widx_free && armed_q;

  always_comb begin
    int c, y, x;
    head_v_d = head_v_q;
    head_unit_d = head_unit_q;
    head_pos_d = head_pos_q;
    head_marks_d = head_marks_q;
    cur_marks_d = cur_marks_q;
    cur_v_d = cur_v_q;
    cur_d = cur_q;
    cur_w_d = cur_w_q;
    widx_v_d = widx_v_q;
    widx_d = widx_q;
    c = field(cur_w_q, RS, RB) * LANES + int'(cur_low);
    y = field(cur_w_q, YS, YB);
    x = field(cur_w_q, XS, XB);
    if (head_free) begin
      head_v_d = cur_v_q;
      head_unit_d = UW'((CONV != 0) ? c : (c * H + y) * W + x);
      head_pos_d = (CONV != 0) ? PW'((y << WB) | x) : '0;
      for (int m = 0; m < M; m++) begin
        head_marks_d[m] = |(cur_lowest & cur_marks_q[m*LANES+:LANES]);
      end
    end
    if (cur_refill) begin
      cur_v_d = widx_v_q;
      cur_d = word;
      cur_w_d = widx_q;
      for (int m = 0; m < M; m++) begin
        for (int p = 0; p < LANES; p++) begin
          cur_marks_d[m*LANES+p] = lane_marks[m][p][entry(widx_q)];
        end
      end
    end else if (take_cur) begin
      cur_d = cur_rest;
    end
    if (widx_free) begin
      widx_v_d = take_occ && occ_found;
      widx_d = occ_low;
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      armed_q <= 1'b0;
      widx_v_q <= 1'b0;
      widx_q <= '0;
      cur_v_q <= 1'b0;
      cur_q <= '0;
      cur_w_q <= '0;
      head_v_q <= 1'b0;
      head_unit_q <= '0;
      head_pos_q <= '0;
      head_marks_q <= '0;
      cur_marks_q <= '0;
      warm_q <= '0;
    end else begin
      armed_q <= load_i || (armed_q && |occ_q);
      widx_v_q <= load_i ? 1'b0 : widx_v_d;
      widx_q <= widx_d;
      cur_v_q <= load_i ? 1'b0 : cur_v_d;
      cur_q <= cur_d;
      cur_w_q <= cur_w_d;
      head_v_q <= load_i ? 1'b0 : head_v_d;
      head_unit_q <= head_unit_d;
      head_pos_q <= head_pos_d;
      head_marks_q <= head_marks_d;
      cur_marks_q <= cur_marks_d;
      warm_q <= load_i ? '1 : warm_q >> 1;
    end
  end

  logic unused_found;  // cur_v_q already says whether cur_q holds a spike
  assign unused_found = cur_found;
  assign valid_o = head_v_q;
  assign unit_o = head_unit_q;
  assign pos_o = head_pos_q;
  assign marks_o = head_marks_q;
  assign pending_o = head_v_q || cur_v_q || widx_v_q || (armed_q && |occ_q) || warm_q[0];
endmodule

`default_nettype wire
