// axis_concat: channel concatenation of two pixel streams, each input requantized to the output format.
//
// Parameters
//   C_A, A_DW, A_SIGNED  channels, bits and signedness of input A
//   A_SHIFT              F_a - F_out: > 0 rounds half up, <= 0 shifts left; then saturation
//   C_B, B_DW, B_SIGNED, B_SHIFT  the same for input B
//   OUT_DW, OUT_SIGNED   bits and signedness of an output code
// Ports: clk, rst_n (active-low synchronous); s_axis_a_*, s_axis_b_* input pixels (C_A*A_DW and
// C_B*B_DW bits, channel 0 low); m_axis_* output pixels of C_A+C_B channels (OUT_DW bits each),
// A's channels low, then B's; TLAST from input A.
//
// Cycles: a beat leaves both inputs in the same cycle when both are valid (axis_join): one
// pixel per cycle, one cycle of latency; the requantization is combinational on the joined
// register. As for axis_add, the generator must put a FIFO on the shorter branch when
// both inputs come from one tensor (see axis_join), or the dataflow deadlocks.
module axis_concat #(
    parameter int C_A = 1,
    parameter int A_DW = 8,
    parameter bit A_SIGNED = 1'b0,
    parameter int A_SHIFT = 0,
    parameter int C_B = 1,
    parameter int B_DW = 8,
    parameter bit B_SIGNED = 1'b0,
    parameter int B_SHIFT = 0,
    parameter int OUT_DW = 8,
    parameter bit OUT_SIGNED = 1'b0
) (
    input  logic                      clk,
    input  logic                      rst_n,
    input  logic [C_A*A_DW-1:0]       s_axis_a_tdata,
    input  logic                      s_axis_a_tvalid,
    output logic                      s_axis_a_tready,
    input  logic                      s_axis_a_tlast,
    input  logic [C_B*B_DW-1:0]       s_axis_b_tdata,
    input  logic                      s_axis_b_tvalid,
    output logic                      s_axis_b_tready,
    input  logic                      s_axis_b_tlast,
    output logic [(C_A+C_B)*OUT_DW-1:0] m_axis_tdata,
    output logic                      m_axis_tvalid,
    input  logic                      m_axis_tready,
    output logic                      m_axis_tlast
);
    logic [C_A*A_DW+C_B*B_DW-1:0] joined;

    axis_join #(.A_BITS(C_A*A_DW), .B_BITS(C_B*B_DW)) u_join (
        .clk(clk),
        .rst_n(rst_n),
        .s_axis_a_tdata(s_axis_a_tdata),
        .s_axis_a_tvalid(s_axis_a_tvalid),
        .s_axis_a_tready(s_axis_a_tready),
        .s_axis_a_tlast(s_axis_a_tlast),
        .s_axis_b_tdata(s_axis_b_tdata),
        .s_axis_b_tvalid(s_axis_b_tvalid),
        .s_axis_b_tready(s_axis_b_tready),
        .s_axis_b_tlast(s_axis_b_tlast),
        .m_axis_tdata(joined),
        .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast)
    );

    for (genvar c = 0; c < C_A; c++) begin : g_a
        wire [A_DW-1:0] a = joined[c*A_DW +: A_DW];
        requantize #(.IN_W(A_DW + 1), .SHIFT(A_SHIFT), .OUT_W(OUT_DW), .OUT_SIGNED(OUT_SIGNED)) u_requantize (
            .value($signed({A_SIGNED && a[A_DW-1], a})),
            .code(m_axis_tdata[c*OUT_DW +: OUT_DW])
        );
    end

    for (genvar c = 0; c < C_B; c++) begin : g_b
        wire [B_DW-1:0] b = joined[C_A*A_DW + c*B_DW +: B_DW];
        requantize #(.IN_W(B_DW + 1), .SHIFT(B_SHIFT), .OUT_W(OUT_DW), .OUT_SIGNED(OUT_SIGNED)) u_requantize (
            .value($signed({B_SIGNED && b[B_DW-1], b})),
            .code(m_axis_tdata[(C_A+c)*OUT_DW +: OUT_DW])
        );
    end
endmodule
