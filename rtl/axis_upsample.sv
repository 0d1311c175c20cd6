// axis_upsample: nearest-neighbour upsampling by integer factors, every pixel SW times, every row SH times.
//
// Parameters
//   PW           bits of a pixel beat (all channels; codes move, never change)
//   IN_H, IN_W   input image size; the output is (IN_H*SH) x (IN_W*SW)
//   SH, SW       the factors on height and width (>= 1)
// Ports: clk, rst_n (active-low synchronous); s_axis_* input pixels in raster order (the frame
// length is a parameter; TLAST is not needed); m_axis_* output pixels in raster order, TLAST
// on the last pixel of each frame.
//
// Cycles: one output pixel per cycle, IN_H*SH*IN_W*SW per frame. The first copy of an input
// row passes its pixels through as they arrive (each SW times) and writes them into a line
// buffer of one input row (IN_W pixels, distributed RAM); the other SH-1 copies read the row
// back and take no input. So output pixel (oy, ox) needs the input up to pixel
// (oy / SH, ox / SW) only (fpgaflow.flow.branch_buffers counts on that). The output is a
// register that loads whenever it is empty or being taken.
module axis_upsample #(
    parameter int PW = 8,
    parameter int IN_H = 4,
    parameter int IN_W = 4,
    parameter int SH = 2,
    parameter int SW = 2
) (
    input  logic          clk,
    input  logic          rst_n,
    input  logic [PW-1:0] s_axis_tdata,
    input  logic          s_axis_tvalid,
    output logic          s_axis_tready,
    /* verilator lint_off UNUSEDSIGNAL */
    input  logic          s_axis_tlast,  // frame size is a parameter; kept for the stream convention
    /* verilator lint_on UNUSEDSIGNAL */
    output logic [PW-1:0] m_axis_tdata,
    output logic          m_axis_tvalid,
    input  logic          m_axis_tready,
    output logic          m_axis_tlast
);
    // Counter widths: enough for 0 .. N-1, at least one bit.
    localparam int XW = (IN_W > 1) ? $clog2(IN_W) : 1;
    localparam int YW = (IN_H > 1) ? $clog2(IN_H) : 1;
    localparam int JW = (SW > 1) ? $clog2(SW) : 1;
    localparam int KW = (SH > 1) ? $clog2(SH) : 1;
    localparam int DEPTH = (IN_W > 1) ? IN_W : 2;  // an index of XW bits addresses all entries

    logic [PW-1:0] line [DEPTH];
    logic [XW-1:0] x;  // input column
    logic [YW-1:0] y;  // input row
    logic [JW-1:0] j;  // copy of the pixel along the row
    logic [KW-1:0] k;  // copy of the row

    wire out_free = !m_axis_tvalid || m_axis_tready;
    wire take_input = (k == '0) && (j == '0);  // the first output of a pixel in the row's first copy
    assign s_axis_tready = out_free && take_input;
    wire fire = out_free && (!take_input || s_axis_tvalid);

    wire last_j = (j == JW'(SW - 1));
    wire last_x = (x == XW'(IN_W - 1));
    wire last_k = (k == KW'(SH - 1));
    wire last_y = (y == YW'(IN_H - 1));

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
            m_axis_tdata <= take_input ? s_axis_tdata : line[x];
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
