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
// Cycles: those of window_gen, one per pixel of the padded image. The sum is an adder tree
// with a register after every level (log2(KH*KW) stages, at least one), then one stage
// multiplies by the reciprocal (a registered DSP product) and one requantizes, so no path
// holds more than one adder or the requantizer; the latency is window_gen's plus those stages.
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
    localparam int LV = (K > 1) ? $clog2(K) : 1;  // registered adder-tree levels
    localparam int PK = 1 << LV;                   // window elements rounded up to a power of two
    localparam int MW = (RECIP_W > 0) ? SUM_W + RECIP_W + 1 : SUM_W;  // after the multiply
    localparam int STAGES = LV + 2;                // tree levels, multiply, requantize

    logic [K*C*DW-1:0] window;
    logic win_valid, win_last, enable;
    logic [STAGES-1:0] valid, last;

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
        .m_axis_tvalid(win_valid),
        .m_axis_tready(enable),
        .m_axis_tlast(win_last)
    );

    // The pipeline moves when its last stage is empty or taken.
    assign enable = !valid[STAGES-1] || m_axis_tready;

    // level 0: the window's elements sign- or zero-extended, padded with zeros; level d keeps
    // PK >> d partial sums per channel, node n of channel c at [((d-1)*PK*C + c*(PK>>d) + n)*SUM_W]
    logic [PK*C*SUM_W-1:0] leaves;
    logic [LV*PK*C*SUM_W-1:0] level, level_next;

    always_comb begin
        for (int c = 0; c < C; c++) begin
            for (int k = 0; k < PK; k++) begin
                leaves[(c*PK+k)*SUM_W +: SUM_W] = (k < K)
                    ? SUM_W'($signed({IN_SIGNED && window[((k < K ? k : 0)*C+c)*DW + DW-1], window[((k < K ? k : 0)*C+c)*DW +: DW]}))
                    : '0;
            end
        end
        level_next = level;
        for (int d = 1; d <= LV; d++) begin
            for (int c = 0; c < C; c++) begin
                for (int n = 0; n < (PK >> d); n++) begin
                    if (d == 1)
                        level_next[(c*(PK>>1)+n)*SUM_W +: SUM_W] =
                            leaves[(c*PK+2*n)*SUM_W +: SUM_W] + leaves[(c*PK+2*n+1)*SUM_W +: SUM_W];
                    else
                        level_next[((d-1)*PK*C+c*(PK>>d)+n)*SUM_W +: SUM_W] =
                            level[((d-2)*PK*C+c*(PK>>(d-1))+2*n)*SUM_W +: SUM_W]
                            + level[((d-2)*PK*C+c*(PK>>(d-1))+2*n+1)*SUM_W +: SUM_W];
                end
            end
        end
    end

    // multiply by the reciprocal (or pass the sum), then requantize with the same shift
    localparam logic signed [RECIP_W:0] RECIP = (RECIP_W + 1)'(RECIP_CODE);
    logic signed [MW-1:0] product [C];
    logic [C*OUT_DW-1:0] code;

    always_ff @(posedge clk) begin
        if (enable) begin
            level <= level_next;
            for (int c = 0; c < C; c++) begin
                if (RECIP_W > 0) product[c] <= MW'($signed(level[((LV-1)*PK*C+c)*SUM_W +: SUM_W])) * MW'(RECIP);
                else product[c] <= MW'($signed(level[((LV-1)*PK*C+c)*SUM_W +: SUM_W]));
            end
            m_axis_tdata <= code;
        end
    end

    for (genvar c = 0; c < C; c++) begin : g_channel
        requantize #(
            .IN_W(MW), .SHIFT(SHIFT), .OUT_W(OUT_DW), .OUT_SIGNED(OUT_SIGNED)
        ) u_requantize (
            .value(product[c]),
            .code(code[c*OUT_DW +: OUT_DW])
        );
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            valid <= '0;
        end else if (enable) begin
            valid <= STAGES'({valid, win_valid});
        end
    end

    always_ff @(posedge clk) begin
        if (enable) last <= STAGES'({last, win_last});
    end

    assign m_axis_tvalid = valid[STAGES-1];
    assign m_axis_tlast = last[STAGES-1];
endmodule
