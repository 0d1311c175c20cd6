// pool_max: max pooling of a pixel stream, window_gen plus a per-channel maximum.
//
// Parameters
//   IN_H, IN_W         input image size
//   C, DW              channels per pixel and bits per code (a pixel beat is C*DW bits)
//   SIGNED             1: codes are two's complement; 0: unsigned
//   KH, KW             pool window
//   STRIDE_H, STRIDE_W stride
//   PAD_T, PAD_L, PAD_B, PAD_R  padding; padded elements hold the smallest code of the type
//                      (window_gen's PAD_CODE), so padding never wins a maximum
// Ports: clk, rst_n (active-low synchronous); s_axis_* input pixels in raster order,
// m_axis_* one pixel (C*DW bits, channel 0 low) per output position in raster order,
// TLAST on the last pixel of a frame.
//
// Cycles: those of window_gen, one per pixel of the padded image, an input pixel every
// cycle while the output is not stalled; the maximum is combinational on window_gen's
// output register, so the latency is window_gen's (a window leaves two cycles after its
// bottom-right pixel is accepted).
module pool_max #(
    parameter int IN_H = 8,
    parameter int IN_W = 8,
    parameter int C = 1,
    parameter int DW = 8,
    parameter bit SIGNED = 1'b0,
    parameter int KH = 2,
    parameter int KW = 2,
    parameter int STRIDE_H = 2,
    parameter int STRIDE_W = 2,
    parameter int PAD_T = 0,
    parameter int PAD_L = 0,
    parameter int PAD_B = 0,
    parameter int PAD_R = 0
) (
    input  logic            clk,
    input  logic            rst_n,
    input  logic [C*DW-1:0] s_axis_tdata,
    input  logic            s_axis_tvalid,
    output logic            s_axis_tready,
    input  logic            s_axis_tlast,
    output logic [C*DW-1:0] m_axis_tdata,
    output logic            m_axis_tvalid,
    input  logic            m_axis_tready,
    output logic            m_axis_tlast
);
    localparam int K = KH * KW;
    localparam int MIN_CODE = SIGNED ? -(1 << (DW - 1)) : 0;

    logic [K*C*DW-1:0] window;

    window_gen #(
        .IN_H(IN_H), .IN_W(IN_W), .C(C), .DW(DW), .KH(KH), .KW(KW),
        .STRIDE_H(STRIDE_H), .STRIDE_W(STRIDE_W),
        .PAD_T(PAD_T), .PAD_L(PAD_L), .PAD_B(PAD_B), .PAD_R(PAD_R), .PAD_CODE(MIN_CODE)
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

    // Compare with the sign bit flipped for signed codes: then unsigned order is code order.
    localparam logic [DW-1:0] FLIP = SIGNED ? (DW'(1) << (DW - 1)) : '0;

    always_comb begin
        for (int c = 0; c < C; c++) begin
            logic [DW-1:0] best;
            best = window[c*DW +: DW] ^ FLIP;
            for (int k = 1; k < K; k++) begin
                if ((window[(k*C+c)*DW +: DW] ^ FLIP) > best) best = window[(k*C+c)*DW +: DW] ^ FLIP;
            end
            m_axis_tdata[c*DW +: DW] = best ^ FLIP;
        end
    end
endmodule
