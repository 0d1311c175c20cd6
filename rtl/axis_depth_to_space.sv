// axis_depth_to_space: every input beat holds a BH x BW block of output pixels; write them in raster order.
//
// A transposed convolution whose kernel equals its stride (ConvTranspose 2x2, stride 2) runs on
// sparse_conv_engine as a 1x1 conv with BH*BW*C outputs per input pixel; this module turns
// each such beat into its block of output pixels.
//
// Parameters
//   PW           bits of an output pixel (all its channels)
//   IN_H, IN_W   input image size; the output is (IN_H*BH) x (IN_W*BW)
//   BH, BW       the block: input bits [(i*BW + j)*PW +: PW] are output pixel (BH*y + i, BW*x + j)
// Ports: clk, rst_n (active-low synchronous); s_axis_* input beats (BH*BW*PW bits) in raster
// order (the frame length is a parameter; TLAST is not needed); m_axis_* output pixels in
// raster order, TLAST on the last pixel of each frame.
//
// Cycles: one output pixel per cycle, IN_H*BH*IN_W*BW per frame. The block's first row leaves
// as its beats arrive (BW pixels per beat) while the beats are written into a line buffer of
// one input row (IN_W beats, distributed RAM); the block's other BH-1 rows are read back
// from it and take no input. So output pixel (oy, ox) needs the input up to beat
// (oy / BH, ox / BW) only, as axis_upsample. The output is a register that loads whenever
// it is empty or being taken.
module axis_depth_to_space #(
    parameter int PW = 8,
    parameter int IN_H = 4,
    parameter int IN_W = 4,
    parameter int BH = 2,
    parameter int BW = 2
) (
    input  logic               clk,
    input  logic               rst_n,
    input  logic [BH*BW*PW-1:0] s_axis_tdata,
    input  logic               s_axis_tvalid,
    output logic               s_axis_tready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic               s_axis_tlast,  // frame size is a parameter; kept for the stream convention
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [PW-1:0]      m_axis_tdata,
    output logic               m_axis_tvalid,
    input  logic               m_axis_tready,
    output logic               m_axis_tlast
);
    // Counter widths: enough for 0 .. N-1, at least one bit.
    localparam int XW = (IN_W > 1) ? $clog2(IN_W) : 1;
    localparam int YW = (IN_H > 1) ? $clog2(IN_H) : 1;
    localparam int JW = (BW > 1) ? $clog2(BW) : 1;
    localparam int KW = (BH > 1) ? $clog2(BH) : 1;
    localparam int DEPTH = (IN_W > 1) ? IN_W : 2;  // an index of XW bits addresses all entries
    localparam int BEAT = BH * BW * PW;

    logic [BEAT-1:0] line [DEPTH];
    logic [XW-1:0] x;  // input column
    logic [YW-1:0] y;  // input row
    logic [JW-1:0] j;  // column inside the block
    logic [KW-1:0] k;  // row inside the block

    wire out_free = !m_axis_tvalid || m_axis_tready;
    wire take_input = (k == '0) && (j == '0);  // the block's first pixel
    assign s_axis_tready = out_free && take_input;
    wire fire = out_free && (!take_input || s_axis_tvalid);

    wire last_j = (j == JW'(BW - 1));
    wire last_x = (x == XW'(IN_W - 1));
    wire last_k = (k == KW'(BH - 1));
    wire last_y = (y == YW'(IN_H - 1));

    wire [BEAT-1:0] stored = line[x];
    wire [PW-1:0] from_line = stored[(int'(k) * BW + int'(j)) * PW +: PW];

    always_ff @(posedge clk) begin
        if (fire && take_input) line[x] <= s_axis_tdata;
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            x <= '0;
            y <= '0;
            j <= '0;
            k <= '0;
            m_axis_tvalid <= 1'b0;
            m_axis_tlast <= 1'b0;
            m_axis_tdata <= '0;
        end else if (fire) begin
            m_axis_tdata <= take_input ? s_axis_tdata[PW-1:0] : from_line;
            m_axis_tvalid <= 1'b1;
            m_axis_tlast <= last_j && last_x && last_k && last_y;
            j <= last_j ? '0 : j + 1'b1;
            if (last_j) begin
                x <= last_x ? '0 : x + 1'b1;
                if (last_x) begin
                    k <= last_k ? '0 : k + 1'b1;
                    if (last_k) y <= last_y ? '0 : y + 1'b1;
                end
            end
        end else if (m_axis_tready) begin
            m_axis_tvalid <= 1'b0;
        end
    end
endmodule
