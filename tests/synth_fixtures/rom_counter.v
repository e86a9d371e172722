// Synthesis fixture: a ROM with a registered read, addressed by a free-running counter.
// The ROM image is the string parameter FILE, read by $readmemh at elaboration, so a
// synthesis flow must pass the parameter and copy the image beside the sources.
`default_nettype none

module rom_counter #(
    parameter FILE = "rom.mem",  // $readmemh image, DEPTH lines of WIDTH-bit hex words
    parameter DEPTH = 1024,      // ROM words
    parameter WIDTH = 16         // ROM word width
) (
    input  wire                     clk_i,
    input  wire                     rst_ni,
    output reg  [WIDTH-1:0]         data_o,   // ROM word at the previous count
    output reg  [$clog2(DEPTH)-1:0] count_o   // free-running address counter
);
  reg [WIDTH-1:0] rom[0:DEPTH-1];

  initial $readmemh(FILE, rom);

  always @(posedge clk_i) begin
    if (!rst_ni) begin
      count_o <= '0;
    end else begin
      count_o <= count_o + 1'b1;
    end
  end

  always @(posedge clk_i) begin
    data_o <= rom[count_o];
  end
endmodule

`default_nettype wire
