// lut_multiplier: a registered signed multiply written as a sum of shifted partial products,
// so that synthesis builds it from LUTs and carry chains instead of a DSP slice.
//
// Parameters
//   A_W   bits of the signed operand a (the wide one: a window element)
//   B_W   bits of the signed operand b (the narrow one: a weight code), >= 1
// Ports: clk; a, b (two's complement); p = a * b registered, A_W + B_W bits (exact).
//
// Why a module of its own: a `*` is mapped to a DSP48 by Yosys synth_xilinx whatever its
// widths (it does not read a use_dsp attribute on a signal), and by Vivado unless told
// otherwise. The sum of partial products below is not a multiply to either tool, so it
// stays in the fabric in any tool; `use_dsp = "no"` tells Vivado the same for good measure.
// Row i of the sum is a shifted left by i where bit i of b is set; the sign bit of b weighs
// -2^(B_W-1), so its row is subtracted. The rows are summed by a balanced tree inside one
// cycle: B_W rows take ceil(log2 B_W) adder levels (two for a 4-bit weight), which is why the
// generator gives LUT multipliers to narrow weights only (docs/quantization.md).
(* use_dsp = "no" *)
module lut_multiplier #(
    parameter int A_W = 9,
    parameter int B_W = 4
) (
    input  logic                        clk,
    input  logic signed [A_W-1:0]       a,
    input  logic signed [B_W-1:0]       b,
    output logic signed [A_W+B_W-1:0]   p
);
    localparam int PW = A_W + B_W;
    localparam int LV = (B_W > 1) ? $clog2(B_W) : 1;  // adder-tree levels
    localparam int ROWS = 1 << LV;  // rows rounded up to a power of two (the extra ones are 0)

    // tree[0 .. ROWS-1]: the rows, each level's sums after them, the root last (2 * ROWS - 1
    // nodes). Leaf 1 holds the sign row (b's top bit), which the first adder subtracts from
    // leaf 0 (row 0), so no row needs a negation of its own; leaves 2.. hold rows 1 .. B_W-2.
    logic signed [PW-1:0] tree [2*ROWS-1];

    function automatic logic signed [PW-1:0] row(input int i);
        row = (i < B_W && b[i < B_W ? i : 0]) ? PW'(a) <<< i : '0;
    endfunction

    always_comb begin
        tree[0] = (B_W > 1) ? row(0) : '0;  // a 1-bit b is its sign bit alone: 0 or -1
        for (int l = 1; l < ROWS; l++) tree[l] = (l == 1) ? row(B_W - 1) : (l < B_W ? row(l - 1) : '0);
        for (int n = 0; n < ROWS - 1; n++)
            tree[ROWS+n] = (n == 0) ? tree[0] - tree[1] : tree[2*n] + tree[2*n+1];
    end

    always_ff @(posedge clk) p <= tree[2*ROWS-2];
endmodule
