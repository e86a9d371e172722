// Simulation only: gathers a core's update stream (one beat of LANES membranes per bank
// address, addresses 0 .. DEPTH-1 in order) into one register per neuron, so a
// testbench reads a whole layer once per step instead of every beat. The stream's last
// beat is in the core's done_o cycle, so the output holds the complete step from the
// cycle after done_o until the layer's next update pass. Nothing of this module exists
// for synthesis.
`default_nettype none

`ifndef SYNTHESIS
module update_collector #(
    parameter int N_OUT = 8,    // neurons
    parameter int LANES = 2,    // neurons per beat
    parameter int V_BITS = 16,  // membrane width
    // derived, do not override
    parameter int DEPTH = (N_OUT + LANES - 1) / LANES  // beats per step
) (
    input  wire                      clk_i,
    input  wire                      valid_i,      // the core's upd_valid_o
    input  wire  [LANES*V_BITS-1:0]  membranes_i,  // upd_membranes_o
    output logic [N_OUT*V_BITS-1:0]  membranes_o   // neuron n at [n*V_BITS +: V_BITS]
);
  localparam int ROW_BITS = LANES * V_BITS;
  localparam int ALL_BITS = DEPTH * ROW_BITS;

  // each beat shifts in from the top: after the last one, address a is row a
  logic [ALL_BITS-1:0] rows_q;

  always_ff @(posedge clk_i) begin
    if (valid_i) begin
      rows_q <= ALL_BITS'({membranes_i, rows_q} >> ROW_BITS);
    end
  end

  assign membranes_o = rows_q[N_OUT*V_BITS-1:0];

  if (ALL_BITS > N_OUT * V_BITS) begin : g_padding
    logic unused_padding;  // the padding neurons of the last bank address
    assign unused_padding = ^rows_q[ALL_BITS-1:N_OUT*V_BITS];
  end
endmodule
`endif

`default_nettype wire
