// axis_add: residual add of two pixel streams, channel by channel, by the numeric contract.
//
// Parameters
//   C                  channels per pixel (both inputs and the output)
//   A_DW, A_SIGNED     bits and signedness of an input A code
//   A_SHIFT            left shift (>= 0) aligning A to the common fractional bits, F_max - F_a
//   B_DW, B_SIGNED, B_SHIFT  the same for input B
//   SHIFT              F_max - F_out: > 0 rounds half up, <= 0 shifts left; then saturation
//   OUT_DW, OUT_SIGNED bits and signedness of an output code
//   ACT, RELU6_MAX     0 none, 1 ReLU, 2 ReLU6 (clamp at RELU6_MAX, the code of 6.0), 3 LeakyRelu
//   SLOPE_CODE, SLOPE_FRAC  the LeakyRelu slope (requantize.sv)
// Ports: clk, rst_n (active-low synchronous); s_axis_a_*, s_axis_b_* input pixels (C*A_DW and
// C*B_DW bits, channel 0 low); m_axis_* output pixels (C*OUT_DW bits), TLAST from input A.
//
// Cycles: a beat leaves both inputs in the same cycle when both are valid (axis_join): one
// pixel per cycle, one cycle of latency; the sum and requantization are combinational on the
// joined register. The generator must put a FIFO on the shorter branch of the residual
// block, deep enough to hold what it produces before the longer branch's first pixel
// (see axis_join), or the dataflow deadlocks.
module axis_add #(
    parameter int C = 1,
    parameter int A_DW = 8,
    parameter bit A_SIGNED = 1'b1,
    parameter int A_SHIFT = 0,
    parameter int B_DW = 8,
    parameter bit B_SIGNED = 1'b1,
    parameter int B_SHIFT = 0,
    parameter int SHIFT = 0,
    parameter int OUT_DW = 8,
    parameter bit OUT_SIGNED = 1'b1,
    parameter int ACT = 0,
    parameter int RELU6_MAX = 0,
    parameter int SLOPE_CODE = 0,  // LeakyRelu (ACT 3): see requantize.sv
    parameter int SLOPE_FRAC = 0
) (
    input  logic                clk,
    input  logic                rst_n,
    input  logic [C*A_DW-1:0]   s_axis_a_tdata,
    input  logic                s_axis_a_tvalid,
    output logic                s_axis_a_tready,
    input  logic                s_axis_a_tlast,
    input  logic [C*B_DW-1:0]   s_axis_b_tdata,
    input  logic                s_axis_b_tvalid,
    output logic                s_axis_b_tready,
    input  logic                s_axis_b_tlast,
    output logic [C*OUT_DW-1:0] m_axis_tdata,
    output logic                m_axis_tvalid,
    input  logic                m_axis_tready,
    output logic                m_axis_tlast
);
    localparam int AW = A_DW + 1 + A_SHIFT;  // an aligned code, signed
    localparam int BW = B_DW + 1 + B_SHIFT;
    localparam int SUM_W = ((AW > BW) ? AW : BW) + 1;

    logic [C*(A_DW+B_DW)-1:0] joined;

    axis_join #(.A_BITS(C*A_DW), .B_BITS(C*B_DW)) u_join (
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

    logic signed [SUM_W-1:0] sums [C];

    always_comb begin
        for (int c = 0; c < C; c++) begin
            logic [A_DW-1:0] a;
            logic [B_DW-1:0] b;
            a = joined[c*A_DW +: A_DW];
            b = joined[C*A_DW + c*B_DW +: B_DW];
            sums[c] = (SUM_W'($signed({A_SIGNED && a[A_DW-1], a})) <<< A_SHIFT)
                    + (SUM_W'($signed({B_SIGNED && b[B_DW-1], b})) <<< B_SHIFT);
        end
    end

    for (genvar c = 0; c < C; c++) begin : g_channel
        requantize #(
            .IN_W(SUM_W), .SHIFT(SHIFT), .OUT_W(OUT_DW), .OUT_SIGNED(OUT_SIGNED), .ACT(ACT), .RELU6_MAX(RELU6_MAX),
            .SLOPE_CODE(SLOPE_CODE), .SLOPE_FRAC(SLOPE_FRAC)
        ) u_requantize (
            .value(sums[c]),
            .code(m_axis_tdata[c*OUT_DW +: OUT_DW])
        );
    end
endmodule
