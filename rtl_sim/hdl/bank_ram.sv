// Simple dual-port RAM: one write port, one registered read port, one clock.
//
// TRANSPARENT = 0: a read of the address written in the same cycle returns the old
// word (the core never relies on that). TRANSPARENT = 1: it returns the word being
// written (write-first), which the accumulator banks use to forward the last write
// without a multiplexer after the read register. Contents are not reset: the core
// clears them.
`default_nettype none

module bank_ram #(
    parameter int WIDTH = 16,  // word width in bits
    parameter int DEPTH = 4,   // words
    parameter bit TRANSPARENT = 0,  // read-during-write to one address returns wdata_i
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
      if (TRANSPARENT && we_i && waddr_i == raddr_i) begin
        rdata_q <= wdata_i;
      end else begin
        rdata_q <= mem[raddr_i];
      end
    end
  end

  assign rdata_o = rdata_q;
endmodule

`default_nettype wire
