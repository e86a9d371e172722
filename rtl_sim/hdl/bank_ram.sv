// Simple dual-port RAM: one write port, one registered read port, one clock.
//
// A read of the address written in the same cycle returns the old word here; the
// core never relies on that (it forwards the last write itself), so any block RAM
// read-during-write mode is fine. Contents are not reset: the core clears them.
`default_nettype none

module bank_ram #(
    parameter int WIDTH = 16,  // word width in bits
    parameter int DEPTH = 4,   // words
    // derived, do not override
    parameter int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  wire              clk_i,
    input  wire              we_i,
    input  wire  [   AW-1:0] waddr_i,
    input  wire  [WIDTH-1:0] wdata_i,
    input  wire              re_i,     // read enable: rdata_o holds mem[raddr_i] next cycle
    input  wire  [   AW-1:0] raddr_i,
    output logic [WIDTH-1:0] rdata_o
);
  logic [WIDTH-1:0] mem[DEPTH];
  logic [WIDTH-1:0] rdata_q;

  always_ff @(posedge clk_i) begin
    if (we_i) begin
      mem[waddr_i] <= wdata_i;
    end
  end

  always_ff @(posedge clk_i) begin
    if (re_i) begin
      rdata_q <= mem[raddr_i];
    end
  end

  assign rdata_o = rdata_q;
endmodule

`default_nettype wire
