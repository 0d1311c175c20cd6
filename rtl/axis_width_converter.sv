// axis_width_converter: change the beat width of a stream by a whole ratio, keeping TLAST.
//
// Parameters
//   IN_DW, OUT_DW  beat widths; one must be a multiple of the other
// Ports: clk, rst_n; s_axis_* IN_DW-bit beats; m_axis_* OUT_DW-bit beats.
//
// Upsizing (OUT_DW = R * IN_DW): R input beats make one output beat, the first in the low
// bits; a TLAST before R beats closes the output beat early (upper pieces zero) and the
// output carries TLAST. This is also the collector in front of a dense layer: R = H*W
// pixel beats of C channels become one vector beat, element p*C + c.
// Downsizing (IN_DW = R * OUT_DW): an input beat leaves as R pieces, low piece first; TLAST
// on the last piece of a beat that had TLAST.
// Equal widths: a wire. Throughput is one input beat per cycle when upsizing and one output
// beat per cycle when downsizing, while the other side keeps up.
module axis_width_converter #(
    parameter int IN_DW = 8,
    parameter int OUT_DW = 32
) (
    /* verilator lint_off UNUSEDSIGNAL */  // clk and rst_n are unused only when IN_DW == OUT_DW (a wire)
    input  logic              clk,
    input  logic              rst_n,
    /* verilator lint_on UNUSEDSIGNAL */
    input  logic [IN_DW-1:0]  s_axis_tdata,
    input  logic              s_axis_tvalid,
    output logic              s_axis_tready,
    input  logic              s_axis_tlast,
    output logic [OUT_DW-1:0] m_axis_tdata,
    output logic              m_axis_tvalid,
    input  logic              m_axis_tready,
    output logic              m_axis_tlast
);
    localparam int R = (OUT_DW > IN_DW) ? OUT_DW / IN_DW : IN_DW / OUT_DW;
    localparam int CW = (R > 1) ? $clog2(R) : 1;
    localparam logic [CW-1:0] LAST_PIECE = CW'(R - 1);

    generate
        if (OUT_DW > IN_DW) begin : g_up
            logic [OUT_DW-1:0] gather;
            logic [CW-1:0] count;
            logic out_valid;
            wire in_fire = s_axis_tvalid && s_axis_tready;
            wire complete = in_fire && (count == LAST_PIECE || s_axis_tlast);
            logic [OUT_DW-1:0] merged;

            always_comb begin
                merged = gather;
                merged[int'(count)*IN_DW +: IN_DW] = s_axis_tdata;
            end

            assign s_axis_tready = !out_valid || m_axis_tready;
            assign m_axis_tvalid = out_valid;

            always_ff @(posedge clk) begin
                if (!rst_n) begin
                    count <= '0;
                    out_valid <= 1'b0;
                    gather <= '0;
                end else begin
                    if (complete) begin
                        count <= '0;
                        gather <= '0;
                        out_valid <= 1'b1;
                    end else begin
                        if (in_fire) begin
                            count <= count + 1'b1;
                            gather <= merged;
                        end
                        if (m_axis_tready) out_valid <= 1'b0;
                    end
                end
            end

            always_ff @(posedge clk) begin
                if (complete) begin
                    m_axis_tdata <= merged;
                    m_axis_tlast <= s_axis_tlast;
                end
            end
        end else if (IN_DW > OUT_DW) begin : g_down
            logic [IN_DW-1:0] held;
            logic held_last, held_valid;
            logic [CW-1:0] piece;
            wire out_fire = held_valid && m_axis_tready;
            wire done = out_fire && (piece == LAST_PIECE);

            assign s_axis_tready = !held_valid || done;
            assign m_axis_tvalid = held_valid;
            assign m_axis_tdata = held[int'(piece)*OUT_DW +: OUT_DW];
            assign m_axis_tlast = held_last && (piece == LAST_PIECE);

            always_ff @(posedge clk) begin
                if (!rst_n) begin
                    held_valid <= 1'b0;
                    piece <= '0;
                end else begin
                    if (s_axis_tvalid && s_axis_tready) held_valid <= 1'b1;
                    else if (done) held_valid <= 1'b0;
                    if (done) piece <= '0;
                    else if (out_fire) piece <= piece + 1'b1;
                end
            end

            always_ff @(posedge clk) begin
                if (s_axis_tvalid && s_axis_tready) begin
                    held <= s_axis_tdata;
                    held_last <= s_axis_tlast;
                end
            end
        end else begin : g_wire
            assign s_axis_tready = m_axis_tready;
            assign m_axis_tvalid = s_axis_tvalid;
            assign m_axis_tdata = s_axis_tdata;
            assign m_axis_tlast = s_axis_tlast;
        end
    endgenerate
endmodule
