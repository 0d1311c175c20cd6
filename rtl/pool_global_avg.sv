// pool_global_avg: global average pooling, the mean of every channel over a whole frame.
//
// Parameters
//   IN_H, IN_W         input image size (the count is IN_H*IN_W)
//   C, DW, IN_SIGNED   channels per pixel, bits and signedness of an input code
//   OUT_DW, OUT_SIGNED bits and signedness of an output code
//   RECIP_W            0: the count is a power of two and the sum is only shifted;
//                      > 0: the sum is multiplied by RECIP_CODE, the unsigned RECIP_W-bit
//                      code of 1/count, first
//   RECIP_CODE         the reciprocal code (unused when RECIP_W is 0)
//   SHIFT              F_in + log2(count) - F_out, or F_recip + F_in - F_out with a reciprocal;
//                      > 0 rounds half up, <= 0 shifts left; the result saturates (requantize)
// Ports: clk, rst_n (active-low synchronous); s_axis_* input pixels (C*DW bits) in raster
// order (the frame length is a parameter; TLAST is not needed); m_axis_* one beat of C
// means (C*OUT_DW bits, channel 0 low) per frame, with TLAST.
//
// Cycles: one input pixel per cycle (IN_H*IN_W cycles per frame). The last pixel of a frame
// moves the finished sums into the output register (one cycle after it is accepted the
// result is valid) while the accumulators restart, so frames follow each other without
// gaps; the last pixel waits only while the previous result is still not taken.
module pool_global_avg #(
    parameter int IN_H = 4,
    parameter int IN_W = 4,
    parameter int C = 1,
    parameter int DW = 8,
    parameter bit IN_SIGNED = 1'b0,
    parameter int OUT_DW = 8,
    parameter bit OUT_SIGNED = 1'b0,
    parameter int RECIP_W = 0,
    parameter int RECIP_CODE = 0,
    parameter int SHIFT = 4
) (
    input  logic                clk,
    input  logic                rst_n,
    input  logic [C*DW-1:0]     s_axis_tdata,
    input  logic                s_axis_tvalid,
    output logic                s_axis_tready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic                s_axis_tlast,  // frame size is a parameter; kept for the stream convention
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [C*OUT_DW-1:0] m_axis_tdata,
    output logic                m_axis_tvalid,
    input  logic                m_axis_tready,
    output logic                m_axis_tlast
);
    localparam int N = IN_H * IN_W;
    localparam int SUM_W = DW + 1 + $clog2(N + 1);
    localparam int NW = $clog2(N + 1);

    logic [NW-1:0] pixel;
    logic out_valid;
    logic signed [SUM_W-1:0] acc [C];
    logic signed [SUM_W-1:0] sums [C];
    logic signed [SUM_W-1:0] next [C];

    wire last_pixel = (pixel == NW'(N - 1));
    assign s_axis_tready = !last_pixel || !out_valid || m_axis_tready;
    wire fire = s_axis_tvalid && s_axis_tready;

    always_comb begin
        for (int c = 0; c < C; c++) begin
            next[c] = acc[c] + SUM_W'($signed({IN_SIGNED && s_axis_tdata[c*DW + DW-1], s_axis_tdata[c*DW +: DW]}));
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            pixel <= '0;
            out_valid <= 1'b0;
            for (int c = 0; c < C; c++) acc[c] <= '0;
        end else begin
            if (m_axis_tready) out_valid <= 1'b0;
            if (fire) begin
                pixel <= last_pixel ? '0 : pixel + 1'b1;
                for (int c = 0; c < C; c++) acc[c] <= last_pixel ? '0 : next[c];
                if (last_pixel) out_valid <= 1'b1;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (fire && last_pixel) begin
            for (int c = 0; c < C; c++) sums[c] <= next[c];
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

    assign m_axis_tvalid = out_valid;
    assign m_axis_tlast = 1'b1;
endmodule
