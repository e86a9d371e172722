// Input spike queue: holds the latched spike vector of one time step and hands out
// the spiking inputs in increasing order, one per pop, so silent inputs cost no cycle.
//
// One priority encoder over a wide vector (784 inputs for Fashion-MNIST) is too slow
// for the clock, so the vector is kept as G words of Q <= 32 bits and handed out by a
// three-stage pipeline in which every encoder sees at most 32 register bits:
//   occ_q   one bit per word that still holds spikes and is not yet in a later stage
//   word    widx_q: the lowest such word, found one stage ahead
//   cur     cur_q: the spikes of word cur_w_q not yet handed out
//   head    head_q: the lowest of them, index_o / valid_o
// Every input carries M constant mark bits (marks_i), handed out with it (marks_o), so
// that a per-input property needs no multiplexer over every input after the pop.
// Each stage refills in the cycle its content moves on, and a word in occ_q holds at
// least one spike, so after the start-up the head refills in every cycle it is popped.
// Start-up: the load cycle latches the vector, the next three cycles fill word, cur and
// head; the first head is valid in the fourth cycle after the load. pending_o stays
// high for at least HOLD cycles after the load (HOLD >= 4), so that the core can make a
// step without spikes cost the same overhead as one with (docs/microarchitecture.md,
// section 5).
`default_nettype none

module spike_queue #(
    parameter int N = 8,  // inputs
    parameter int M = 1,  // mark bits per input
    parameter int HOLD = 4,  // cycles after a load with pending_o high, at least 4
    // derived, do not override
    parameter int IW = (N > 1) ? $clog2(N) : 1
) (
    input  wire           clk_i,
    input  wire           rst_ni,
    input  wire           load_i,     // replace the contents with spikes_i
    input  wire  [ N-1:0] spikes_i,
    input  wire  [M*N-1:0] marks_i,   // mark m of input j at bit m*N + j; constant
    input  wire           pop_i,      // remove the head (ignored when empty)
    output logic          valid_o,    // index_o is the lowest waiting input
    output logic [IW-1:0] index_o,
    output logic [ M-1:0] marks_o,    // the head's marks
    output logic          pending_o   // a head is valid or still to come in this step
);
  localparam int NP = 1 << IW;               // N rounded up to a power of two (>= 2)
  localparam int Q = (NP < 32) ? NP : 32;    // word width
  localparam int QW = $clog2(Q);
  localparam int G = NP / Q;                 // words, a power of two
  localparam int GW = (G > 1) ? $clog2(G) : 1;

  logic [NP-1:0] bits_q;                     // the latched vector, word g at [g*Q +: Q]
  logic [G-1:0] occ_q, occ_d, occ_load;
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

  logic [NP-1:0] padded, marks_padded[M];
  assign padded = NP'(spikes_i);
  for (genvar m = 0; m < M; m++) begin : g_marks
    assign marks_padded[m] = NP'(marks_i[m*N+:N]);
  end
  for (genvar g = 0; g < G; g++) begin : g_occ
    assign occ_load[g] = |padded[g*Q+:Q];
  end

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
      cur_d = bits_q[widx_q*Q+:Q];
      cur_w_d = widx_q;
      for (int m = 0; m < M; m++) begin
        cur_marks_d[m*Q+:Q] = marks_padded[m][widx_q*Q+:Q];
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
      occ_q <= occ_load;
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

  // the latched vector: data only (occ_q says which words count), and a register this
  // wide without reset is plain flip-flops
  always_ff @(posedge clk_i) begin
    if (load_i) begin
      bits_q <= padded;
    end
  end

  logic unused_found;  // cur_v_q already says whether cur_q holds a spike
  assign unused_found = cur_found;
  assign valid_o = head_v_q;
  assign index_o = head_q;
  assign marks_o = head_marks_q;
  assign pending_o = head_v_q || cur_v_q || widx_v_q || (|occ_q) || warm_q[0];
endmodule

`default_nettype wire
