// Balanced priority encoder: the lowest set bit of bits_i and whether there is one.
//
// In place over N rounded up to a power of two: after level l, node k (bits
// [k << l, (k + 1) << l)) has its any-bit flag in v[k] and its lowest set bit, relative
// to the node's base, in idx[k]. Node k of level l reads nodes 2k and 2k + 1 of level
// l - 1, which no lower k has overwritten yet. Depth: log2(N) levels of 2:1 choices.
//
// Above 64 bits it works in two steps: the lowest 32-bit group that holds a set bit
// (an encoder over the groups' any-bits), then the lowest bit of that group. The
// depth is about the same; a simulator then evaluates two small encoders per cycle
// instead of one as wide as the input (the spike queue's 512-word occupancy).
`default_nettype none

module lowest_set #(
    parameter int N = 8,
    // derived, do not override
    parameter int IW = (N > 1) ? $clog2(N) : 1
) (
    input  wire  [ N-1:0] bits_i,
    output logic          found_o,
    output logic [IW-1:0] index_o
);
  localparam int NP = 1 << IW;  // N rounded up to a power of two (at least 2)

  function automatic logic [IW:0] lowest(input logic [NP-1:0] bits);
    logic [NP-1:0] v;
    logic [NP*IW-1:0] idx;
    v = bits;
    for (int k = 0; k < NP; k++) begin  // a loop, not '0: wide inputs exceed Verilator's
      idx[k*IW+:IW] = '0;               // replication limit
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
    lowest = {v[0], idx[IW-1:0]};
  endfunction

  localparam int S = 32;  // group width of the two-step form

  if (NP <= 2 * S) begin : g_tree
    assign {found_o, index_o} = lowest(NP'(bits_i));
  end else begin : g_groups
    localparam int GN = NP / S;
    localparam int GW = $clog2(GN);
    logic [NP-1:0] bits;
    logic [GN-1:0] any;
    logic [GW-1:0] group;
    logic [$clog2(S)-1:0] low;
    logic unused_found;  // a group with a set bit has a lowest one
    assign bits = NP'(bits_i);
    for (genvar g = 0; g < GN; g++) begin : g_any
      assign any[g] = |bits[g*S+:S];
    end
    lowest_set #(.N(GN)) u_group (
        .bits_i (any),
        .found_o(found_o),
        .index_o(group)
    );
    lowest_set #(.N(S)) u_bit (
        .bits_i (bits[group*S+:S]),
        .found_o(unused_found),
        .index_o(low)
    );
    assign index_o = {group, low};
  end
endmodule

`default_nettype wire
