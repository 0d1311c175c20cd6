// weight_rom: DEPTH words of WIDTH bits, synchronous read, initialised from a hex file.
//
// Parameters
//   WIDTH      bits per word
//   DEPTH      words
//   INIT_FILE  $readmemh file: one word per line, hex, fixed width (fpgaflow.flow.weight_rom writes it)
//   RAM_STYLE  "block" (block RAM) or "distributed" (LUTs as 64x1 ROMs): the generator picks the
//              cheaper by shape (fpgaflow.backends.rtl.resource_model.memory_style); a wide and shallow ROM
//              would leave its block RAMs almost empty
//   EN_N       copies of the read enable the caller drives (registers of the same value): the
//              distributed style spreads its address copies' clock enables over them
// Ports: clk; en (EN_N copies of the read enable); addr; data (the word at addr one cycle after en).
// A registered read with no reset on the data is what block RAM inference expects. The
// distributed style registers the address instead and reads the LUTs from it: the same
// word in the same cycle (the contents never change), with AW flip-flops per SLICE bits of
// the word (rtl/fanout_register.sv copies) instead of WIDTH, so `en` drives a few clock
// enables instead of WIDTH and no address net drives more than SLICE bits' LUTs (in the
// digits example's engines the enable drove 1,099 clock enables and an address bit 5,405 LUTs).
module weight_rom #(
    parameter int WIDTH = 32,
    parameter int DEPTH = 16,
    parameter INIT_FILE = "weights.mem",
    parameter RAM_STYLE = "block",
    parameter int EN_N = 1
) (
    input  logic                                         clk,
    input  logic [EN_N-1:0]                              en,
    input  logic [((DEPTH > 1) ? $clog2(DEPTH) : 1)-1:0] addr,
    output logic [WIDTH-1:0]                             data
);
    // The attribute takes a constant, so each style is its own generate branch. Strings of
    // different lengths compare zero-extended, which is what Verilator's width warning is about.
    /* verilator lint_off WIDTHEXPAND */
    localparam bit DISTRIBUTED = (RAM_STYLE == "distributed");
    /* verilator lint_on WIDTHEXPAND */
    localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam int SLICE = 64;  // word bits per copy of a LUT ROM's address register
    localparam int SLICES = (WIDTH + SLICE - 1) / SLICE;

    initial begin
        if (EN_N < 1) $error("weight_rom: EN_N = %0d must be at least 1", EN_N);
    end

    generate
        if (DISTRIBUTED) begin : g_distributed
            // Vivado calls LUT ROMs "distributed"; Yosys maps only writable memories to LUTRAM
            // and builds a ROM from LUTs when told "logic" (the YOSYS macro is its own). The
            // address registers sit in kept fanout_register instances, so Yosys cannot fold
            // them into a word-wide read register with the enable in front of the LUTs.
`ifdef YOSYS
            (* rom_style = "logic" *) logic [WIDTH-1:0] mem [DEPTH];
`else
            (* rom_style = "distributed" *) logic [WIDTH-1:0] mem [DEPTH];
`endif
            initial $readmemh(INIT_FILE, mem);
            // One copy of the address register per SLICE bits of the word: each address bit
            // drives a few LUTs per word bit, thousands of loads on one net in a wide ROM.
            for (genvar s = 0; s < SLICES; s++) begin : g_slice
                localparam int LO = s * SLICE;
                localparam int BITS = (WIDTH - LO < SLICE) ? WIDTH - LO : SLICE;
                logic [AW-1:0] addr_q;
                // the enable copy of this slice: the copies split the slices evenly
                fanout_register #(.W(AW)) u_addr (.clk(clk), .en(en[(s * EN_N) / SLICES]), .d(addr), .q(addr_q));
                assign data[LO +: BITS] = mem[addr_q][LO +: BITS];
            end
        end else begin : g_block
            (* ram_style = "block" *) logic [WIDTH-1:0] mem [DEPTH];
            initial $readmemh(INIT_FILE, mem);
            always_ff @(posedge clk) begin
                if (en[0]) data <= mem[addr];
            end
        end
    endgenerate
endmodule
