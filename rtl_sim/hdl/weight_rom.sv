// Read-only memory with one registered read port (docs/microarchitecture.md).
//
// The image loads at time 0 with $readmemh(FILE), the form Yosys, Vivado and Quartus
// turn into an initialised block RAM. Simulation only: a plusarg +<PLUSARG>=<path>
// loads the image from <path> instead, and the task reload() reads it again, so one
// simulator run serves many weight sets (the simulation top calls it between cases).
// The string / $value$plusargs code sits inside `ifndef SYNTHESIS.
`default_nettype none

// The memory's image load and read port, the same in both branches below, which differ
// only in the synthesis attribute of the memory (an attribute cannot be conditional).
`ifndef SYNTHESIS
`define SDSNN_WEIGHT_ROM_BODY \
    task automatic reload; \
      string path; \
      if (PLUSARG != "" && $value$plusargs($sformatf("%s=%%s", PLUSARG), path)) begin \
        $readmemh(path, mem); \
      end else if (FILE != "") begin \
        $readmemh(FILE, mem); \
      end \
    endtask \
    initial reload(); \
    always_ff @(posedge clk_i) begin \
      if (en_i) begin \
        rdata_q <= mem[addr_i]; \
      end \
    end
`else
`define SDSNN_WEIGHT_ROM_BODY \
    initial $readmemh(FILE, mem); \
    always_ff @(posedge clk_i) begin \
      if (en_i) begin \
        rdata_q <= mem[addr_i]; \
      end \
    end
`endif

module weight_rom #(
    parameter int WIDTH = 8,    // word width in bits
    parameter int DEPTH = 16,   // words
    parameter FILE = "",        // $readmemh image loaded at time 0 (empty: none)
    parameter PLUSARG = "",     // simulation: +<PLUSARG>=<path> overrides FILE (empty: none)
    parameter bit BLOCK = 1'b1, // synthesis: block RAM even when small (else the tool's choice)
    // derived, do not override
    parameter int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1
) (
    input  wire              clk_i,
    input  wire              en_i,     // read enable: rdata_o holds mem[addr_i] next cycle
    input  wire  [   AW-1:0] addr_i,
    output logic [WIDTH-1:0] rdata_o   // holds its value while en_i is low
);
  logic [WIDTH-1:0] rdata_q;

  // Block RAM even when small for the weights (BLOCK = 1), what an FPGA engineer sizes;
  // small pointer ROMs may stay LUTs, which are faster than block RAM's clock-to-out.
  if (BLOCK) begin : g_block
    (* rom_style = "block", ram_style = "block" *)
    logic [WIDTH-1:0] mem[DEPTH];
    `SDSNN_WEIGHT_ROM_BODY
  end else begin : g_auto
    logic [WIDTH-1:0] mem[DEPTH];
    `SDSNN_WEIGHT_ROM_BODY
  end

  assign rdata_o = rdata_q;
endmodule

`undef SDSNN_WEIGHT_ROM_BODY

`default_nettype wire
