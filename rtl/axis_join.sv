// axis_join: two streams joined beat by beat into one, with a joint handshake.
//
// Parameters
//   A_BITS, B_BITS  TDATA widths of the two inputs
// Ports: clk, rst_n (active-low synchronous); s_axis_a_*, s_axis_b_* inputs; m_axis_* output
// of A_BITS+B_BITS bits, {b, a} (input A in the low bits). TLAST is input A's: the two
// inputs carry the same frames, beat for beat, so their TLASTs agree.
//
// A beat leaves both inputs in the same cycle, only when both are valid and the output
// register is free or being emptied: one beat per cycle, one cycle of latency. Used by
// axis_add and axis_concat, which compute on the joined register.
//
// Depth rule for the generator: the two inputs usually come from one tensor split into
// branches of different latency (a residual block). The join only takes a beat when both
// have one, so the shorter branch must be able to hold every beat it produces while the
// longer branch has not yet delivered its first one; otherwise the split stalls and the
// dataflow deadlocks. The generator puts a FIFO of that depth on the shorter branch.
module axis_join #(
    parameter int A_BITS = 8,
    parameter int B_BITS = 8
) (
    input  logic                     clk,
    input  logic                     rst_n,
    input  logic [A_BITS-1:0]        s_axis_a_tdata,
    input  logic                     s_axis_a_tvalid,
    output logic                     s_axis_a_tready,
    input  logic                     s_axis_a_tlast,
    input  logic [B_BITS-1:0]        s_axis_b_tdata,
    input  logic                     s_axis_b_tvalid,
    output logic                     s_axis_b_tready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic                     s_axis_b_tlast,  // equal to A's (same frames); kept for the stream convention
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [A_BITS+B_BITS-1:0] m_axis_tdata,
    output logic                     m_axis_tvalid,
    input  logic                     m_axis_tready,
    output logic                     m_axis_tlast
);
    logic out_valid;
    wire enable = !out_valid || m_axis_tready;
    wire fire = enable && s_axis_a_tvalid && s_axis_b_tvalid;

    assign s_axis_a_tready = enable && s_axis_b_tvalid;
    assign s_axis_b_tready = enable && s_axis_a_tvalid;

    always_ff @(posedge clk) begin
        if (!rst_n) out_valid <= 1'b0;
        else if (enable) out_valid <= fire;
    end

    always_ff @(posedge clk) begin
        if (fire) begin
            m_axis_tdata <= {s_axis_b_tdata, s_axis_a_tdata};
            m_axis_tlast <= s_axis_a_tlast;
        end
    end

    assign m_axis_tvalid = out_valid;
endmodule
