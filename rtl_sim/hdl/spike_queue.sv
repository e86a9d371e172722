// Input spike queue: holds the latched spike vector of one time step and hands out
// the lowest-index spiking input, one per cycle, so silent inputs cost no cycle.
//
// The head (lowest waiting input) is a register, so index_o and valid_o come straight
// from flip-flops. The rest of the inputs wait in rest_q; a load or a pop moves the
// lowest bit of the new contents (spikes_i, or rest_q) into the head with a balanced
// priority encoder that only sees registers (or spikes_i) and is selected late by
// load_i / pop_i.
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
  localparam int NP = 1 << IW;  // N rounded up to a power of two

  logic [N-1:0] rest_q, rest_d;
  logic head_v_q, head_v_d;
  logic [IW-1:0] head_q, head_d;

  // Balanced priority encoder over NP (padded) bits, in place: after level l, node k
  // (bits [k << l, (k + 1) << l)) has its any-bit flag in v[k] and its lowest set bit,
  // relative to the node's base, in idx[k]. Node k of level l reads nodes 2k and 2k+1
  // of level l - 1, which no lower k has overwritten yet. Returns {found, index}.
  function automatic logic [IW:0] lowest_set(input logic [NP-1:0] bits);
    logic [NP-1:0] v;
    logic [NP*IW-1:0] idx;
    v = bits;
    for (int k = 0; k < NP; k++) begin  // a loop, not '0: wide inputs exceed Verilator's
      idx[k*IW+:IW] = '0;               // replication limit (784 inputs: 10,240 bits)
    end
    for (int l = 1; l <= IW; l++) begin
      for (int k = 0; k < NP / 2; k++) begin
        if (k < (NP >> l)) begin
          if (v[2*k]) begin
            idx[k*IW+:IW] = idx[2*k*IW+:IW];
          end else begin
            idx[k*IW+:IW] = idx[(2*k+1)*IW+:IW] | IW'(1 << (l - 1));
          end
          v[k] = v[2*k] | v[2*k+1];
        end
      end
    end
    lowest_set = {v[0], idx[IW-1:0]};
  endfunction

  // Two encoders, on spikes_i (load) and on rest_q (pop), so that load_i / pop_i only
  // select among finished results.
  logic found_load, found_pop;
  logic [IW-1:0] lowest_load, lowest_pop;
  logic [N-1:0] next_load, next_pop;
  assign {found_load, lowest_load} = lowest_set(NP'(spikes_i));
  assign {found_pop, lowest_pop} = lowest_set(NP'(rest_q));
  assign next_load = spikes_i & (spikes_i - 1'b1);  // without its lowest set bit
  assign next_pop = rest_q & (rest_q - 1'b1);

  // A load or a pop is the flip-flops' enable, so it only reaches their clock-enable
  // pins and the 2:1 choice between the two finished candidates.
  logic update;
  assign update = load_i || (pop_i && head_v_q);
  assign rest_d = load_i ? next_load : next_pop;
  assign head_v_d = load_i ? found_load : found_pop;
  assign head_d = load_i ? lowest_load : lowest_pop;

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      rest_q <= '0;
      head_v_q <= 1'b0;
      head_q <= '0;
    end else if (update) begin
      rest_q <= rest_d;
      head_v_q <= head_v_d;
      head_q <= head_d;
    end
  end

  assign valid_o = head_v_q;
  assign index_o = head_q;
endmodule

`default_nettype wire
