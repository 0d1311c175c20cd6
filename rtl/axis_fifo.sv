// axis_fifo: synchronous AXI4-Stream FIFO whose storage infers block RAM.
//
// Parameters
//   DW     data width (TDATA bits)
//   DEPTH  words held in the memory (>= 2); one more word sits in the output register,
//          so the FIFO holds DEPTH + 1 beats in all.
// Ports: clk, rst_n (active-low synchronous), s_axis_* in, m_axis_* out (TDATA, TVALID,
// TREADY, TLAST). TLAST travels with its beat.
//
// The memory has one write port and one synchronous read port whose data register IS the
// output register (first word fall-through: a word is read as soon as the output register
// is free), which is the shape block RAM inference expects. A beat written into an empty
// FIFO appears at m_axis two cycles later.
module axis_fifo #(
    parameter int DW = 8,
    parameter int DEPTH = 16
) (
    input  logic          clk,
    input  logic          rst_n,
    input  logic [DW-1:0] s_axis_tdata,
    input  logic          s_axis_tvalid,
    output logic          s_axis_tready,
    input  logic          s_axis_tlast,
    output logic [DW-1:0] m_axis_tdata,
    output logic          m_axis_tvalid,
    input  logic          m_axis_tready,
    output logic          m_axis_tlast
);
    localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam logic [AW-1:0] LAST_ADDR = AW'(DEPTH - 1);
    localparam logic [AW:0] FULL_COUNT = (AW + 1)'(DEPTH);

    logic [DW:0] mem [DEPTH];
    logic [DW:0] rd_q;
    logic [AW-1:0] wr_ptr, rd_ptr;
    logic [AW:0] count;
    logic out_valid;

    wire wr_en = s_axis_tvalid && s_axis_tready;
    wire rd_en = (count != '0) && (!out_valid || m_axis_tready);

    assign s_axis_tready = (count != FULL_COUNT);
    assign m_axis_tvalid = out_valid;
    assign m_axis_tdata = rd_q[DW-1:0];
    assign m_axis_tlast = rd_q[DW];

    always_ff @(posedge clk) begin
        if (wr_en) mem[wr_ptr] <= {s_axis_tlast, s_axis_tdata};
    end

    always_ff @(posedge clk) begin
        if (rd_en) rd_q <= mem[rd_ptr];
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            wr_ptr <= '0;
            rd_ptr <= '0;
            count <= '0;
            out_valid <= 1'b0;
        end else begin
            if (wr_en) wr_ptr <= (wr_ptr == LAST_ADDR) ? '0 : wr_ptr + 1'b1;
            if (rd_en) rd_ptr <= (rd_ptr == LAST_ADDR) ? '0 : rd_ptr + 1'b1;
            case ({wr_en, rd_en})
                2'b10: count <= count + 1'b1;
                2'b01: count <= count - 1'b1;
                default: count <= count;
            endcase
            if (rd_en) out_valid <= 1'b1;
            else if (m_axis_tready) out_valid <= 1'b0;
        end
    end
endmodule
