// axis_dma_packer: pixel beats to and from DMA words, the packing of fpgaflow/flow/dma.py.
//
// Unlike axis_width_converter (whole width ratios), the widths here are arbitrary: a pixel
// that does not fill its last word leaves that word's high bits zero, as the DMA packing
// prescribes for the top's input and output ports.
//
// Parameters
//   PIXEL_W    bits of a pixel beat (channels * code bits)
//   DMA_W      bits of a DMA word
//   TO_PIXELS  1: DMA words in, pixel beats out (the top's input side);
//              0: pixel beats in, DMA words out (the top's output side)
// Ports: clk, rst_n (active-low synchronous); s_axis_* in and m_axis_* out, DMA_W or PIXEL_W
// bits wide as the direction says.
//
// Packing: a pixel beat occupies N = ceil(PIXEL_W / DMA_W) consecutive words, lowest bits in
// the first word; the unused high bits of its last word are zero (ignored on input). TLAST
// marks the last word of a frame, which is the last word of the frame's last pixel.
// N = 1 is a plain truncation (TO_PIXELS) or zero extension.
//
// Cycles: one word per cycle on the DMA side, so a pixel takes N cycles. TO_PIXELS collects
// N-1 words and moves the pixel into the output register with the N-th (the pixel is valid
// one cycle later); the next pixel's words are taken meanwhile. TO_PIXELS = 0 loads a pixel
// into its register and sends its words one per cycle, taking the next pixel in the cycle
// its last word leaves, so words follow without gaps.
module axis_dma_packer #(
    parameter int PIXEL_W = 24,
    parameter int DMA_W = 32,
    parameter bit TO_PIXELS = 1'b1
) (
    input  logic                                  clk,
    input  logic                                  rst_n,
    input  logic [(TO_PIXELS ? DMA_W : PIXEL_W)-1:0] s_axis_tdata,
    input  logic                                  s_axis_tvalid,
    output logic                                  s_axis_tready,
    input  logic                                  s_axis_tlast,
    output logic [(TO_PIXELS ? PIXEL_W : DMA_W)-1:0] m_axis_tdata,
    output logic                                  m_axis_tvalid,
    input  logic                                  m_axis_tready,
    output logic                                  m_axis_tlast
);
    localparam int N = (PIXEL_W + DMA_W - 1) / DMA_W;
    localparam int IDX_W = (N > 1) ? $clog2(N) : 1;
    localparam int PACKED_W = N * DMA_W;

    logic [IDX_W-1:0] idx;  // word of the current pixel
    logic out_valid;
    wire last_word = (idx == IDX_W'(N - 1));

    assign m_axis_tvalid = out_valid;

    if (TO_PIXELS) begin : g_gather
        /* verilator lint_off UNUSEDSIGNAL */
        logic [PACKED_W-1:0] words;      // the pixel's words so far; padding bits above PIXEL_W are dropped
        logic [PACKED_W-1:0] assembled;  // with the word on the input in its place
        /* verilator lint_on UNUSEDSIGNAL */

        assign s_axis_tready = !last_word || !out_valid || m_axis_tready;
        wire fire = s_axis_tvalid && s_axis_tready;

        always_comb begin
            assembled = words;
            assembled[idx*DMA_W +: DMA_W] = s_axis_tdata;
        end

        always_ff @(posedge clk) begin
            if (!rst_n) begin
                idx <= '0;
                out_valid <= 1'b0;
            end else begin
                if (m_axis_tready) out_valid <= 1'b0;
                if (fire) begin
                    idx <= last_word ? '0 : idx + 1'b1;
                    if (last_word) out_valid <= 1'b1;
                end
            end
        end

        always_ff @(posedge clk) begin
            if (fire) words <= assembled;
            if (fire && last_word) begin
                m_axis_tdata <= assembled[PIXEL_W-1:0];
                m_axis_tlast <= s_axis_tlast;
            end
        end
    end else begin : g_split
        logic [PACKED_W-1:0] pixel;
        logic pixel_last;

        wire take = out_valid && m_axis_tready;
        assign s_axis_tready = !out_valid || (m_axis_tready && last_word);
        wire fire = s_axis_tvalid && s_axis_tready;

        always_ff @(posedge clk) begin
            if (!rst_n) begin
                idx <= '0;
                out_valid <= 1'b0;
            end else if (fire) begin
                idx <= '0;
                out_valid <= 1'b1;
            end else if (take) begin
                idx <= last_word ? '0 : idx + 1'b1;
                if (last_word) out_valid <= 1'b0;
            end
        end

        always_ff @(posedge clk) begin
            if (fire) begin
                pixel <= PACKED_W'(s_axis_tdata);
                pixel_last <= s_axis_tlast;
            end
        end

        assign m_axis_tdata = pixel[idx*DMA_W +: DMA_W];
        assign m_axis_tlast = pixel_last && last_word;
    end
endmodule
