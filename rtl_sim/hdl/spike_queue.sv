// Input spike queue: holds the latched spike vector of one time step and hands out
// the lowest-index spiking input, one per cycle, so silent inputs cost no cycle.
`default_nettype none

module spike_queue #(
    parameter int N = 8,  // inputs
    // derived, do not override
    parameter int IW = (N > 1) ? $clog2(N) : 1
) (
    input  wire           clk_i,
    input  wire           rst_ni,
    input  wire           load_i,    // replace the contents with spikes_i
    input  wire  [ N-1:0] spikes_i,
    input  wire           pop_i,     // remove the head (ignored when empty)
    output logic          valid_o,   // some input is waiting
    output logic [IW-1:0] index_o    // lowest waiting input
);
  logic [N-1:0] bits_q, bits_d, lowest;

  // Bit b of the index of input i: set in MASK(b) where bit b of i is 1
  function automatic logic [N-1:0] index_mask(input int b);
    for (int i = 0; i < N; i++) begin
      index_mask[i] = ((i >> b) & 1) == 1;
    end
  endfunction

  assign lowest = bits_q & (~bits_q + 1'b1);  // one-hot: the lowest set bit
  for (genvar b = 0; b < IW; b++) begin : g_index
    localparam logic [N-1:0] MASK = index_mask(b);
    assign index_o[b] = |(lowest & MASK);
  end

  assign valid_o = |bits_q;

  always_comb begin
    bits_d = bits_q;
    if (load_i) begin
      bits_d = spikes_i;
    end else if (pop_i) begin
      bits_d = bits_q & (bits_q - 1'b1);  // clear the lowest set bit
    end
  end

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      bits_q <= '0;
    end else begin
      bits_q <= bits_d;
    end
  end
endmodule

`default_nettype wire
