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
// cycle while the output is not stalled. The maximum is a tree of pairwise compares with a
// register after every level (log2(KH*KW) stages, at least one), so no path holds more than
// one compare-and-select; the latency is window_gen's plus those stages.
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

    localparam int LV = (K > 1) ? $clog2(K) : 1;  // registered tree levels
    localparam int PK = 1 << LV;                   // window elements rounded up to a power of two
    // Compare with the sign bit flipped for signed codes: then unsigned order is code order.
    localparam logic [DW-1:0] FLIP = SIGNED ? (DW'(1) << (DW - 1)) : '0;

    logic [K*C*DW-1:0] window;
    logic win_valid, win_last, enable;
    logic [LV-1:0] valid, last;

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
        .m_axis_tvalid(win_valid),
        .m_axis_tready(enable),
        .m_axis_tlast(win_last)
    );

    // The pipeline moves when its last stage is empty or taken.
    assign enable = !valid[LV-1] || m_axis_tready;

    // level 0: the window's elements (flipped), padded with the smallest code; level d keeps
    // PK >> d maxima per channel, node n of channel c at [((d-1)*PK + c*(PK>>d) + n)*DW]
    logic [PK*C*DW-1:0] leaves;
    logic [LV*PK*C*DW-1:0] level, level_next;

    always_comb begin
        for (int c = 0; c < C; c++) begin
            for (int k = 0; k < PK; k++) begin
                leaves[(c*PK+k)*DW +: DW] = (k < K) ? window[((k < K ? k : 0)*C+c)*DW +: DW] ^ FLIP : '0;
            end
        end
        level_next = level;
        for (int d = 1; d <= LV; d++) begin
            for (int c = 0; c < C; c++) begin
                for (int n = 0; n < (PK >> d); n++) begin
                    logic [DW-1:0] a, b;
                    if (d == 1) begin
                        a = leaves[(c*PK+2*n)*DW +: DW];
                        b = leaves[(c*PK+2*n+1)*DW +: DW];
                    end else begin
                        a = level[((d-2)*PK*C+c*(PK>>(d-1))+2*n)*DW +: DW];
                        b = level[((d-2)*PK*C+c*(PK>>(d-1))+2*n+1)*DW +: DW];
                    end
                    level_next[((d-1)*PK*C+c*(PK>>d)+n)*DW +: DW] = (a > b) ? a : b;
                end
            end
        end
    end

    always_ff @(posedge clk) begin
        if (enable) level <= level_next;
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            valid <= '0;
        end else if (enable) begin
            valid <= LV'({valid, win_valid});
        end
    end

    always_ff @(posedge clk) begin
        if (enable) last <= LV'({last, win_last});
    end

    always_comb begin
        for (int c = 0; c < C; c++) m_axis_tdata[c*DW +: DW] = level[((LV-1)*PK*C+c)*DW +: DW] ^ FLIP;
    end
    assign m_axis_tvalid = valid[LV-1];
    assign m_axis_tlast = last[LV-1];
endmodule
