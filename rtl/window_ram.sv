// window_ram: one lane's copy of the sparse engine's window memory: a simple dual-port RAM,
// one wide write port shared by every lane (the window being written) and one read port per
// lane (the element its weight multiplies), with a registered read.
//
// Parameters
//   WIDTH      bits of a word (WR_N window elements written together)
//   DEPTH      words (two banks of a window each: the current and the next window)
//   RAM_STYLE  "distributed" (LUT RAM, the default: a few LUTs per lane) or "block" (one or
//              more RAMB18 per lane and no LUTs), chosen by the generator from the layer's
//              shape and the board's spare memory
// Ports: clk; we/waddr/wdata write a word at the clock edge; raddr is read at the clock edge
//   and its word is on rdata one cycle later. The engine never reads a word in the cycle it
//   is written (it reads a bank only while the writer fills the other), so what such a
//   read returns is left open: `no_rw_check` tells Yosys not to build collision logic
//   (address compare and bypass) after every lane's RAM.
module window_ram #(
    parameter int WIDTH = 8,
    parameter int DEPTH = 16,
    parameter RAM_STYLE = "distributed"
) (
    input  logic                                         clk,
    input  logic                                         we,
    input  logic [((DEPTH > 1) ? $clog2(DEPTH) : 1)-1:0] waddr,
    input  logic [WIDTH-1:0]                             wdata,
    input  logic [((DEPTH > 1) ? $clog2(DEPTH) : 1)-1:0] raddr,
    output logic [WIDTH-1:0]                             rdata
);
    /* verilator lint_off WIDTHEXPAND */
    localparam bit BLOCK = (RAM_STYLE == "block");
    /* verilator lint_on WIDTHEXPAND */

    initial begin
        if (WIDTH < 1 || DEPTH < 1) $error("window_ram: WIDTH and DEPTH must be at least 1");
    end

    // The attribute takes a constant, so each style is its own generate branch.
    generate
        if (BLOCK) begin : g_block
            (* ram_style = "block", no_rw_check *) logic [WIDTH-1:0] mem [DEPTH];
            always_ff @(posedge clk) begin
                if (we) mem[waddr] <= wdata;
                rdata <= mem[raddr];
            end
        end else begin : g_distributed
            (* ram_style = "distributed", no_rw_check *) logic [WIDTH-1:0] mem [DEPTH];
            always_ff @(posedge clk) begin
                if (we) mem[waddr] <= wdata;
                rdata <= mem[raddr];
            end
        end
    endgenerate
endmodule
