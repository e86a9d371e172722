// Input event queue: holds the latched spike map of one time step and hands out its
// events in a fixed order, one per pop, each as its input unit (the pointer ROM entry:
// an fc input, a conv input channel) and, for conv, its position {y, x}, so silent
// inputs cost no cycle. Behind AP<k> every spike of a k x k window is its own event at
// the pooled position (docs/hardware-contract.md, section 3.1).
//
// The order is the queue's bit order: conv {channel, y, window row, x, window
// column}, fc {pooled input, window row, window column}, each field padded to a power
// of two, so that the unit and the position are bit fields of the index (wiring, no
// divider). Padding bits never hold a spike.
//
// One priority encoder over a wide vector (784 inputs for Fashion-MNIST) is too slow
// for the clock, so the vector is kept as G words of Q <= 32 bits and handed out by a
// three-stage pipeline in which every encoder sees at most 32 register bits:
//   occ_q   one bit per word that still holds spikes and is not yet in a later stage
//   word    widx_q: the lowest such word, found one stage ahead
//   cur     cur_q: the spikes of word cur_w_q not yet handed out
//   head    head_q: the lowest of them, unit_o / pos_o / valid_o
// Every unit carries M constant mark bits (marks_i), handed out with its events
// (marks_o), so that a per-unit property needs no multiplexer over every unit after
// the pop. Each stage refills in the cycle its content moves on, and a word in occ_q
// holds at least one spike, so after the start-up the head refills in every cycle it
// is popped. Start-up: the load cycle latches the map, the next three cycles fill
// word, cur and head; the first head is valid in the fourth cycle after the load.
// pending_o stays high for at least HOLD cycles after the load (HOLD >= 4), so that
// the core can make a step without spikes cost the same overhead as one with
// (docs/microarchitecture.md, section 5).
//
// The reordered map is wiring and the load latches it as it is. The mask applies to
// the words' occupancy, formed in the load, and to each word as it leaves for the cur
// stage, where the occupancy's OR tree and the word multiplexer absorb it: a per-bit
// AND in front of the latch cost about a LUT per queue bit (11,498 LUT4 more on the
// Fashion-MNIST conv net's second-layer queue, BENCHMARKS.md).
`default_nettype none

module spike_queue #(
    parameter int CONV = 0,   // the order: 0 fc, 1 conv (see above)
    parameter int IN_C = 8,   // input map channels, rows, columns (before pooling)
    parameter int IN_H = 1,
    parameter int IN_W = 1,
    parameter int POOL = 1,   // the k of AP<k>
    parameter int M = 1,      // mark bits per unit
    parameter int HOLD = 4,   // cycles after a load with pending_o high, at least 4
    // derived, do not override
    parameter int N_IN = IN_C * IN_H * IN_W,                 // map inputs, C order
    parameter int H = IN_H / POOL,                           // pooled map
    parameter int W = IN_W / POOL,
    parameter int UNITS = (CONV != 0) ? IN_C : IN_C * H * W,
    parameter int UW = $clog2(UNITS + 1),                    // unit width
    parameter int HB = (CONV != 0 && H > 1) ? $clog2(H) : 0,
    parameter int WB = (CONV != 0 && W > 1) ? $clog2(W) : 0,
    parameter int PW = HB + WB + 1                           // position {y, x} width
) (
    input  wire              clk_i,
    input  wire              rst_ni,
    input  wire              load_i,     // replace the contents with the events of spikes_i
    input  wire  [ N_IN-1:0] spikes_i,   // the input map in C order
    input  wire  [UNITS-1:0] mask_i,     // units whose events count; constant from a load
                                         // until the queue is empty
    input  wire  [M*UNITS-1:0] marks_i,  // mark m of unit u at bit m*UNITS + u; constant
    input  wire              pop_i,      // remove the head (ignored when empty)
    output logic             valid_o,    // unit_o / pos_o is the first waiting event
    output logic [   UW-1:0] unit_o,
    output logic [   PW-1:0] pos_o,      // conv: {y, x} of the pooled map; fc: 0
    output logic [    M-1:0] marks_o,    // the head unit's marks
    output logic             pending_o   // a head is valid or still to come in this step
);
  localparam int KB = (POOL > 1) ? $clog2(POOL) : 0;
  localparam int KP = 1 << KB;
  localparam int HP = 1 << HB;
  localparam int WP = 1 << WB;
  localparam int SHIFT = 2 * KB + HB + WB;   // queue index to unit
  localparam int N = UNITS << SHIFT;         // queue bits
  localparam int IW = (N > 1) ? $clog2(N) : 1;
  localparam int NP = 1 << IW;               // N rounded up to a power of two (>= 2)
  localparam int Q = (NP < 32) ? NP : 32;    // word width
  localparam int QW = $clog2(Q);
  localparam int G = NP / Q;                 // words, a power of two
  localparam int GW = (G > 1) ? $clog2(G) : 1;

  // The map in queue order, as wiring. A run of input bits that stays in one
  // piece in the queue order is one slice: an fc layer without
  // pooling is one run; a conv row is one where KP == POOL ({x, b} is then the input
  // column); else each window row of POOL bits is. Every padding bit is 0. (Slices, not
  // bits: a synthesis frontend unrolls a loop over 16 k queue bits for many minutes.)
  logic [NP-1:0] queued;    // the map in queue order
  logic [NP-1:0] unit_mask;  // mask_i of each queue bit's unit, 0 on padding units
  localparam int ROW_Q = WP * KP;  // queue bits per conv row (c, y, a)
  if (NP > N) begin : g_tail
    assign queued[NP-1:N] = '0;
  end
  if (CONV == 0 && POOL == 1) begin : g_identity
    assign queued[N-1:0] = spikes_i;
  end else if (CONV != 0) begin : g_conv
    for (genvar c = 0; c < IN_C; c++) begin : g_c
      localparam int C0 = c * HP * KP * ROW_Q;
      if (HP > H) begin : g_pad_y
        assign queued[C0+H*KP*ROW_Q+:(HP-H)*KP*ROW_Q] = '0;
      end
      for (genvar r = 0; r < IN_H; r++) begin : g_r
        localparam int Y = r / POOL;
        localparam int A = r % POOL;
        localparam int R0 = C0 + (Y * KP + A) * ROW_Q;
        localparam int I0 = (c * IN_H + r) * IN_W;
        if (KP == POOL) begin : g_row
          assign queued[R0+:IN_W] = spikes_i[I0+:IN_W];
        end else begin : g_windows
          for (genvar x = 0; x < W; x++) begin : g_x
            assign queued[R0+x*KP+:POOL] = spikes_i[I0+x*POOL+:POOL];
            assign queued[R0+x*KP+POOL+:KP-POOL] = '0;
          end
        end
        if (WP > W) begin : g_pad_x
          assign queued[R0+W*KP+:(WP-W)*KP] = '0;
        end
        if (A == POOL - 1 && KP > POOL) begin : g_pad_a
          assign queued[C0+(Y*KP+POOL)*ROW_Q+:(KP-POOL)*ROW_Q] = '0;
        end
      end
    end
  end else begin : g_fc_pooled
    for (genvar c = 0; c < IN_C; c++) begin : g_c
      for (genvar r = 0; r < IN_H; r++) begin : g_r
        for (genvar x = 0; x < W; x++) begin : g_x
          localparam int U = (c * H + r / POOL) * W + x;
          localparam int A = r % POOL;
          localparam int I0 = (c * IN_H + r) * IN_W + x * POOL;
          assign queued[(U*KP+A)*KP+:POOL] = spikes_i[I0+:POOL];
          if (KP > POOL) begin : g_pad_b
            assign queued[(U*KP+A)*KP+POOL+:KP-POOL] = '0;
          end
          if (A == POOL - 1 && KP > POOL) begin : g_pad_a
            assign queued[(U*KP+POOL)*KP+:(KP-POOL)*KP] = '0;
          end
        end
      end
    end
  end

  // the marks of every unit index the queue can hold (units rounded up to a power of
  // two), 0 beyond UNITS
  localparam int UNITS_P = NP >> SHIFT;
  logic [UNITS_P-1:0] marks_padded[M];
  for (genvar m = 0; m < M; m++) begin : g_marks
    assign marks_padded[m] = UNITS_P'(marks_i[m*UNITS+:UNITS]);
  end
  // a unit's queue bits are one run of 2^SHIFT (a loop over units, not over bits)
  logic [UNITS_P-1:0] mask_padded;
  assign mask_padded = UNITS_P'(mask_i);
  for (genvar u = 0; u < UNITS_P; u++) begin : g_unit_mask
    assign unit_mask[(u<<SHIFT)+:(1<<SHIFT)] = {(1 << SHIFT) {mask_padded[u]}};
  end

  logic [Q-1:0] words_q[G];                  // the latched map in queue order
  logic [G-1:0] occ_q, occ_d;
  logic widx_v_q, widx_v_d;
  logic [GW-1:0] widx_q, widx_d;
  logic cur_v_q, cur_v_d;
  logic [Q-1:0] cur_q, cur_d;
  logic [GW-1:0] cur_w_q, cur_w_d;
  logic [M*Q-1:0] cur_marks_q, cur_marks_d;  // mark m at [m*Q +: Q]
  logic head_v_q, head_v_d;
  logic [IW-1:0] head_q, head_d;
  logic [M-1:0] head_marks_q, head_marks_d;
  logic [HOLD-1:0] warm_q;                   // countdown after the load, one bit per cycle

  logic occ_found, cur_found;
  logic [GW-1:0] occ_low;
  logic [QW-1:0] cur_low;
  lowest_set #(.N(G)) u_word (
      .bits_i (occ_q),
      .found_o(occ_found),
      .index_o(occ_low)
  );
  lowest_set #(.N(Q)) u_bit (
      .bits_i (cur_q),
      .found_o(cur_found),
      .index_o(cur_low)
  );

  // Stage hand-over: a stage takes from the one before when it is empty or its content
  // moves on in this cycle.
  logic head_free, take_cur, cur_last, cur_refill, take_widx, widx_free;
  logic [Q-1:0] cur_rest, cur_lowest;
  assign cur_rest = cur_q & (cur_q - 1'b1);  // without the spike the head takes
  assign cur_lowest = cur_q ^ cur_rest;      // one-hot: the spike the head takes
  assign cur_last = cur_rest == '0;
  assign head_free = !head_v_q || pop_i;
  assign take_cur = head_free && cur_v_q;
  assign cur_refill = !cur_v_q || (take_cur && cur_last);
  assign take_widx = cur_refill && widx_v_q;
  assign widx_free = !widx_v_q || take_widx;

  logic [IW-1:0] cur_index;
  if (G > 1) begin : g_words
    assign cur_index = {cur_w_q, cur_low};
  end else begin : g_one_word
    logic unused_word;  // one word: its index is always 0
    assign unused_word = ^cur_w_q;
    assign cur_index = cur_low;
  end

  always_comb begin
    head_v_d = head_v_q;
    head_d = head_q;
    head_marks_d = head_marks_q;
    cur_marks_d = cur_marks_q;
    cur_v_d = cur_v_q;
    cur_d = cur_q;
    cur_w_d = cur_w_q;
    widx_v_d = widx_v_q;
    widx_d = widx_q;
    occ_d = occ_q;
    if (head_free) begin
      head_v_d = cur_v_q;
      head_d = cur_index;
      for (int m = 0; m < M; m++) begin
        head_marks_d[m] = |(cur_lowest & cur_marks_q[m*Q+:Q]);
      end
    end
    if (cur_refill) begin
      cur_v_d = widx_v_q;
      cur_d = words_q[widx_q] & unit_mask[int'(widx_q)*Q+:Q];
      cur_w_d = widx_q;
      // each bit of the word takes its unit's marks (padding bits never pop): the unit
      // is a bit field of the index, so this is a multiplexer, not a divider
      for (int i = 0; i < Q; i++) begin
        for (int m = 0; m < M; m++) begin
          cur_marks_d[m*Q+i] = marks_padded[m][(int'(widx_q)*Q+i)>>SHIFT];
        end
      end
    end else if (take_cur) begin
      cur_d = cur_rest;
    end
    if (widx_free) begin
      widx_v_d = occ_found;
      widx_d = occ_low;
      occ_d = occ_q & (occ_q - 1'b1);  // without the word widx takes
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      occ_q <= '0;
      widx_v_q <= 1'b0;
      widx_q <= '0;
      cur_v_q <= 1'b0;
      cur_q <= '0;
      cur_w_q <= '0;
      head_v_q <= 1'b0;
      head_q <= '0;
      head_marks_q <= '0;
      cur_marks_q <= '0;
      warm_q <= '0;
    end else if (load_i) begin
      for (int g = 0; g < G; g++) begin
        occ_q[g] <= |(queued[g*Q+:Q] & unit_mask[g*Q+:Q]);
      end
      widx_v_q <= 1'b0;
      cur_v_q <= 1'b0;
      head_v_q <= 1'b0;
      warm_q <= '1;
    end else begin
      occ_q <= occ_d;
      widx_v_q <= widx_v_d;
      widx_q <= widx_d;
      cur_v_q <= cur_v_d;
      cur_q <= cur_d;
      cur_w_q <= cur_w_d;
      head_v_q <= head_v_d;
      head_q <= head_d;
      head_marks_q <= head_marks_d;
      cur_marks_q <= cur_marks_d;
      warm_q <= warm_q >> 1;
    end
  end

  // the latched map: data only (occ_q says which words count, unit_mask which bits),
  // and a register this wide without reset is plain flip-flops
  always_ff @(posedge clk_i) begin
    if (load_i) begin
      for (int g = 0; g < G; g++) begin
        words_q[g] <= queued[g*Q+:Q];
      end
    end
  end

  // The head's unit and position: fields of its index.
  always_comb begin
    int index;
    index = int'(head_q);
    unit_o = UW'(index >> SHIFT);
    pos_o = PW'((((index >> (2 * KB + WB)) % HP) << WB) | ((index >> KB) % WP));
  end

  logic unused_found;  // cur_v_q already says whether cur_q holds a spike
  assign unused_found = cur_found;
  assign valid_o = head_v_q;
  assign marks_o = head_marks_q;
  assign pending_o = head_v_q || cur_v_q || widx_v_q || (|occ_q) || warm_q[0];
endmodule

`default_nettype wire
