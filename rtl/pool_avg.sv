// pool_avg: average pooling of a pixel stream, window_gen plus a per-channel sum and division.
//
// Parameters
//   IN_H, IN_W         input image size
//   C, DW, IN_SIGNED   channels per pixel, bits and signedness of an input code
//   KH, KW             pool window; every window divides by the same count KH*KW (padding
//                      counts, code 0: the quantizer rejects pools whose count varies)
//   STRIDE_H, STRIDE_W stride
//   PAD_T, PAD_L, PAD_B, PAD_R  zero padding
//   OUT_DW, OUT_SIGNED bits and signedness of an output code
//   RECIP_W            0: the count is a power of two and the sum is only shifted;
//                      > 0: the sum is multiplied by RECIP_CODE, the unsigned RECIP_W-bit
//                      code of 1/count, first
//   RECIP_CODE         the reciprocal code (unused when RECIP_W is 0)
//   SHIFT              F_in + log2(count) - F_out, or F_recip + F_in - F_out with a reciprocal;
//                      > 0 rounds half up, <= 0 shifts left; the result saturates (requantize)
// Ports: clk, rst_n (active-low synchronous); s_axis_* input pixels (C*DW bits) in raster
// order, m_axis_* one pixel (C*OUT_DW bits, channel 0 low) per output position in raster
// order, TLAST on the last pixel of a frame.
//
// Cycles: those of window_gen, one per pixel of the padded image; the sum, multiply and
// requantization are combinational on window_gen's output register, so the latency is
// window_gen's.
module pool_avg #(
    parameter int IN_H = 8,
    parameter int IN_W = 8,
    parameter int C = 1,
    parameter int DW = 8,
    parameter bit IN_SIGNED = 1'b0,
    parameter int KH = 2,
    parameter int KW = 2,
    parameter int STRIDE_H = 2,
    parameter int STRIDE_W = 2,
    parameter int PAD_T = 0,
    parameter int PAD_L = 0,
    parameter int PAD_B = 0,
    parameter int PAD_R = 0,
    parameter int OUT_DW = 8,
    parameter bit OUT_SIGNED = 1'b0,
    parameter int RECIP_W = 0,
    parameter int RECIP_CODE = 0,
    parameter int SHIFT = 2
) (
    input  logic                clk,
    input  logic                rst_n,
    input  logic [C*DW-1:0]     s_axis_tdata,
    input  logic                s_axis_tvalid,
    output logic                s_axis_tready,
    input  logic                s_axis_tlast,
    output logic [C*OUT_DW-1:0] m_axis_tdata,
    output logic                m_axis_tvalid,
    input  logic                m_axis_tready,
    output logic                m_axis_tlast
);
    localparam int K = KH * KW;
    localparam int SUM_W = DW + 1 + $clog2(K + 1);

    logic [K*C*DW-1:0] window;

    window_gen #(
        .IN_H(IN_H), .IN_W(IN_W), .C(C), .DW(DW), .KH(KH), .KW(KW),
        .STRIDE_H(STRIDE_H), .STRIDE_W(STRIDE_W),
        .PAD_T(PAD_T), .PAD_L(PAD_L), .PAD_B(PAD_B), .PAD_R(PAD_R)
    ) u_window (
        .clk(clk),
        .rst_n(rst_n),
        .s_axis_tdata(s_axis_tdata),
        .s_axis_tvalid(s_axis_tvalid),
        .s_axis_tready(s_axis_tready),
        .s_axis_tlast(s_axis_tlast),
        .m_axis_tdata(window),
        .m_axis_tvalid(m_axis_tvalid),
        .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast)
    );

    logic signed [SUM_W-1:0] sums [C];

    always_comb begin
        for (int c = 0; c < C; c++) begin
            sums[c] = '0;
            for (int k = 0; k < K; k++) begin
                sums[c] = sums[c] + SUM_W'($signed({IN_SIGNED && window[(k*C+c)*DW + DW-1], window[(k*C+c)*DW +: DW]}));
            end
        end
    end

    for (genvar c = 0; c < C; c++) begin : g_channel
        requantize #(
            .IN_W(SUM_W), .SCALE_W(RECIP_W), .SCALE_CODE(RECIP_CODE), .SHIFT(SHIFT),
            .OUT_W(OUT_DW), .OUT_SIGNED(OUT_SIGNED)
        ) u_requantize (
            .value(sums[c]),
            .code(m_axis_tdata[c*OUT_DW +: OUT_DW])
        );
    end
endmodule
