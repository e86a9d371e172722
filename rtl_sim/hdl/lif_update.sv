// One lane of the neuron update (docs/hardware-contract.md, section 3):
//   v = sat((u >>> leak_shift) + acc)  at max(V_BITS, ACC_BITS) + 1 bits
//   fire = v >= v_th;  u' = fire ? 0 : v
// Threshold, leak and saturation bounds are ports, so one build serves many layers.
//
// Two stages, so that no long carry chain follows another:
//   U1 (u_i valid, registered at the clock edge): leaked = u >>> leak_shift and the
//      three bounds seen from the current side, v_max - leaked, v_min - leaked,
//      v_th - leaked
//   U2 (acc_i valid, combinational outputs): three independent compares of acc_i with
//      those bounds and the sum leaked + acc_i select the result
// fire_o / u_o belong to the u_i of the previous cycle and the acc_i of this cycle.
`default_nettype none

module lif_update #(
    parameter int V_BITS = 16,   // stored membrane width (a layer may use fewer bits)
    parameter int ACC_BITS = 16  // step current width
) (
    input  wire                             clk_i,
    input  wire signed [        V_BITS-1:0] u_i,           // U1: membrane before the step
    input  wire                             first_i,       // U1: new sample, u is taken as 0
    input  wire signed [      ACC_BITS-1:0] acc_i,         // U2: step current I
    input  wire        [$clog2(V_BITS)-1:0] leak_shift_i,
    input  wire signed [        V_BITS-1:0] v_th_i,
    input  wire signed [        V_BITS-1:0] v_min_i,       // saturation bounds
    input  wire signed [        V_BITS-1:0] v_max_i,
    output logic                            fire_o,        // U2
    output logic signed [       V_BITS-1:0] u_o            // U2: membrane after reset
);
  // wide enough for acc_i, for v_max - leaked and for leaked + acc_i without overflow
  localparam int SB = ((V_BITS > ACC_BITS) ? V_BITS : ACC_BITS) + 2;

  logic signed [V_BITS-1:0] u_old, leaked_d, leaked_q;
  logic signed [SB-1:0] hi_d, lo_d, th_d, hi_q, lo_q, th_q, acc_wide, v_wide;
  logic signed [V_BITS-1:0] v_low;
  logic over, under, reach, fire_hi, fire_lo;

  // U1
  assign u_old = first_i ? '0 : u_i;
  assign leaked_d = u_old >>> leak_shift_i;
  assign hi_d = SB'(v_max_i) - SB'(leaked_d);  // signed operands sign-extend
  assign lo_d = SB'(v_min_i) - SB'(leaked_d);
  assign th_d = SB'(v_th_i) - SB'(leaked_d);

  always_ff @(posedge clk_i) begin
    leaked_q <= leaked_d;
    hi_q <= hi_d;
    lo_q <= lo_d;
    th_q <= th_d;
  end

  // U2: v = leaked + acc;  v > v_max <=> acc > v_max - leaked, and so on
  assign acc_wide = SB'(acc_i);
  assign v_wide = SB'(leaked_q) + acc_wide;
  assign v_low = v_wide[V_BITS-1:0];
  assign over = acc_wide > hi_q;
  assign under = acc_wide < lo_q;
  assign reach = acc_wide >= th_q;
  assign fire_hi = v_max_i >= v_th_i;  // configuration only
  assign fire_lo = v_min_i >= v_th_i;

  always_comb begin
    if (over) begin
      fire_o = fire_hi;
      u_o = fire_hi ? '0 : v_max_i;
    end else if (under) begin
      fire_o = fire_lo;
      u_o = fire_lo ? '0 : v_min_i;
    end else begin
      fire_o = reach;
      u_o = reach ? '0 : v_low;
    end
  end

  logic unused_v_wide;
  assign unused_v_wide = ^v_wide[SB-1:V_BITS];
endmodule

`default_nettype wire
