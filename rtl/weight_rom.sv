// weight_rom: DEPTH words of WIDTH bits, synchronous read, initialised from a hex file.
//
// Parameters
//   WIDTH      bits per word
//   DEPTH      words
//   INIT_FILE  $readmemh file: one word per line, hex, fixed width (fpgaflow.hw.weight_rom writes it)
// Ports: clk; en (read enable); addr; data (the word at addr one cycle after en).
// A registered read with no reset on the data is what block RAM inference expects.
module weight_rom #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 16,
    parameter INIT_FILE = "weights.mem"
) (
    input  logic                                         clk,
    input  logic                                         en,
    input  logic [((DEPTH > 1) ? $clog2(DEPTH) : 1)-1:0] addr,
    output logic [WIDTH-1:0]                             data
);
    (* ram_style = "block" *) logic [WIDTH-1:0] mem [DEPTH];

    initial $readmemh(INIT_FILE, mem);

    always_ff @(posedge clk) begin
        if (en) data <= mem[addr];
    end
endmodule
