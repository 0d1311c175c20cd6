// sparse_conv_engine: one output pixel per input window, computing only the nonzero weights.
//
// Parameters
//   BEAT_N      window elements per input beat; BEATS input beats per window. A conv takes
//               one beat per window (KH*KW*C_IN elements, from window_gen); a dense layer
//               takes the pixels of its input map, one beat of C elements each
//   IN_W, IN_SIGNED    bits and signedness of a window element
//   WR_N        window elements written into the lanes' memories per cycle (a power of two);
//               a beat is written in CPB = ceil(BEAT_N / WR_N) cycles, a window in
//               WORDS = BEATS * CPB
//   WIN_RAM_STYLE  "distributed" or "block": the lanes' window memories (rtl/window_ram.sv)
//   C_OUT       output channels; OUT_W, OUT_SIGNED their code width and signedness
//   WW          weight code bits (two's complement)
//   IDX_W       bits of a window address in a ROM entry: element j of beat t sits at
//               address t * CPB * WR_N + j (for one beat per window, the element index)
//   P           lanes: ROM entries (multiplies) per cycle
//   LUT_LANES   lanes (the last ones, 0..P) whose multiply is rtl/lut_multiplier.sv in LUTs
//               and carry chains; the other P - LUT_LANES multiply with `*`, one DSP slice each.
//               Same product, same cycle: only the resources differ (docs/quantization.md)
//   K_FIN       finish units: at most K_FIN output channels end in one ROM word
//   ACC_W       accumulator bits (the accumulator type of the layer)
//   SHIFT       ACC_FRAC - OUT_FRAC: requantize shift (> 0 rounds half up, <= 0 shifts left)
//   SHIFT_SPREAD  0: every channel requantizes with SHIFT. > 0 (per-channel weight formats,
//               docs/fixed-point.md): channel c's biased sum is first shifted left by its
//               align a[c] (0..SHIFT_SPREAD, SHIFT_W = $clog2(SHIFT_SPREAD + 1) bits in its
//               CHAN_FILE entry) to the largest F_acc, from which SHIFT = max F_acc - OUT_FRAC
//   ACT         0 none, 1 ReLU, 2 ReLU6 (clamp at RELU6_MAX, the code of 6.0), 3 LeakyRelu (SLOPE_CODE, SLOPE_FRAC; requantize.sv)
//   DEPTH       ROM words; NZ_OC nonempty output channels (>= 1; a layer with none gets a dummy)
//   OC_W        bits of an output channel number
//   INDEX_MODE  how a ROM word names the window elements of its weights
//               (SEG_W = $clog2(K_FIN + 1); n_ends, the channels the word closes, sits
//               above the lanes; a lane's segment s < n_ends belongs to the s-th channel
//               closed in the word, s = n_ends to the channel that goes on in the next word):
//               0 per-element index: P entries per word, entry l at bits [l*E +: E],
//                 E = WW+IDX_W+SEG_W, entry = {segment, address, weight}
//               1 pattern id: every nonzero kernel has K_NZ nonzeros; a word holds P/K_NZ
//                 kernel slots, slot s at bits [s*SLOT_W +: SLOT_W],
//                 SLOT_W = K_NZ*WW + IC_W + PID_W + SEG_W,
//                 slot = {segment, pattern id, input channel ic, K_NZ weights (j*WW)};
//                 PATTERN_FILE (NP lines) holds per pattern K_NZ window offsets
//                 pos*C_IN (IDX_W bits each, offset j at [j*IDX_W +: IDX_W]); weight j of a
//                 slot multiplies window address offset(pid, j) + ic. P must be a multiple
//                 of K_NZ.
//   K_NZ, NP, IC_W, PID_W, PATTERN_FILE   pattern mode only (ignored when INDEX_MODE = 0)
//   WEIGHT_FILE ROM words in the format INDEX_MODE says
//   CHAN_FILE   per nonempty channel in ROM order: {align (SHIFT_W), oc (OC_W), bias (ACC_W)};
//               no align field when SHIFT_SPREAD is 0
//   CONST_FILE  per output channel: the output code of an empty channel (requant(bias))
//   ROM_STYLE   "block" or "distributed": the weight ROM's RAM_STYLE (rtl/weight_rom.sv)
// Ports: clk, rst_n; s_axis_* window beats (BEAT_N*IN_W bits, element j at [j*IN_W +: IN_W]);
//   m_axis_* output pixels (C_OUT*OUT_W bits, channel 0 low), TLAST from the window's last beat.
//
// How (docs/hardware.md, "Sparse convolution engine"):
//   Writer: the beats of a window are cut into WR_N-element words and written, one word per
//   cycle, into every lane's window memory (two banks: the next window is written while the
//   current one is read). A lane reads its element by address, so the lanes cost a small RAM
//   each instead of a WIN_N:1 multiplexer.
//   Reader: the ROM lists the nonzero weights of all output channels back to back, P entries
//   per word, packed across channel boundaries with at most K_FIN channel ends per word. Each
//   cycle one word is read; the lanes look up their addresses, read their elements and
//   multiply (the word read, the element picked and the operands relayed are registered, the
//   relayed operands and the product in the DSP's own registers or a LUT lane's); K_FIN + 1
//   adder trees pipelined over log2(P) stages sum the lanes of each segment of the word; the
//   open channel's partial sum is carried into the next word; K_FIN finish units add the
//   bias, requantize, apply the activation and store the codes by output channel. After a
//   window's last word the finished pixel goes into an output FIFO.
//   Nothing stalls inside: a window starts only when the output FIFO is sure to have room
//   (a credit counter), so back-pressure reaches only the reader's start and the writer.
//   A window costs max(DEPTH, WORDS, (WORDS + DEPTH + 1) / 2) cycles in steady state
//   (fpgaflow.flow.cycles.window_cycles).
//   Channels without nonzero weights are never computed: their constant code is preloaded
//   from CONST_FILE.
module sparse_conv_engine #(
    parameter int BEAT_N = 9,
    parameter int BEATS = 1,
    parameter int IN_W = 8,
    parameter bit IN_SIGNED = 1'b0,
    parameter int WR_N = 1,
    parameter WIN_RAM_STYLE = "distributed",
    parameter int C_OUT = 4,
    parameter int OUT_W = 8,
    parameter bit OUT_SIGNED = 1'b0,
    parameter int WW = 8,
    parameter int IDX_W = 4,
    parameter int P = 2,
    parameter int LUT_LANES = 0,
    parameter int K_FIN = 1,
    parameter int ACC_W = 24,
    parameter int SHIFT = 4,
    parameter int SHIFT_SPREAD = 0,
    parameter int ACT = 0,
    parameter int RELU6_MAX = 0,
    parameter int SLOPE_CODE = 0,  // LeakyRelu (ACT 3): see requantize.sv
    parameter int SLOPE_FRAC = 0,
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
    input  logic [BEAT_N*IN_W-1:0] s_axis_tdata,
    input  logic                   s_axis_tvalid,
    output logic                   s_axis_tready,
    input  logic                   s_axis_tlast,
    output logic [C_OUT*OUT_W-1:0] m_axis_tdata,
    output logic                   m_axis_tvalid,
    input  logic                   m_axis_tready,
    output logic                   m_axis_tlast
);
    // ---- geometry
    localparam int LWR = $clog2(WR_N);
    localparam int CPB = (BEAT_N + WR_N - 1) / WR_N;
    localparam int WORDS = BEATS * CPB;
    localparam int MEM_DEPTH = 2 * WORDS;
    localparam int MA_W = (MEM_DEPTH > 1) ? $clog2(MEM_DEPTH) : 1;
    localparam int WRD_W = (WORDS > 1) ? $clog2(WORDS) : 1;
    localparam int CPB_W = (CPB > 1) ? $clog2(CPB) : 1;
    localparam int SUB_W = (LWR > 0) ? LWR : 1;
    localparam int SEG_W = $clog2(K_FIN + 1);
    localparam int E = WW + IDX_W + SEG_W;
    localparam int SLOTS = P / K_NZ;
    localparam int SLOT_W = K_NZ * WW + IC_W + PID_W + SEG_W;
    localparam int LANES_W = (INDEX_MODE == 1) ? SLOTS * SLOT_W : P * E;
    localparam int ROM_W = LANES_W + SEG_W;
    localparam int AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam int RK_W = $clog2(NZ_OC + K_FIN + 1);
    localparam int PROD_W = IN_W + 1 + WW;
    localparam int LV = $clog2(P);  // adder-tree levels
    localparam int PP = 1 << LV;    // lanes rounded up to a power of two
    localparam int TREES = K_FIN + 1;
    // Cycles from a window's first ROM word to its pixel leaving the FIFO, and the FIFO depth
    // that keeps windows back to back while earlier pixels are still on their way.
    localparam int LATENCY = LV + 16;
    // A lower bound of the cycles per window (fpgaflow.flow.cycles.window_cycles, BANK_GAP = 1),
    // never above the real one.
    localparam int HALF_CYCLE = (WORDS + DEPTH + 1) / 2;
    localparam int WINDOW_CYCLES = (DEPTH > HALF_CYCLE) ? DEPTH : HALF_CYCLE;
    localparam int OUT_DEPTH = (LATENCY + WINDOW_CYCLES - 1) / WINDOW_CYCLES + 1;
    localparam int CR_W = $clog2(OUT_DEPTH + 1);
    localparam logic [AW-1:0] LAST_ADDR = AW'(DEPTH - 1);
    // ---- finish: the channel's align field and the width of an aligned sum
    localparam int SHIFT_W = (SHIFT_SPREAD > 0) ? $clog2(SHIFT_SPREAD + 1) : 0;
    localparam int CHAN_W = SHIFT_W + OC_W + ACC_W;
    localparam int BW = ACC_W + 1 + SHIFT_SPREAD;

    initial begin
        if ((1 << LWR) != WR_N) $error("sparse_conv_engine: WR_N = %0d must be a power of two", WR_N);
        if (P % K_NZ != 0) $error("sparse_conv_engine: P = %0d must be a multiple of K_NZ = %0d", P, K_NZ);
        if (LUT_LANES < 0 || LUT_LANES > P) $error("sparse_conv_engine: LUT_LANES = %0d must be in 0..P", LUT_LANES);
        if (K_FIN < 1 || K_FIN > P) $error("sparse_conv_engine: K_FIN = %0d must be in 1..P", K_FIN);
        if (IDX_W <= LWR) $error("sparse_conv_engine: IDX_W = %0d must exceed the %0d sub-word address bits", IDX_W, LWR);
    end

    // ================================================================ writer
    logic [1:0] full;        // bank holds a complete window
    logic [1:0] bank_tlast;  // TLAST of the window in each bank
    logic wb;                // bank being written
    logic [WRD_W-1:0] wword; // word of the window being written
    logic [CPB_W-1:0] wchunk;// word of the current beat
    logic [1:0] bank_done;   // the reader issues bank b's last ROM word this cycle

    wire can_write = !full[wb];
    // wchunk == CPB - 1 and wword == WORDS - 1, kept in registers (set the cycle before the
    // counters get there) so the handshake and the bank flags see no comparator
    logic chunk_last, word_last;
    wire wr_fire = s_axis_tvalid && can_write;
    assign s_axis_tready = can_write && chunk_last;

    // The word `wchunk` of the beat is picked in two registered stages, not by a CPB:1
    // multiplexer in one cycle (too deep for the board clock at CPB ~ 144):
    // - stage 1, next to the input: in each of LIVE groups of LO_N words of the beat, the
    //   word given by wchunk's low LO_LOG bits, into `stage1`. Its select is copied per
    //   SEL_SLICE bits of `stage1` (each copy a register holding wchunk's low bits): one
    //   select net would drive every leaf of a CPB:1 multiplexer tree (over a thousand LUTs
    //   at CPB 144), a slow route in front of the tree;
    // - stage 2: the LIVE:1 (at most 4:1, one LUT level) pick by the high bits into the
    //   write port {enable, address, word}, which is copied once per LANE_GROUP lanes
    //   (rtl/fanout_register.sv) and reaches the memories with no logic between: the copies
    //   are spread over the device with their lanes' memories, so the route to them is long
    //   and nothing else may sit in that cycle.
    // The beat stays on s_axis_tdata until its last word is taken, so stage 1 samples the
    // beat it belongs to. The write lands two edges after the word is taken; the bank is
    // marked full when its last word is taken, and its first read is four edges later
    // (issue, decode, address: issue sees the bank full a cycle late).
    localparam int CH_W = WR_N * IN_W;          // bits of a written word
    localparam int HI_LOG = (CPB_W > 2) ? 2 : 1;
    localparam int LO_LOG = CPB_W - HI_LOG;     // 0 when a beat has at most two words
    localparam int LO_N = 1 << LO_LOG;
    localparam int LIVE = (CPB + LO_N - 1) / LO_N;  // groups of the beat that hold words
    localparam int ST1_W = LIVE * CH_W;
    localparam int SEL_SLICE = 4;
    localparam int SEL_COPIES = (LO_LOG > 0) ? (ST1_W + SEL_SLICE - 1) / SEL_SLICE : 0;
    localparam int SEL_W = (LO_LOG > 0) ? LO_LOG : 1;
    localparam int LANE_GROUP = 8;
    localparam int GROUPS = (P + LANE_GROUP - 1) / LANE_GROUP;
    localparam int WP_W = 1 + MA_W + CH_W;      // a write: {enable, address, word}

    logic [LIVE*LO_N*CH_W-1:0] beat_padded;
    assign beat_padded = (LIVE * LO_N * CH_W)'(s_axis_tdata);
    wire [MA_W-1:0] w_addr_now = MA_W'(wword) + (wb ? MA_W'(WORDS) : '0);
    logic [CPB_W-1:0] wchunk_next;

    always_comb begin
        if (!rst_n) wchunk_next = '0;
        else if (wr_fire) wchunk_next = chunk_last ? '0 : wchunk + 1'b1;
        else wchunk_next = wchunk;
    end

    always_ff @(posedge clk) begin
        wchunk <= wchunk_next;
        if (!rst_n) begin
            wb <= 1'b0;
            wword <= '0;
            chunk_last <= (CPB == 1);
            word_last <= (WORDS == 1);
        end else if (wr_fire) begin
            wword <= word_last ? '0 : wword + 1'b1;
            chunk_last <= (CPB == 1) || (!chunk_last && wchunk == CPB_W'(CPB - 2));
            word_last <= (WORDS == 1) || (!word_last && wword == WRD_W'(WORDS - 2));
            if (word_last) wb <= !wb;
        end
    end

    always_ff @(posedge clk) begin
        if (wr_fire && word_last) bank_tlast[wb] <= s_axis_tlast;
    end

    // stage 1: bit i of `stage1` is bit i % CH_W of word (i / CH_W) * LO_N + (low bits), its
    // select a copy of wchunk's low bits per SEL_SLICE bits (none when LO_LOG is 0)
    logic [ST1_W-1:0] stage1;
    logic [HI_LOG-1:0] digit_hi;
    logic en_q;
    logic [MA_W-1:0] addr_q;
    for (genvar c = 0; c < SEL_COPIES; c++) begin : g_stage1
        logic [SEL_W-1:0] sel;  // wchunk's low bits, this slice's copy
        fanout_register #(.W(SEL_W)) u_sel (.clk(clk), .en(1'b1), .d(SEL_W'(wchunk_next)), .q(sel));
        for (genvar i = c * SEL_SLICE; i < (c + 1) * SEL_SLICE && i < ST1_W; i++) begin : g_bit
            logic [LO_N-1:0] candidates;  // the bit in each word of the group
            for (genvar k = 0; k < LO_N; k++) begin : g_word
                assign candidates[k] = beat_padded[((i / CH_W) * LO_N + k) * CH_W + i % CH_W];
            end
            always_ff @(posedge clk) stage1[i] <= candidates[sel];
        end
    end
    if (LO_LOG == 0) begin : g_stage1_words
        // a beat of at most two words: group g is word g, nothing to pick
        always_ff @(posedge clk) stage1 <= beat_padded[ST1_W-1:0];
    end

    always_ff @(posedge clk) begin
        digit_hi <= HI_LOG'(wchunk >> LO_LOG);
        addr_q <= w_addr_now;
        en_q <= rst_n && wr_fire;
    end

    // stage 2: the group by the high bits, into the write port's copies
    logic [(1 << HI_LOG)*CH_W-1:0] stage1_padded;
    assign stage1_padded = ((1 << HI_LOG) * CH_W)'(stage1);
    wire [WP_W-1:0] w_next = {en_q, addr_q, stage1_padded[int'(digit_hi)*CH_W +: CH_W]};

    // A bank is full from the take of its last word until its last ROM word is issued: the
    // writer's first take lands in the memories three edges later, after that word's element
    // reads (issue, decode, address, read), so no read and write of a block RAM collide.
    logic [1:0] full_next;
    always_comb begin
        for (int b = 0; b < 2; b++) begin
            if (wr_fire && word_last && wb == b[0]) full_next[b] = 1'b1;
            else if (bank_done[b]) full_next[b] = 1'b0;
            else full_next[b] = full[b];
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) full <= '0;
        else full <= full_next;
    end

    // ================================================================ reader
    logic rb;                    // bank being read
    logic [AW-1:0] raddr_succ;   // the word issued after the current one: the ROM's read address, a register
    logic [CR_W-1:0] outstanding;  // windows started and not yet sent out
    logic out_fire;

    // the ROM word being issued is word 0 / word DEPTH - 1 (registered from raddr_succ)
    logic first_word, last_word;
    // `issue` (a ROM word enters the lanes this cycle) and the ROM's read enable are registers,
    // set from the next values of the bank flags, the bank, the first-word flag and the count
    // of windows out: the enable drives every copy of the ROM's address, hundreds of clock
    // enables spread over a wide LUT ROM, so nothing but the route may sit in front of it.
    logic issue;
    logic rom_en;                // issue, but set by reset: the cycle after reset reads word 0
    // The ROM's read enable drives the clock enables of every copy of a LUT ROM's address,
    // spread over the ROM: it is copied once per ROM_EN_BITS bits of the word (rtl/fanout_register.sv),
    // each copy set as rom_en is (in conv2, 1,973 bits wide, one enable net to 31 address
    // copies routed at 91.5 MHz on the ECP5 proxy, 10.4 ns of routing).
    localparam int ROM_EN_BITS = 256;
    /* verilator lint_off WIDTHEXPAND */
    localparam int ROM_EN_N = (ROM_STYLE == "distributed") ? (ROM_W + ROM_EN_BITS - 1) / ROM_EN_BITS : 1;
    /* verilator lint_on WIDTHEXPAND */
    logic [ROM_EN_N-1:0] rom_en_copies;
    logic [CR_W-1:0] outstanding_next;
    wire rb_next = (issue && last_word) ? !rb : rb;
    wire first_word_next = issue ? (raddr_succ == '0) : first_word;
    // The bank to read next is ready by the registered flag, not by full_next, whose set comes
    // from the writer's handshake this cycle (s_axis_tvalid and the writer's state, far from
    // the reader): a window's first ROM word issues two cycles after its last word is taken
    // (fpgaflow.flow.cycles.FIRST_READ_AFTER_TAKE). A bank being released is never rb_next.
    wire issue_next = full[rb_next] && (!first_word_next || outstanding_next < CR_W'(OUT_DEPTH));
    assign bank_done = {issue && last_word && rb, issue && last_word && !rb};

    always_comb begin
        case ({issue && first_word, out_fire})
            2'b10: outstanding_next = outstanding + 1'b1;
            2'b01: outstanding_next = outstanding - 1'b1;
            default: outstanding_next = outstanding;
        endcase
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            rb <= 1'b0;
            first_word <= 1'b1;
            last_word <= (DEPTH == 1);
            raddr_succ <= '0;
            outstanding <= '0;
            issue <= 1'b0;
            rom_en <= 1'b1;
        end else begin
            if (rom_en) raddr_succ <= (raddr_succ == LAST_ADDR) ? '0 : raddr_succ + 1'b1;
            first_word <= first_word_next;
            if (issue) last_word <= (raddr_succ == LAST_ADDR);
            rb <= rb_next;
            outstanding <= outstanding_next;
            issue <= issue_next;
            rom_en <= issue_next;
        end
    end

    // weight ROM: the word being issued is on rom_q. Its read address is the register raddr_succ
    // and `issue` only enables the read, so no handshake logic sits in front of the ROM's
    // address, which fans out to every bit of a wide LUT ROM (the longest path before).
    // The cycle after reset reads word 0 (rom_en's reset value), and issue waits for it.
    logic [ROM_W-1:0] rom_q;
    for (genvar c = 0; c < ROM_EN_N; c++) begin : g_rom_en
        fanout_register #(.W(1)) u_en (.clk(clk), .en(1'b1), .d(!rst_n || issue_next), .q(rom_en_copies[c]));
    end
    weight_rom #(.WIDTH(ROM_W), .DEPTH(DEPTH), .INIT_FILE(WEIGHT_FILE), .RAM_STYLE(ROM_STYLE), .EN_N(ROM_EN_N)) rom (
        .clk(clk), .en(rom_en_copies), .addr(raddr_succ), .data(rom_q)
    );

    // ---- S1: decode the word into per-lane addresses, weights and segments
    logic [P*IDX_W-1:0] lane_index;
    logic [P*WW-1:0] lane_weight;
    logic [P*SEG_W-1:0] lane_seg;

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
                        lane_seg[(s*K_NZ+j)*SEG_W +: SEG_W] = rom_q[s*SLOT_W+K_NZ*WW+IC_W+PID_W +: SEG_W];
                    end
                end
            end
        end else begin : g_element
            always_comb begin
                for (int l = 0; l < P; l++) begin
                    lane_index[l*IDX_W +: IDX_W] = rom_q[l*E+WW +: IDX_W];
                    lane_weight[l*WW +: WW] = rom_q[l*E +: WW];
                    lane_seg[l*SEG_W +: SEG_W] = rom_q[l*E+WW+IDX_W +: SEG_W];
                end
            end
        end
    endgenerate

    // Per-word control travels with the lanes: valid, last word of the window, channels the
    // word closes, and the window's TLAST.
    localparam int CTL_W = 3 + SEG_W;
    wire [CTL_W-1:0] ctl1 = {issue, issue && last_word, rom_q[LANES_W +: SEG_W], bank_tlast[rb]};

    // ---- S2: decoded lanes
    logic [P*IDX_W-1:0] idx2;
    logic [P*WW-1:0] w2;
    logic [P*SEG_W-1:0] seg2;
    logic [CTL_W-1:0] ctl2;
    logic [GROUPS-1:0] bank2;  // the bank being read, a copy per lane group (like the write port)

    for (genvar g = 0; g < GROUPS; g++) begin : g_bank
        fanout_register #(.W(1)) u_bank (.clk(clk), .en(1'b1), .d(rb), .q(bank2[g]));
    end

    // ---- S3: memory addresses (word + bank base) and sub-word positions
    logic [P*MA_W-1:0] maddr3;
    logic [P*SUB_W-1:0] sub3, sub4, sub5;
    logic [P*WW-1:0] w3, w4, w5, w6;
    logic [P*SEG_W-1:0] seg3, seg4, seg5, seg6, seg7, seg8;
    logic [CTL_W-1:0] ctl3, ctl4, ctl5, ctl6, ctl7, ctl8;

    always_ff @(posedge clk) begin
        idx2 <= lane_index;
        w2 <= lane_weight;
        seg2 <= lane_seg;
        for (int l = 0; l < P; l++) begin
            maddr3[l*MA_W +: MA_W] <= MA_W'(idx2[l*IDX_W+LWR +: IDX_W-LWR]) + (bank2[l / LANE_GROUP] ? MA_W'(WORDS) : '0);
            sub3[l*SUB_W +: SUB_W] <= (LWR > 0) ? SUB_W'(idx2[l*IDX_W +: SUB_W]) : '0;
        end
        {w3, seg3} <= {w2, seg2};
        {sub4, w4, seg4} <= {sub3, w3, seg3};
        {sub5, w5, seg5} <= {sub4, w4, seg4};
        {w6, seg6} <= {w5, seg5};
        seg7 <= seg6;
        seg8 <= seg7;
    end

    always_ff @(posedge clk) begin
        if (!rst_n) {ctl2, ctl3, ctl4, ctl5, ctl6, ctl7, ctl8} <= '0;
        else {ctl2, ctl3, ctl4, ctl5, ctl6, ctl7, ctl8} <= {ctl1, ctl2, ctl3, ctl4, ctl5, ctl6, ctl7};
    end

    // ---- S4: every lane reads its word from its own copy of the window, written through its
    // group's copy of the write port
    logic [P*WR_N*IN_W-1:0] word5;  // S5: the word read, registered (see below)
    logic [GROUPS*WP_W-1:0] w_port;
    for (genvar g = 0; g < GROUPS; g++) begin : g_write
        fanout_register #(.W(WP_W)) u_port (.clk(clk), .en(1'b1), .d(w_next), .q(w_port[g*WP_W +: WP_W]));
    end
    for (genvar l = 0; l < P; l++) begin : g_lane
        localparam int G = l / LANE_GROUP;
        localparam int W = WR_N * IN_W;
`ifdef FPGAFLOW_ECP5_PROXY
        // ECP5 timing proxy only (fpgaflow.hw.timing defines the macro; see g_mul below): a block-RAM window memory as a DP16KD in
        // 36-bit pseudo-dual-port mode whose output register is the word register, as Vivado
        // puts it in the RAMB18's DOB_REG; Yosys does not fold a register into a DP16KD.
        localparam bit ECP5_BRAM = (WIN_RAM_STYLE == "block") && W <= 36 && MEM_DEPTH <= 512;
        if (ECP5_BRAM) begin : g_dp16kd
            wire we = w_port[G*WP_W + MA_W + CH_W];
            wire [8:0] wa9 = 9'(w_port[G*WP_W + CH_W +: MA_W]);
            wire [8:0] ra9 = 9'(maddr3[l*MA_W +: MA_W]);
            wire [35:0] wd36 = 36'(w_port[G*WP_W +: CH_W]);
            wire [35:0] rd36;
            DP16KD #(
                .DATA_WIDTH_A(36), .DATA_WIDTH_B(36), .REGMODE_A("OUTREG"), .REGMODE_B("OUTREG"),
                .RESETMODE("SYNC"), .ASYNC_RESET_RELEASE("SYNC"), .CSDECODE_A("0b000"), .CSDECODE_B("0b000"),
                .WRITEMODE_A("NORMAL"), .WRITEMODE_B("NORMAL"), .GSR("DISABLED")
            ) u_window (
                        .CLKA(clk), .WEA(1'b1), .CEA(1'b1), .OCEA(1'b1), .RSTA(1'b0),
                        .CSA0(1'b0), .CSA1(1'b0), .CSA2(1'b0),
                        .ADA0(we), .ADA1(we), .ADA2(we), .ADA3(we), .ADA4(1'b0), .ADA5(wa9[0]),
                        .ADA6(wa9[1]), .ADA7(wa9[2]), .ADA8(wa9[3]), .ADA9(wa9[4]), .ADA10(wa9[5]),
                        .ADA11(wa9[6]), .ADA12(wa9[7]), .ADA13(wa9[8]),
                        .CLKB(clk), .WEB(1'b0), .CEB(1'b1), .OCEB(1'b1), .RSTB(1'b0),
                        .CSB0(1'b0), .CSB1(1'b0), .CSB2(1'b0),
                        .ADB0(1'b0), .ADB1(1'b0), .ADB2(1'b0), .ADB3(1'b0), .ADB4(1'b0), .ADB5(ra9[0]),
                        .ADB6(ra9[1]), .ADB7(ra9[2]), .ADB8(ra9[3]), .ADB9(ra9[4]), .ADB10(ra9[5]),
                        .ADB11(ra9[6]), .ADB12(ra9[7]), .ADB13(ra9[8]),
                        .DIA0(wd36[0]), .DIA1(wd36[1]), .DIA2(wd36[2]), .DIA3(wd36[3]), .DIA4(wd36[4]),
                        .DIA5(wd36[5]), .DIA6(wd36[6]), .DIA7(wd36[7]), .DIA8(wd36[8]), .DIA9(wd36[9]),
                        .DIA10(wd36[10]), .DIA11(wd36[11]), .DIA12(wd36[12]), .DIA13(wd36[13]),
                        .DIA14(wd36[14]), .DIA15(wd36[15]), .DIA16(wd36[16]), .DIA17(wd36[17]),
                        .DIB0(wd36[18]), .DIB1(wd36[19]), .DIB2(wd36[20]), .DIB3(wd36[21]),
                        .DIB4(wd36[22]), .DIB5(wd36[23]), .DIB6(wd36[24]), .DIB7(wd36[25]),
                        .DIB8(wd36[26]), .DIB9(wd36[27]), .DIB10(wd36[28]), .DIB11(wd36[29]),
                        .DIB12(wd36[30]), .DIB13(wd36[31]), .DIB14(wd36[32]), .DIB15(wd36[33]),
                        .DIB16(wd36[34]), .DIB17(wd36[35]),
                        .DOA0(rd36[0]), .DOA1(rd36[1]), .DOA2(rd36[2]), .DOA3(rd36[3]), .DOA4(rd36[4]),
                        .DOA5(rd36[5]), .DOA6(rd36[6]), .DOA7(rd36[7]), .DOA8(rd36[8]), .DOA9(rd36[9]),
                        .DOA10(rd36[10]), .DOA11(rd36[11]), .DOA12(rd36[12]), .DOA13(rd36[13]),
                        .DOA14(rd36[14]), .DOA15(rd36[15]), .DOA16(rd36[16]), .DOA17(rd36[17]),
                        .DOB0(rd36[18]), .DOB1(rd36[19]), .DOB2(rd36[20]), .DOB3(rd36[21]),
                        .DOB4(rd36[22]), .DOB5(rd36[23]), .DOB6(rd36[24]), .DOB7(rd36[25]),
                        .DOB8(rd36[26]), .DOB9(rd36[27]), .DOB10(rd36[28]), .DOB11(rd36[29]),
                        .DOB12(rd36[30]), .DOB13(rd36[31]), .DOB14(rd36[32]), .DOB15(rd36[33]),
                        .DOB16(rd36[34]), .DOB17(rd36[35]),
            );
            assign word5[l*W +: W] = rd36[W-1:0];
        end else begin : g_ram
`endif
        logic [W-1:0] word_read, word_q;  // S4: the word read; S5: registered
        window_ram #(.WIDTH(W), .DEPTH(MEM_DEPTH), .RAM_STYLE(WIN_RAM_STYLE)) u_window (
            .clk(clk), .we(w_port[G*WP_W + MA_W + CH_W]), .waddr(w_port[G*WP_W + CH_W +: MA_W]),
            .wdata(w_port[G*WP_W +: CH_W]), .raddr(maddr3[l*MA_W +: MA_W]), .rdata(word_read)
        );
        always_ff @(posedge clk) word_q <= word_read;
        assign word5[l*W +: W] = word_q;
`ifdef FPGAFLOW_ECP5_PROXY
        end
`endif
    end

    // ---- S5: the word read, registered: a block RAM's clock-to-out (5.8 ns on ECP5) leaves no
    // room for the pick in the same cycle.
    // ---- S6: the element picked from the word. S7: the operands registered again (a relay:
    // a lane's RAM and its multiplier sit in different columns of the device, and the two
    // registers split that distance). S8: products.
    logic signed [IN_W:0] a6 [P], a7 [P];
    logic signed [WW-1:0] b7 [P];
    logic signed [PROD_W-1:0] prod8 [P];

    // A window element as a signed operand one bit wider (zero-extended when unsigned).
    function automatic signed [IN_W:0] lane_operand(input [IN_W-1:0] element);
        lane_operand = IN_SIGNED ? {element[IN_W-1], element} : {1'b0, element};
    endfunction

    always_ff @(posedge clk) begin
        for (int l = 0; l < P; l++) begin
            a6[l] <= lane_operand(word5[(l*WR_N+int'(sub5[l*SUB_W +: SUB_W]))*IN_W +: IN_W]);
            a7[l] <= a6[l];
            b7[l] <= $signed(w6[l*WW +: WW]);
        end
    end

    for (genvar l = 0; l < P; l++) begin : g_mul
        if (l < P - LUT_LANES) begin : g_dsp
`ifdef FPGAFLOW_ECP5_PROXY
            // ECP5 timing proxy only (fpgaflow.hw.timing defines the macro for synth_ecp5):
            // Yosys's ECP5 flow maps a multiply to a MULT18X18D without its registers and leaves
            // the operand and product registers in the fabric, while synth_xilinx and Vivado put
            // them in the DSP48E1 (A1/A2, B, P). This instance is the same pipeline with the
            // operand registers (a7, b7) in the MULT18X18D's input registers; the product
            // register stays in the fabric (the MULT18X18D's own is 3.9 ns clock-to-out, and the
            // adder trees are far from the multiplier columns: 64.8 MHz on conv2 with it).
            if (IN_W + 1 <= 18 && WW <= 18) begin : g_mult18
                wire [17:0] a18 = 18'($signed(a6[l]));
                wire [17:0] b18 = 18'($signed(w6[l*WW +: WW]));
                wire [35:0] p36;
                MULT18X18D #(
                    .REG_INPUTA_CLK("CLK0"), .REG_INPUTA_CE("CE0"), .REG_INPUTA_RST("RST0"),
                    .REG_INPUTB_CLK("CLK0"), .REG_INPUTB_CE("CE0"), .REG_INPUTB_RST("RST0"),
                    .REG_INPUTC_CLK("NONE"), .REG_PIPELINE_CLK("NONE"), .REG_OUTPUT_CLK("NONE"),
                    .GSR("DISABLED"),
                    .RESETMODE("SYNC"), .MULT_BYPASS("DISABLED"), .SOURCEB_MODE("B_SHIFT")
                ) u_mult (
                    .A0(a18[0]), .A1(a18[1]), .A2(a18[2]), .A3(a18[3]), .A4(a18[4]), .A5(a18[5]),
                    .A6(a18[6]), .A7(a18[7]), .A8(a18[8]), .A9(a18[9]), .A10(a18[10]), .A11(a18[11]),
                    .A12(a18[12]), .A13(a18[13]), .A14(a18[14]), .A15(a18[15]), .A16(a18[16]),
                    .A17(a18[17]),
                    .B0(b18[0]), .B1(b18[1]), .B2(b18[2]), .B3(b18[3]), .B4(b18[4]), .B5(b18[5]),
                    .B6(b18[6]), .B7(b18[7]), .B8(b18[8]), .B9(b18[9]), .B10(b18[10]), .B11(b18[11]),
                    .B12(b18[12]), .B13(b18[13]), .B14(b18[14]), .B15(b18[15]), .B16(b18[16]),
                    .B17(b18[17]),
                    .P0(p36[0]), .P1(p36[1]), .P2(p36[2]), .P3(p36[3]), .P4(p36[4]), .P5(p36[5]),
                    .P6(p36[6]), .P7(p36[7]), .P8(p36[8]), .P9(p36[9]), .P10(p36[10]), .P11(p36[11]),
                    .P12(p36[12]), .P13(p36[13]), .P14(p36[14]), .P15(p36[15]), .P16(p36[16]),
                    .P17(p36[17]), .P18(p36[18]), .P19(p36[19]), .P20(p36[20]), .P21(p36[21]),
                    .P22(p36[22]), .P23(p36[23]), .P24(p36[24]), .P25(p36[25]), .P26(p36[26]),
                    .P27(p36[27]), .P28(p36[28]), .P29(p36[29]), .P30(p36[30]), .P31(p36[31]),
                    .P32(p36[32]), .P33(p36[33]), .P34(p36[34]), .P35(p36[35]),
                    .SIGNEDA(1'b1), .SIGNEDB(1'b1), .SOURCEA(1'b0), .SOURCEB(1'b0),
                    .CLK0(clk), .CLK1(1'b0), .CLK2(1'b0), .CLK3(1'b0),
                    .CE0(1'b1), .CE1(1'b0), .CE2(1'b0), .CE3(1'b0),
                    .RST0(1'b0), .RST1(1'b0), .RST2(1'b0), .RST3(1'b0)
                );
                always_ff @(posedge clk) prod8[l] <= p36[PROD_W-1:0];
            end else begin : g_fabric
`endif
            always_ff @(posedge clk) prod8[l] <= PROD_W'(a7[l] * b7[l]);
`ifdef FPGAFLOW_ECP5_PROXY
            end
`endif
        end else begin : g_lut
            lut_multiplier #(.A_W(IN_W + 1), .B_W(WW)) u_mul (.clk(clk), .a(a7[l]), .b(b7[l]), .p(prod8[l]));
        end
    end

    // ---- T1..T_LV: one adder tree per segment, lane l counted in tree seg[l]
    localparam int NODES = TREES * PP;  // nodes of one level, all trees side by side
    logic [NODES*ACC_W-1:0] leaves;
    logic [CTL_W-1:0] ctl_t;

    always_comb begin
        for (int t = 0; t < TREES; t++) begin
            for (int l = 0; l < PP; l++) begin
                // segment t starts at lane t or later: each earlier segment holds a lane
                if (l < P && l >= t && int'(seg8[(l < P ? l : 0)*SEG_W +: SEG_W]) == t)
                    leaves[(t*PP+l)*ACC_W +: ACC_W] = ACC_W'(prod8[l < P ? l : 0]);
                else
                    leaves[(t*PP+l)*ACC_W +: ACC_W] = '0;
            end
        end
    end

    logic [TREES*ACC_W-1:0] sums;  // the sum of segment t at [t*ACC_W]
    generate
        if (LV == 0) begin : g_no_tree
            assign sums = leaves;
            assign ctl_t = ctl8;
        end else begin : g_tree
            // Level d (1..LV) holds PP >> d nodes per tree, tree t's node n at node
            // LEVEL_BASE(d) + t * (PP >> d) + n: TREES * (PP - 1) nodes in all.
            localparam int ALL_NODES = TREES * (PP - 1);
            logic [ALL_NODES*ACC_W-1:0] level, level_next;
            logic [LV*CTL_W-1:0] ctl_level;
            // Each level adds pairs of the registered level below; the sums are registered.
            always_comb begin
                for (int d = 1; d <= LV; d++) begin
                    for (int t = 0; t < TREES; t++) begin
                        for (int n = 0; n < (PP >> d); n++) begin
                            if (d == 1)
                                level_next[(t*(PP>>1)+n)*ACC_W +: ACC_W] =
                                    leaves[(t*PP+2*n)*ACC_W +: ACC_W] + leaves[(t*PP+2*n+1)*ACC_W +: ACC_W];
                            else
                                level_next[(TREES*(PP-(PP>>(d-1)))+t*(PP>>d)+n)*ACC_W +: ACC_W] =
                                    level[(TREES*(PP-(PP>>(d-2)))+t*(PP>>(d-1))+2*n)*ACC_W +: ACC_W]
                                    + level[(TREES*(PP-(PP>>(d-2)))+t*(PP>>(d-1))+2*n+1)*ACC_W +: ACC_W];
                        end
                    end
                end
            end
            always_ff @(posedge clk) level <= level_next;
            always_ff @(posedge clk) begin
                if (!rst_n) ctl_level <= '0;
                else ctl_level <= (LV * CTL_W)'({ctl_level, ctl8});  // shift in at level 1
            end
            assign sums = level[TREES*(PP-2)*ACC_W +: TREES*ACC_W];  // the last level: one node per tree
            assign ctl_t = ctl_level[(LV-1)*CTL_W +: CTL_W];
        end
    endgenerate

    // ---- F0: close segments: the first adds the channel carried from earlier words
    wire t_valid = ctl_t[CTL_W-1];
    wire t_last = ctl_t[CTL_W-2];
    wire [SEG_W-1:0] t_ends = ctl_t[1 +: SEG_W];
    wire t_tlast = ctl_t[0];

    logic signed [ACC_W-1:0] carry;
    logic [RK_W-1:0] rank;
    logic signed [ACC_W-1:0] head;  // carry + segment 0
    assign head = carry + $signed(sums[0 +: ACC_W]);

    logic signed [ACC_W-1:0] val0 [K_FIN];
    logic [RK_W-1:0] rank0 [K_FIN];
    logic [K_FIN-1:0] valid0, valid1, valid2, valid3;
    logic last0, last1, last2, last3, last4;
    logic tlast0, tlast1, tlast2, tlast3, tlast4;

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            carry <= '0;
            rank <= '0;
        end else if (t_valid) begin
            if (t_last) begin
                carry <= '0;
                rank <= '0;
            end else begin
                carry <= (t_ends == '0) ? head : $signed(sums[int'(t_ends)*ACC_W +: ACC_W]);
                rank <= rank + RK_W'(t_ends);
            end
        end
    end

    always_ff @(posedge clk) begin
        for (int j = 0; j < K_FIN; j++) begin
            val0[j] <= (j == 0) ? head : $signed(sums[j*ACC_W +: ACC_W]);
            // the channel-table index; it stays below NZ_OC whenever valid0 is set, and the
            // clamp (here, a stage ahead of the table read) keeps it in range otherwise
            rank0[j] <= (int'(rank) + j < NZ_OC) ? rank + RK_W'(j) : '0;
        end
    end

    always_ff @(posedge clk) begin
        if (!rst_n) begin
            {valid0, valid1, valid2, valid3} <= '0;
            {last0, last1, last2, last3, last4} <= '0;
        end else begin
            for (int j = 0; j < K_FIN; j++) valid0[j] <= t_valid && (j < int'(t_ends));
            {valid1, valid2, valid3} <= {valid0, valid1, valid2};
            last0 <= t_valid && t_last;
            {last1, last2, last3, last4} <= {last0, last1, last2, last3};
        end
    end

    always_ff @(posedge clk) {tlast0, tlast1, tlast2, tlast3, tlast4} <= {t_tlast, tlast0, tlast1, tlast2, tlast3};

    // ---- F1: channel table (output channel, bias and, with SHIFT_SPREAD, align of each closed channel)
    logic [CHAN_W-1:0] chan [NZ_OC];
    initial $readmemh(CHAN_FILE, chan);

    logic signed [ACC_W-1:0] val1 [K_FIN];
    logic [ACC_W-1:0] bias1 [K_FIN];
    logic [OC_W-1:0] oc1 [K_FIN], oc2 [K_FIN], oc3 [K_FIN];
    logic signed [BW-1:0] biased2 [K_FIN];
    logic [OUT_W-1:0] code [K_FIN];
    logic [OUT_W-1:0] code3 [K_FIN];

    always_ff @(posedge clk) begin
        for (int j = 0; j < K_FIN; j++) begin
            bias1[j] <= chan[int'(rank0[j])][ACC_W-1:0];
            oc1[j] <= chan[int'(rank0[j])][ACC_W +: OC_W];
            val1[j] <= val0[j];
            oc2[j] <= oc1[j];
            // ---- F3: requantize, saturate, activation
            code3[j] <= code[j];
            oc3[j] <= oc2[j];
        end
    end

    // ---- F2: bias; with per-channel shifts the sum is aligned to the largest F_acc (an exact left shift)
    if (SHIFT_SPREAD > 0) begin : g_align
        logic [SHIFT_W-1:0] align1 [K_FIN];
        always_ff @(posedge clk) begin
            for (int j = 0; j < K_FIN; j++) begin
                align1[j] <= chan[int'(rank0[j])][ACC_W + OC_W +: SHIFT_W];
                biased2[j] <= BW'((ACC_W + 1)'(val1[j]) + (ACC_W + 1)'($signed(bias1[j]))) <<< align1[j];
            end
        end
    end else begin : g_bias
        always_ff @(posedge clk) begin
            for (int j = 0; j < K_FIN; j++) biased2[j] <= (ACC_W + 1)'(val1[j]) + (ACC_W + 1)'($signed(bias1[j]));
        end
    end

    for (genvar j = 0; j < K_FIN; j++) begin : g_finish
        requantize #(
            .IN_W(BW), .SHIFT(SHIFT), .OUT_W(OUT_W), .OUT_SIGNED(OUT_SIGNED), .ACT(ACT), .RELU6_MAX(RELU6_MAX),
            .SLOPE_CODE(SLOPE_CODE), .SLOPE_FRAC(SLOPE_FRAC)
        ) u_requantize (.value(biased2[j]), .code(code[j]));
    end

    // ---- F4: store by output channel
    logic [OUT_W-1:0] result [C_OUT];
    initial $readmemh(CONST_FILE, result);

    always_ff @(posedge clk) begin
        for (int j = 0; j < K_FIN; j++) begin
            if (valid3[j]) result[int'(oc3[j])] <= code3[j];
        end
    end

    // ---- the finished pixel goes into the output FIFO one cycle after its last store
    logic [C_OUT*OUT_W-1:0] pixel;
    always_comb begin
        for (int oc = 0; oc < C_OUT; oc++) pixel[oc*OUT_W +: OUT_W] = result[oc];
    end

    /* verilator lint_off PINCONNECTEMPTY */
    axis_fifo #(.DW(C_OUT * OUT_W), .DEPTH(OUT_DEPTH)) u_out (
        .clk(clk), .rst_n(rst_n),
        .s_axis_tdata(pixel), .s_axis_tvalid(last4), .s_axis_tready(), .s_axis_tlast(tlast4),
        .m_axis_tdata(m_axis_tdata), .m_axis_tvalid(m_axis_tvalid), .m_axis_tready(m_axis_tready),
        .m_axis_tlast(m_axis_tlast)
    );
    /* verilator lint_on PINCONNECTEMPTY */

    assign out_fire = m_axis_tvalid && m_axis_tready;
endmodule
