// sparse_conv_engine: one output pixel per input window, computing only the nonzero weights.
//
// Parameters
//   WIN_N       elements in a window beat (KH*KW*C_IN for a conv, the vector length for dense)
//   IN_W, IN_SIGNED    bits and signedness of a window element
//   C_OUT       output channels; OUT_W, OUT_SIGNED their code width and signedness
//   WW          weight code bits (two's complement)
//   IDX_W       bits of a window index in a ROM entry
//   P           lanes: ROM entries (multiplies) per cycle
//   ACC_W       accumulator bits (the accumulator type of the layer)
//   SHIFT       ACC_FRAC - OUT_FRAC: requantize shift (> 0 rounds half up, <= 0 shifts left)
//   ACT         0 none, 1 ReLU, 2 ReLU6 (clamp at RELU6_MAX, the code of 6.0)
//   DEPTH       ROM words; NZ_OC nonempty output channels (>= 1; a layer with none gets a dummy)
//   OC_W        bits of an output channel number
//   INDEX_MODE  how a ROM word names the window elements of its weights:
//               0 per-element index: WEIGHT_FILE holds P entries per word, entry l at bits
//                 [l*E +: E], E = WW+IDX_W+1, entry = {end_of_channel, index, weight}
//               1 pattern id: every nonzero kernel has K_NZ nonzeros; a word holds P/K_NZ
//                 kernel slots, slot s at bits [s*SLOT_W +: SLOT_W],
//                 SLOT_W = K_NZ*WW + IC_W + PID_W + 1,
//                 slot = {end_of_channel, pattern id, input channel ic, K_NZ weights (j*WW)};
//                 PATTERN_FILE (NP lines) holds per pattern K_NZ window offsets
//                 pos*C_IN (IDX_W bits each, offset j at [j*IDX_W +: IDX_W]); weight j of a
//                 slot multiplies window element offset(pid, j) + ic, and the end flag
//                 belongs to the slot's last lane. P must be a multiple of K_NZ.
//   K_NZ, NP, IC_W, PID_W, PATTERN_FILE   pattern mode only (ignored when INDEX_MODE = 0)
//   WEIGHT_FILE ROM words in the format INDEX_MODE says
//   CHAN_FILE   per nonempty channel in ROM order: {oc (OC_W), bias (ACC_W)}
//   CONST_FILE  per output channel: the output code of an empty channel (requant(bias))
//   ROM_STYLE   "block" or "distributed": the weight ROM's RAM_STYLE (rtl/weight_rom.sv)
// Ports: clk, rst_n; s_axis_* window beats (WIN_N*IN_W bits, element e at [e*IN_W +: IN_W]);
//   m_axis_* output pixels (C_OUT*OUT_W bits, channel 0 low), TLAST copied from the window.
//
// Schedule: the ROM lists the nonzero weights of all output channels back to back, packed P
// per word across channel boundaries; an entry's end_of_channel flag closes a channel. Each
// cycle one word is read, the P lanes pick their window elements and multiply, and a
// segmented sum over the lanes (carrying the open channel into the next word) closes up to
// P channels, which get bias, requantization, activation and are stored. A window costs
// max(1, DEPTH) cycles; the next window waits in a second buffer, so windows follow each
// other without gaps. Channels without nonzero weights are never computed: their constant
// code is preloaded from CONST_FILE.
module sparse_conv_engine #(
    parameter int WIN_N = 9,
    parameter int IN_W = 8,
    parameter bit IN_SIGNED = 1'b0,
    parameter int C_OUT = 4,
    parameter int OUT_W = 8,
    parameter bit OUT_SIGNED = 1'b0,
    parameter int WW = 8,
    parameter int IDX_W = 4,
    parameter int P = 2,
    parameter int ACC_W = 24,
    parameter int SHIFT = 4,
    parameter int ACT = 0,
    parameter int RELU6_MAX = 0,
    parameter int DEPTH = 4,
    parameter int NZ_OC = 4,
    parameter int OC_W = 2,
    parameter int INDEX_MODE = 0,
    parameter int K_NZ = 1,
    parameter int NP = 1,
    parameter int IC_W = 1,
    parameter int PID_W = 1,
    parameter PATTERN_FILE = "patterns.mem",
    parameter WEIGHT_FILE = "weights.mem",
    parameter CHAN_FILE = "channels.mem",
    parameter CONST_FILE = "const.mem",
    parameter ROM_STYLE = "block"
) (
    input  logic                   clk,
    input  logic                   rst_n,
    input  logic [WIN_N*IN_W-1:0]  s_axis_tdata,
    input  logic                   s_axis_tvalid,
    output logic                   s_axis_tready,
    input  logic                   s_axis_tlast,
    output logic [C_OUT*OUT_W-1:0] m_axis_tdata,
    output logic                   m_axis_tvalid,
    input  logic                   m_axis_tready,
    output logic                   m_axis_tlast
);
    localparam int E = WW + IDX_W + 1;
    localparam int SLOTS = P / K_NZ;
    localparam int SLOT_W = K_NZ * WW + IC_W + PID_W + 1;
    localparam int ROM_W = (INDEX_MODE == 1) ? SLOTS * SLOT_W : P * E;
    localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam int RK_W = (NZ_OC > 1) ? $clog2(NZ_OC + 1) : 1;
    localparam int PROD_W = IN_W + 1 + WW;
    localparam logic [AW-1:0] LAST_ADDR = AW'(DEPTH - 1);

    logic enable;
    logic out_valid;
    assign enable = !out_valid || m_axis_tready;

    // ---- window double buffer: `cur` feeds the lanes, `nxt` takes the next beat meanwhile
    logic [WIN_N*IN_W-1:0] cur, nxt;
    logic cur_valid, nxt_valid, cur_last, nxt_last;
    logic [AW-1:0] addr, addr_next;
    wire consume = cur_valid && enable;
    wire last_word = (addr == LAST_ADDR);
    wire pop = consume && last_word;
    wire cur_free = !cur_valid || pop;
    wire in_fire = s_axis_tvalid && s_axis_tready;
    assign s_axis_tready = !nxt_valid || cur_free;
    assign addr_next = consume ? (last_word ? '0 : addr + 1'b1) : addr;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            cur_valid <= 1'b0;
            nxt_valid <= 1'b0;
            addr <= '0;
        end else begin
            addr <= addr_next;
            if (cur_free) begin
                cur_valid <= nxt_valid || in_fire;
                nxt_valid <= nxt_valid && in_fire;
            end else if (in_fire) begin
                nxt_valid <= 1'b1;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (cur_free) begin
            cur <= nxt_valid ? nxt : s_axis_tdata;
            cur_last <= nxt_valid ? nxt_last : s_axis_tlast;
        end
        if (in_fire && (!cur_free || nxt_valid)) begin
            nxt <= s_axis_tdata;
            nxt_last <= s_axis_tlast;
        end
    end

    // ---- weight ROM: the word at `addr` is on rom_q (read address is addr_next)
    logic [ROM_W-1:0] rom_q;
    weight_rom #(.WIDTH(ROM_W), .DEPTH(DEPTH), .INIT_FILE(WEIGHT_FILE), .RAM_STYLE(ROM_STYLE)) rom (
        .clk(clk), .en(1'b1), .addr(addr_next), .data(rom_q)
    );

    // ---- index expansion: per lane a window index, a weight and an end-of-channel flag
    logic [P*IDX_W-1:0] lane_index;
    logic [P*WW-1:0] lane_weight;
    logic [P-1:0] eocs;

    generate
        if (INDEX_MODE == 1) begin : g_pattern
            // Pattern table: small (NP x K_NZ offsets), read combinationally (LUTs).
            logic [K_NZ*IDX_W-1:0] pattern_table [NP];
            initial $readmemh(PATTERN_FILE, pattern_table);

            always_comb begin
                for (int s = 0; s < SLOTS; s++) begin
                    for (int j = 0; j < K_NZ; j++) begin
                        lane_index[(s*K_NZ+j)*IDX_W +: IDX_W] =
                            pattern_table[int'(rom_q[s*SLOT_W+K_NZ*WW+IC_W +: PID_W])][j*IDX_W +: IDX_W]
                            + IDX_W'(rom_q[s*SLOT_W+K_NZ*WW +: IC_W]);
                        lane_weight[(s*K_NZ+j)*WW +: WW] = rom_q[s*SLOT_W+j*WW +: WW];
                        eocs[s*K_NZ+j] = (j == K_NZ - 1) && rom_q[s*SLOT_W+SLOT_W-1];
                    end
                end
            end
        end else begin : g_element
            always_comb begin
                for (int l = 0; l < P; l++) begin
                    lane_index[l*IDX_W +: IDX_W] = rom_q[l*E+WW +: IDX_W];
                    lane_weight[l*WW +: WW] = rom_q[l*E +: WW];
                    eocs[l] = rom_q[l*E+WW+IDX_W];
                end
            end
        end
    endgenerate

    // ---- stage M: lanes select and multiply
    logic [P*PROD_W-1:0] products, m_prod;
    logic [P-1:0] m_eoc;
    logic m_valid, m_last, m_tlast;

    always_comb begin
        for (int l = 0; l < P; l++) begin
            products[l*PROD_W +: PROD_W] = PROD_W'(lane_operand(cur[int'(lane_index[l*IDX_W +: IDX_W])*IN_W +: IN_W]) * $signed(lane_weight[l*WW +: WW]));
        end
    end

    // A window element as a signed operand one bit wider (zero-extended when unsigned).
    function automatic signed [IN_W:0] lane_operand(input [IN_W-1:0] element);
        lane_operand = IN_SIGNED ? {element[IN_W-1], element} : {1'b0, element};
    endfunction

    always_ff @(posedge clk) begin
        if (!rst_n) m_valid <= 1'b0;
        else if (enable) m_valid <= consume;
    end

    always_ff @(posedge clk) begin
        if (enable) begin
            m_prod <= products;
            m_eoc <= eocs;
            m_last <= last_word;
            m_tlast <= cur_last;
        end
    end

    // ---- stage S: segmented sum over the lanes, carrying the open channel
    logic signed [ACC_W-1:0] carry, carry_next;
    logic [RK_W-1:0] rank_base, rank_next;
    logic [P*ACC_W-1:0] sums, s_sum;
    logic [P*RK_W-1:0] ranks, s_rank;
    logic [P-1:0] s_eoc;
    logic s_valid, s_last, s_tlast;

    always_comb begin
        carry_next = carry;
        rank_next = rank_base;
        for (int l = 0; l < P; l++) begin
            carry_next = carry_next + ACC_W'($signed(m_prod[l*PROD_W +: PROD_W]));
            sums[l*ACC_W +: ACC_W] = carry_next;
            ranks[l*RK_W +: RK_W] = rank_next;
            if (m_eoc[l]) begin
                carry_next = '0;
                rank_next = rank_next + 1'b1;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            s_valid <= 1'b0;
            carry <= '0;
            rank_base <= '0;
        end else if (enable) begin
            s_valid <= m_valid;
            if (m_valid) begin
                carry <= m_last ? '0 : carry_next;
                rank_base <= m_last ? '0 : rank_next;
            end
        end
    end

    always_ff @(posedge clk) begin
        if (enable) begin
            s_sum <= sums;
            s_rank <= ranks;
            s_eoc <= m_valid ? m_eoc : '0;
            s_last <= m_valid && m_last;
            s_tlast <= m_tlast;
        end
    end

    // ---- stage R: bias, requantize, saturate, activation; store by output channel
    logic [OC_W+ACC_W-1:0] chan [NZ_OC];
    logic [OUT_W-1:0] result [C_OUT];
    initial $readmemh(CHAN_FILE, chan);
    initial $readmemh(CONST_FILE, result);

    logic r_capture, r_tlast;

    // Accumulator plus bias to an output code, one shared requantize per lane: round half
    // up, saturate, activation (fpgaflow.fixed.requantize, then relu / relu6_ceiling).
    logic [OUT_W-1:0] lane_code [P];
    for (genvar l = 0; l < P; l++) begin : g_finish
        logic [ACC_W-1:0] bias;
        logic signed [ACC_W:0] biased;
        assign bias = chan[int'(s_rank[l*RK_W +: RK_W])][ACC_W-1:0];
        assign biased = (ACC_W + 1)'($signed(s_sum[l*ACC_W +: ACC_W])) + (ACC_W + 1)'($signed(bias));
        requantize #(
            .IN_W(ACC_W + 1), .SHIFT(SHIFT), .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .ACT(ACT), .RELU6_MAX(RELU6_MAX)
        ) u_requantize (.value(biased), .code(lane_code[l]));
    end

    always_ff @(posedge clk) begin
        for (int l = 0; l < P; l++) begin
            if (enable && s_eoc[l]) begin
                result[int'(chan[int'(s_rank[l*RK_W +: RK_W])][ACC_W +: OC_W])] <= lane_code[l];
            end
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) r_capture <= 1'b0;
        else if (enable) r_capture <= s_valid && s_last;
    end

    always_ff @(posedge clk) begin
        if (enable) r_tlast <= s_tlast;
    end

    // ---- output register: the finished pixel, one cycle after its last channel was stored
    always_ff @(posedge clk) begin
        if (!rst_n) out_valid <= 1'b0;
        else if (enable) out_valid <= r_capture;
    end

    always_ff @(posedge clk) begin
        if (enable && r_capture) begin
            for (int oc = 0; oc < C_OUT; oc++) m_axis_tdata[oc*OUT_W +: OUT_W] <= result[oc];
            m_axis_tlast <= r_tlast;
        end
    end

    assign m_axis_tvalid = out_valid;
endmodule
