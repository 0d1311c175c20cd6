// fanout_register: a register with a clock enable, kept as a module of its own so that copies
// of it stay copies.
//
// Parameters
//   W   bits
// Ports: clk; en; d; q (d one cycle after en, held otherwise; no reset: it carries data).
//
// Why a module of its own: a net that drives thousands of loads (the read address of a
// 2,000-bit-wide LUT ROM) is slow to route, so its register is copied, one copy per slice of
// the loads. Synthesis merges registers with the same input (Yosys opt_merge does so even
// with a `keep` attribute on them), but not instances of a module it is told to keep
// (`keep_hierarchy`, read by Yosys and by Vivado), so the copies live in instances of this.
(* keep_hierarchy *)
module fanout_register #(
    parameter int W = 1
) (
    input  logic         clk,
    input  logic         en,
    input  logic [W-1:0] d,
    output logic [W-1:0] q
);
    initial begin
        if (W < 1) $error("fanout_register: W = %0d must be at least 1", W);
    end

    always_ff @(posedge clk) begin
        if (en) q <= d;
    end
endmodule
