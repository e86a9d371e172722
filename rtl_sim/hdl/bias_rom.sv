// Bias memory of one layer (docs/hardware-contract.md, section 5): one BIAS_BITS word
// per output unit, read a lane row at a time. Row r gives lane p the bias of unit
// r * LANES + p, and 0 for the padding units beyond UNITS. Registered outputs.
//
// The image loads at time 0 with $readmemh(FILE); the memory is small, so the tools
// keep it in LUTs. Simulation only: +<PLUSARG>=<path> loads it from <path> instead,
// and reload() reads it again (as weight_rom does).
`default_nettype none

module bias_rom #(
    parameter int WIDTH = 8,   // BIAS_BITS, two's complement
    parameter int UNITS = 8,   // words in the image
    parameter int LANES = 2,   // words per row
    parameter int ROWS = (UNITS + LANES - 1) / LANES,
    parameter FILE = "",
    parameter PLUSARG = "",
    // derived, do not override
    parameter int RB = (ROWS > 1) ? $clog2(ROWS) : 1
) (
    input  wire                    clk_i,
    input  wire                    en_i,
    input  wire  [         RB-1:0] row_i,
    output logic [LANES*WIDTH-1:0] rdata_o  // lane p at [p*WIDTH +: WIDTH]
);
  logic [WIDTH-1:0] mem[UNITS];
  logic [LANES*WIDTH-1:0] rdata_q;

`ifndef SYNTHESIS
  task automatic reload;
    string path;
    if (PLUSARG != "" && $value$plusargs($sformatf("%s=%%s", PLUSARG), path)) begin
      $readmemh(path, mem);
    end else if (FILE != "") begin
      $readmemh(FILE, mem);
    end
  endtask
  initial reload();
`else
  initial $readmemh(FILE, mem);
`endif

  always_ff @(posedge clk_i) begin
    if (en_i) begin
      for (int p = 0; p < LANES; p++) begin
        if (int'(row_i) * LANES + p < UNITS) begin
          rdata_q[p*WIDTH+:WIDTH] <= mem[int'(row_i)*LANES+p];
        end else begin
          rdata_q[p*WIDTH+:WIDTH] <= '0;
        end
      end
    end
  end

  assign rdata_o = rdata_q;
endmodule

`default_nettype wire
