// One lane of the neuron update (docs/hardware-contract.md, section 3):
//   v = sat((u >>> leak_shift) + acc)  at max(V_BITS, ACC_BITS) + 1 bits
//   fire = v >= v_th;  u' = fire ? 0 : v
// Threshold, leak and saturation bounds are ports, so one build serves many layers.
`default_nettype none

module lif_update #(
    parameter int V_BITS = 16,   // stored membrane width (a layer may use fewer bits)
    parameter int ACC_BITS = 16  // step current width
) (
    input  wire signed [        V_BITS-1:0] u_i,           // membrane before the step
    input  wire                             first_i,       // new sample: u is taken as 0
    input  wire signed [      ACC_BITS-1:0] acc_i,         // step current I
    input  wire        [$clog2(V_BITS)-1:0] leak_shift_i,
    input  wire signed [        V_BITS-1:0] v_th_i,
    input  wire signed [        V_BITS-1:0] v_min_i,       // saturation bounds
    input  wire signed [        V_BITS-1:0] v_max_i,
    output logic                            fire_o,
    output logic signed [       V_BITS-1:0] u_o            // membrane after reset
);
  localparam int SUM_BITS = ((V_BITS > ACC_BITS) ? V_BITS : ACC_BITS) + 1;

  logic signed [V_BITS-1:0] u_old, leaked, v_low, v_sat;
  logic signed [SUM_BITS-1:0] v_wide, v_min_wide, v_max_wide;

  assign u_old = first_i ? '0 : u_i;
  assign leaked = u_old >>> leak_shift_i;
  assign v_wide = SUM_BITS'(leaked) + SUM_BITS'(acc_i);  // signed operands sign-extend
  assign v_min_wide = SUM_BITS'(v_min_i);
  assign v_max_wide = SUM_BITS'(v_max_i);
  assign v_low = v_wide[V_BITS-1:0];

  always_comb begin
    if (v_wide > v_max_wide) begin
      v_sat = v_max_i;
    end else if (v_wide < v_min_wide) begin
      v_sat = v_min_i;
    end else begin
      v_sat = v_low;
    end
    fire_o = v_sat >= v_th_i;
    u_o = fire_o ? '0 : v_sat;
  end
endmodule

`default_nettype wire
