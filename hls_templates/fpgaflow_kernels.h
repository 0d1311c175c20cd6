// fpgaflow HLS kernels: the reusable layer functions of the generated C++ (fpgaflow build --hls).
//
// Every function works on integer codes held in ap_int / ap_uint and follows docs/fixed-point.md
// bit for bit: an accumulator code with F_acc fractional bits is reinterpreted as
// ap_fixed<ACC_W, ACC_W - F_acc> and converted to ap_fixed<W, W - F, AP_RND, AP_SAT> (round half
// up, saturate), exactly the contract's requantize. Feature maps stream in raster order, one
// pixel (all its channels) per stream element; a vector is one pixel. Each call of a layer
// function processes one frame, so the top's DATAFLOW region runs the layers as a pipeline.
//
// The per-model structure (types, configurations, weight arrays, the top) is generated from the
// jinja2 templates beside this file; the kernels take a configuration struct CFG with the layer's
// sizes and formats as static constants.
#ifndef FPGAFLOW_KERNELS_H
#define FPGAFLOW_KERNELS_H

#include "ap_fixed.h"
#include "ap_int.h"
#include "hls_stream.h"

namespace fpgaflow {

// ---------------------------------------------------------------- formats

template <int W, bool S> struct code_type { typedef ap_int<W> type; };
template <int W> struct code_type<W, false> { typedef ap_uint<W> type; };

template <int W, int F, bool S> struct fixed_type { typedef ap_fixed<W, W - F, AP_RND, AP_SAT> type; };
template <int W, int F> struct fixed_type<W, F, false> { typedef ap_ufixed<W, W - F, AP_RND, AP_SAT> type; };

template <class T, int N> struct pixel { T v[N]; };

// How a ROM word array's elements are stored. In synthesis: the field's exact ap_int type, so
// the ROM is as wide as the RTL's. In C simulation: the smallest native integer that holds the
// field, because g++ initializes a constant array of ap_int elements at run time, one
// constructor call per element (a CIFAR-sized net did not compile in 15 minutes); a native
// array is constant-initialized. The values are the same and the kernels convert on read.
template <class T> struct rom_storage { typedef T type; };
#ifndef __SYNTHESIS__
template <int W, bool S, int CLASS = (W <= 8 ? 8 : W <= 16 ? 16 : W <= 32 ? 32 : 64)> struct native_fit {
    typedef long long type;
};
template <int W> struct native_fit<W, false, 64> { typedef unsigned long long type; };
template <int W> struct native_fit<W, true, 8> { typedef signed char type; };
template <int W> struct native_fit<W, false, 8> { typedef unsigned char type; };
template <int W> struct native_fit<W, true, 16> { typedef short type; };
template <int W> struct native_fit<W, false, 16> { typedef unsigned short type; };
template <int W> struct native_fit<W, true, 32> { typedef int type; };
template <int W> struct native_fit<W, false, 32> { typedef unsigned int type; };
template <int W> struct rom_storage<ap_int<W> > { typedef typename native_fit<W, true>::type type; };
template <int W> struct rom_storage<ap_uint<W> > { typedef typename native_fit<W, false>::type type; };
#endif

enum activation_kind { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2, ACT_LEAKY = 3 };

// requantize: acc (F_acc = AF fractional bits) to an output code of OW bits with OF fractional
// bits: round half up (AP_RND), saturate (AP_SAT), by ap_fixed's own conversion.
template <int OW, int OF, bool OS, int AW, int AF>
typename code_type<OW, OS>::type requantize(const ap_int<AW> &acc) {
#pragma HLS INLINE
    ap_fixed<AW, AW - AF> value;
    value.range(AW - 1, 0) = acc.range(AW - 1, 0);
    typename fixed_type<OW, OF, OS>::type out = value;
    typename code_type<OW, OS>::type code;
    code.range(OW - 1, 0) = out.range(OW - 1, 0);
    return code;
}

// finish: requantize, then the fused activation (ReLU clamps at 0, ReLU6 also at the code of
// 6.0); LeakyRelu multiplies a negative accumulator by the slope code before the one rounding.
template <class O, int AW, int AF>
typename code_type<O::OUT_W, O::OUT_S>::type finish(const ap_int<AW> &acc) {
#pragma HLS INLINE
    typedef typename code_type<O::OUT_W, O::OUT_S>::type out_t;
    if (O::ACT == ACT_LEAKY && acc < 0) {
        ap_int<AW + 17> scaled = acc * ap_uint<16>(O::SLOPE_CODE);
        return requantize<O::OUT_W, O::OUT_F, O::OUT_S, AW + 17, AF + O::SLOPE_F>(scaled);
    }
    out_t code = requantize<O::OUT_W, O::OUT_F, O::OUT_S, AW, AF>(acc);
    if (O::ACT == ACT_RELU || O::ACT == ACT_RELU6) {
        if (code < 0) code = 0;
        if (O::ACT == ACT_RELU6 && code > O::RELU6_MAX) code = O::RELU6_MAX;
    }
    return code;
}

// ---------------------------------------------------------------- the AXI4-Stream edge

// Pack and unpack follow fpgaflow.deploy.pynq_driver.packing: a pixel's codes low channel in the
// low bits, cut into ceil(C * W / DMA_W) words, the unused high bits of the last word zero.
template <class T, int C, int W, int DMA_W, class WORD>
void write_pixel_words(const pixel<T, C> &px, hls::stream<WORD> &out, bool last_pixel) {
#pragma HLS INLINE
    const int WORDS = (C * W + DMA_W - 1) / DMA_W;
    ap_uint<DMA_W + W> pending = 0;
    int filled = 0, sent = 0;
    for (int c = 0; c < C; ++c) {
#pragma HLS PIPELINE II = 1
        ap_uint<DMA_W + W> bits = 0;
        bits.range(W - 1, 0) = px.v[c].range(W - 1, 0);
        pending |= bits << filled;
        filled += W;
        if (filled >= DMA_W) {
            WORD word;
            word.data = pending.range(DMA_W - 1, 0);
            word.keep = -1;
            word.strb = -1;
            word.last = last_pixel && sent == WORDS - 1;
            out.write(word);
            ++sent;
            pending >>= DMA_W;
            filled -= DMA_W;
        }
    }
    if (filled > 0) {
        WORD word;
        word.data = pending.range(DMA_W - 1, 0);
        word.keep = -1;
        word.strb = -1;
        word.last = last_pixel;
        out.write(word);
    }
}

template <class T, int C, int W, int DMA_W, class WORD>
void read_pixel_words(hls::stream<WORD> &in, pixel<T, C> &px) {
#pragma HLS INLINE
    ap_uint<DMA_W + W> pending = 0;
    int filled = 0;
    for (int c = 0; c < C; ++c) {
#pragma HLS PIPELINE II = 1
        if (filled < W) {
            ap_uint<DMA_W + W> word = in.read().data;
            pending |= word << filled;
            filled += DMA_W;
        }
        px.v[c].range(W - 1, 0) = pending.range(W - 1, 0);
        pending >>= W;
        filled -= W;
    }
}

template <class CFG, class WORD>
void read_frame(hls::stream<WORD> &in, hls::stream<pixel<typename CFG::t, CFG::C> > &out) {
    for (int p = 0; p < CFG::PIXELS; ++p) {
        pixel<typename CFG::t, CFG::C> px;
        read_pixel_words<typename CFG::t, CFG::C, CFG::W, CFG::DMA_W, WORD>(in, px);
        out.write(px);
    }
}

template <class CFG, class WORD>
void write_frame(hls::stream<pixel<typename CFG::t, CFG::C> > &in, hls::stream<WORD> &out) {
    for (int p = 0; p < CFG::PIXELS; ++p) {
        write_pixel_words<typename CFG::t, CFG::C, CFG::W, CFG::DMA_W, WORD>(in.read(), out, p == CFG::PIXELS - 1);
    }
}

// ---------------------------------------------------------------- line buffers and windows

// The window walk shared by convolutions and pools: the padded (and ceil_mode-extended) image is
// visited in raster order; input pixels are read where they lie, padding positions are marked
// invalid; SPAN_H rows stay in a rolling line buffer; when a window's bottom-right corner arrives
// the kernel's compute(y, x) reads its KH x KW elements through at(ky, kx).
template <class CFG>
struct line_buffer {
    typedef typename CFG::in_t T;
    T rows[CFG::SPAN_H][CFG::PW][CFG::C];
    bool valid[CFG::SPAN_H][CFG::PW];
    int top_row;  // padded row index of the window's top row

    T at(int ky, int x0, int kx, int c) const {
        return rows[(top_row + ky * CFG::DH) % CFG::SPAN_H][x0 + kx * CFG::DW][c];
    }
    bool ok(int ky, int x0, int kx) const { return valid[(top_row + ky * CFG::DH) % CFG::SPAN_H][x0 + kx * CFG::DW]; }
};

template <class CFG, class WINDOW>
void walk_windows(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, line_buffer<CFG> &buf, WINDOW &window) {
    for (int py = 0; py < CFG::PH; ++py) {
        for (int px = 0; px < CFG::PW; ++px) {
            const bool inside = py >= CFG::PT && py < CFG::PT + CFG::H && px >= CFG::PL && px < CFG::PL + CFG::W;
            const int slot = py % CFG::SPAN_H;
            if (inside) {
                pixel<typename CFG::in_t, CFG::C> p = in.read();
                for (int c = 0; c < CFG::C; ++c) {
#pragma HLS UNROLL
                    buf.rows[slot][px][c] = p.v[c];
                }
            } else {
                for (int c = 0; c < CFG::C; ++c) {
#pragma HLS UNROLL
                    buf.rows[slot][px][c] = 0;
                }
            }
            buf.valid[slot][px] = inside;
            const int y0 = py - (CFG::SPAN_H - 1), x0 = px - (CFG::SPAN_W - 1);
            if (y0 >= 0 && x0 >= 0 && y0 % CFG::SH == 0 && x0 % CFG::SW == 0 && y0 / CFG::SH < CFG::OH &&
                x0 / CFG::SW < CFG::OW) {
                buf.top_row = y0;
                window.compute(buf, x0);
            }
        }
    }
}

// ---------------------------------------------------------------- the sparse engine

// A conv or dense layer runs on the RTL engine's weight ROM (rtl/sparse_conv_engine.sv, packed by
// fpgaflow.flow.weight_rom.pack_engine at the same P), word for word. The generated layer holds it as
// one constant array per field of the ROM word, indexed [word d][lane or slot]:
//
//   per-element mode (SLOTS = P):     w[d][l] weight code, idx[d][l] window address, seg[d][l]
//   pattern mode (SLOTS = P / K_NZ):  w[d][l] weight code; per kernel slot s (lanes s*K_NZ ..
//                                     s*K_NZ + K_NZ - 1): ic[d][s] input channel, pid[d][s] pattern
//                                     id, seg[d][s]; lane l's window address is
//                                     pattern[pid][l % K_NZ] + ic (the pattern table: kernel offsets)
//   ends[d]                           channels word d closes (at most K_FIN)
//
// The nonzero weights follow each other output channel after output channel, P to a word across
// channel boundaries. A lane's segment is the number of channel ends before it in its word: segment
// s < ends[d] is the s-th channel the word closes (segment 0 adds the sum carried from earlier words),
// segment ends[d] the channel that goes on. The k-th channel closed in a window is entry k of the
// channel table: output channel oc[k], bias[k] (at its F_acc), align[k] (the exact left shift to the
// layer's largest F_acc); an output channel no weight reaches keeps its constant code const[oc].
//
// Schedule (the one fpgaflow.flow.cycles.engine_frame_cycles models for the RTL): a window writer
// and the MAC loop form a DATAFLOW region joined by a stream of windows two deep (the RTL's two
// window banks), so the next window is written, WR_N elements a cycle (WORDS cycles), while the
// MAC loop reads the current one. A conv's writer is the line-buffer walk, one padded pixel a
// cycle, which waits while both banks are full; a dense layer's writes its input pixels as they
// come. The MAC loop reads one ROM word a cycle (II = 1, DEPTH cycles a window), the P lanes
// unrolled, one adder per segment and K_FIN requantizers (`finish`) closing channels.

// One window as the lanes read it: element j of beat t at t * BEAT_STRIDE + j (for a conv, one beat:
// the element (ky * KW + kx) * C_in + c); unused addresses hold 0.
template <class CFG>
struct window_bank {
    typename CFG::in_t v[CFG::WIN_N];
};

// The MAC loop's state within a window: the open channel's partial sum, the channels closed so far.
template <class CFG>
struct mac_state {
    typename CFG::acc_t open;
    int closed;
};

// A ROM word's lane products into its segments, closing up to K_FIN channels into `result`.
template <class CFG>
void close_segments(const typename CFG::acc_t prod[CFG::P], const typename CFG::seg_t lane_seg[CFG::P], int ends,
                    mac_state<CFG> &state, const typename CFG::oc_t oc[CFG::NZ_OC], const typename CFG::bias_t bias[CFG::NZ_OC],
                    const typename CFG::align_t align[CFG::NZ_OC], pixel<typename CFG::out_t, CFG::OC> &result) {
#pragma HLS INLINE
    typedef typename CFG::acc_t acc_t;
    acc_t part[CFG::K_FIN + 1];
#pragma HLS ARRAY_PARTITION variable = part complete
SEGMENT:
    for (int s = 0; s <= CFG::K_FIN; ++s) {
#pragma HLS UNROLL
        acc_t sum = 0;
        for (int l = 0; l < CFG::P; ++l) {
#pragma HLS UNROLL
            if (lane_seg[l] == s) sum += prod[l];
        }
        part[s] = sum;
    }
FINISH:
    for (int s = 0; s < CFG::K_FIN; ++s) {
#pragma HLS UNROLL
        if (s < ends) {
            const int k = state.closed + s;
            acc_t acc = s == 0 ? acc_t(state.open + part[0]) : part[s];
            acc = acc_t(acc + bias[k]) << align[k];  // exact: acc_t has SHIFT_SPREAD bits to spare
            result.v[oc[k]] = finish<CFG, CFG::ACC_W, CFG::ACC_F>(acc);
        }
    }
    state.open = ends == 0 ? acc_t(state.open + part[0]) : part[ends];
    state.closed += ends;
}

// The MAC loop: WINDOWS windows a frame, DEPTH ROM words each, P lanes a word. LANES decodes lane
// l of word d into its weight, window address and segment (the two index modes below).
template <class CFG, class LANES>
void mac_loop(hls::stream<window_bank<CFG> > &windows, hls::stream<pixel<typename CFG::out_t, CFG::OC> > &out,
              const LANES &lanes, const typename rom_storage<typename CFG::seg_t>::type ends[CFG::DEPTH],
              const typename CFG::oc_t oc[CFG::NZ_OC], const typename CFG::bias_t bias[CFG::NZ_OC],
              const typename CFG::align_t align[CFG::NZ_OC], const typename CFG::out_t consts[CFG::OC]) {
#pragma HLS INLINE
WINDOW:
    for (int n = 0; n < CFG::WINDOWS; ++n) {
        const window_bank<CFG> win = windows.read();
#pragma HLS ARRAY_PARTITION variable = win.v complete
        pixel<typename CFG::out_t, CFG::OC> result;
#pragma HLS ARRAY_PARTITION variable = result.v complete
        for (int c = 0; c < CFG::OC; ++c) result.v[c] = consts[c];
        mac_state<CFG> state = {0, 0};
    ROM:
        for (int d = 0; d < CFG::DEPTH; ++d) {
#pragma HLS PIPELINE II = 1
            typename CFG::acc_t prod[CFG::P];
            typename CFG::seg_t lane_seg[CFG::P];
        LANE:
            for (int l = 0; l < CFG::P; ++l) {
#pragma HLS UNROLL
                typename CFG::w_t weight;
                int address;
                lanes.decode(d, l, weight, address, lane_seg[l]);
                prod[l] = weight * win.v[address];
            }
            close_segments<CFG>(prod, lane_seg, typename CFG::seg_t(ends[d]), state, oc, bias, align, result);
        }
        out.write(result);
    }
}

// Per-element mode: every lane has its own window address and segment.
template <class CFG>
struct element_lanes {
    const typename rom_storage<typename CFG::w_t>::type (&w)[CFG::DEPTH][CFG::P];
    const typename rom_storage<typename CFG::idx_t>::type (&idx)[CFG::DEPTH][CFG::P];
    const typename rom_storage<typename CFG::seg_t>::type (&seg)[CFG::DEPTH][CFG::P];

    void decode(int d, int l, typename CFG::w_t &weight, int &address, typename CFG::seg_t &segment) const {
#pragma HLS INLINE
        weight = typename CFG::w_t(w[d][l]);
        address = typename CFG::idx_t(idx[d][l]);
        segment = typename CFG::seg_t(seg[d][l]);
    }
};

// Pattern mode: K_NZ lanes share a kernel slot's input channel, pattern id and segment; the
// pattern table gives each lane's window offset.
template <class CFG>
struct pattern_lanes {
    const typename rom_storage<typename CFG::w_t>::type (&w)[CFG::DEPTH][CFG::P];
    const typename rom_storage<typename CFG::ic_t>::type (&ic)[CFG::DEPTH][CFG::SLOTS];
    const typename rom_storage<typename CFG::pid_t>::type (&pid)[CFG::DEPTH][CFG::SLOTS];
    const typename rom_storage<typename CFG::seg_t>::type (&seg)[CFG::DEPTH][CFG::SLOTS];
    const typename CFG::idx_t (&pattern)[CFG::NP][CFG::K_NZ];

    void decode(int d, int l, typename CFG::w_t &weight, int &address, typename CFG::seg_t &segment) const {
#pragma HLS INLINE
        const int s = l / CFG::K_NZ;
        weight = typename CFG::w_t(w[d][l]);
        address = pattern[typename CFG::pid_t(pid[d][s])][l % CFG::K_NZ] + typename CFG::ic_t(ic[d][s]);
        segment = typename CFG::seg_t(seg[d][s]);
    }
};

// The layer functions' MAC loop in either index mode (the ROM arrays by reference, so the lane
// decoders see them as the arrays they are).
template <class CFG>
void mac_windows(hls::stream<window_bank<CFG> > &windows, hls::stream<pixel<typename CFG::out_t, CFG::OC> > &out,
                 const typename rom_storage<typename CFG::w_t>::type (&w)[CFG::DEPTH][CFG::P],
                 const typename rom_storage<typename CFG::idx_t>::type (&idx)[CFG::DEPTH][CFG::P],
                 const typename rom_storage<typename CFG::seg_t>::type (&seg)[CFG::DEPTH][CFG::P],
                 const typename rom_storage<typename CFG::seg_t>::type ends[CFG::DEPTH],
                 const typename CFG::oc_t oc[CFG::NZ_OC], const typename CFG::bias_t bias[CFG::NZ_OC],
                 const typename CFG::align_t align[CFG::NZ_OC], const typename CFG::out_t consts[CFG::OC]) {
    const element_lanes<CFG> lanes = {w, idx, seg};
    mac_loop<CFG>(windows, out, lanes, ends, oc, bias, align, consts);
}

template <class CFG>
void mac_windows(hls::stream<window_bank<CFG> > &windows, hls::stream<pixel<typename CFG::out_t, CFG::OC> > &out,
                 const typename rom_storage<typename CFG::w_t>::type (&w)[CFG::DEPTH][CFG::P],
                 const typename rom_storage<typename CFG::ic_t>::type (&ic)[CFG::DEPTH][CFG::SLOTS],
                 const typename rom_storage<typename CFG::pid_t>::type (&pid)[CFG::DEPTH][CFG::SLOTS],
                 const typename rom_storage<typename CFG::seg_t>::type (&seg)[CFG::DEPTH][CFG::SLOTS],
                 const typename rom_storage<typename CFG::seg_t>::type ends[CFG::DEPTH],
                 const typename CFG::idx_t (&pattern)[CFG::NP][CFG::K_NZ],
                 const typename CFG::oc_t oc[CFG::NZ_OC], const typename CFG::bias_t bias[CFG::NZ_OC],
                 const typename CFG::align_t align[CFG::NZ_OC], const typename CFG::out_t consts[CFG::OC]) {
    const pattern_lanes<CFG> lanes = {w, ic, pid, seg, pattern};
    mac_loop<CFG>(windows, out, lanes, ends, oc, bias, align, consts);
}

// A conv's window writer: the line-buffer walk hands every window to the MAC loop, WR_N elements a cycle.
template <class CFG>
struct window_writer {
    hls::stream<window_bank<CFG> > *windows;

    void compute(const line_buffer<CFG> &buf, int x0) {
        window_bank<CFG> bank;
    WRITE:
        for (int e = 0; e < CFG::WIN_N; ++e) {
#pragma HLS PIPELINE II = 1
#pragma HLS UNROLL factor = CFG::WR_N
            bank.v[e] = e < CFG::BEAT_N ? buf.at(e / (CFG::KW * CFG::C), x0, (e / CFG::C) % CFG::KW, e % CFG::C)
                                        : typename CFG::in_t(0);
        }
        windows->write(bank);
    }
};

template <class CFG>
void conv_windows(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<window_bank<CFG> > &windows) {
    static line_buffer<CFG> buf;
    window_writer<CFG> writer = {&windows};
    walk_windows<CFG>(in, buf, writer);
}

// A dense layer's window writer: its input map pixel by pixel (or its vector as one pixel), element c
// of pixel p at p * BEAT_STRIDE + c, the RTL's window address (the ROM's addresses map ONNX's C-major
// flatten onto it), WR_N elements a cycle.
template <class CFG>
void dense_windows(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<window_bank<CFG> > &windows) {
    window_bank<CFG> bank;
    for (int e = 0; e < CFG::WIN_N; ++e) bank.v[e] = 0;
    for (int p = 0; p < CFG::PIXELS; ++p) {
        const pixel<typename CFG::in_t, CFG::C> px = in.read();
    WRITE:
        for (int c = 0; c < CFG::C; ++c) {
#pragma HLS PIPELINE II = 1
#pragma HLS UNROLL factor = CFG::WR_N
            bank.v[p * CFG::BEAT_STRIDE + c] = px.v[c];
        }
    }
    windows.write(bank);
}

// ---------------------------------------------------------------- per-pixel layers

// ScaleShift: acc = x * scale + shift per channel; channel c is aligned to the layer's largest
// F_acc by an exact left shift align[c] and all channels requantize from that one F (the RTL's
// alignment; shift_round(v << a, s + a) = shift_round(v, s)).
template <class CFG>
void scale_shift(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::out_t, CFG::C> > &out,
                 const typename CFG::w_t *scale, const typename CFG::acc_t *shift, const ap_uint<8> *align) {
#pragma HLS INLINE
    for (int p = 0; p < CFG::PIXELS; ++p) {
#pragma HLS PIPELINE II = CFG::C
        pixel<typename CFG::in_t, CFG::C> x = in.read();
        pixel<typename CFG::out_t, CFG::C> y;
        for (int c = 0; c < CFG::C; ++c) {
            typename CFG::acc_t acc = x.v[c] * scale[c] + shift[c];
            acc <<= align[c];  // exact: acc_t has room for the alignment
            y.v[c] = finish<CFG, CFG::ACC_W, CFG::ACC_F>(acc);
        }
        out.write(y);
    }
}

// A stand-alone activation: ReLU and ReLU6 clamp codes (the output keeps the input's F);
// LeakyRelu requantizes the input code at its own F with the slope.
template <class CFG>
void activation(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::out_t, CFG::C> > &out) {
#pragma HLS INLINE
    for (int p = 0; p < CFG::PIXELS; ++p) {
#pragma HLS PIPELINE II = 1
        pixel<typename CFG::in_t, CFG::C> x = in.read();
        pixel<typename CFG::out_t, CFG::C> y;
        for (int c = 0; c < CFG::C; ++c) {
            if (CFG::ACT == ACT_LEAKY) {
                y.v[c] = finish<CFG, CFG::IN_W + 1, CFG::IN_F>(ap_int<CFG::IN_W + 1>(x.v[c]));
            } else {
                typename CFG::in_t v = x.v[c];
                if (v < 0) v = 0;
                if (CFG::ACT == ACT_RELU6 && v > CFG::RELU6_MAX) v = CFG::RELU6_MAX;
                y.v[c] = v;
            }
        }
        out.write(y);
    }
}

// Output channel k is input channel order[k]: codes move, never change.
template <class CFG>
void channel_permute(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::in_t, CFG::C> > &out,
                     const ap_uint<16> *order) {
#pragma HLS INLINE
    for (int p = 0; p < CFG::PIXELS; ++p) {
#pragma HLS PIPELINE II = 1
        pixel<typename CFG::in_t, CFG::C> x = in.read(), y;
        for (int c = 0; c < CFG::C; ++c) y.v[c] = x.v[order[c]];
        out.write(y);
    }
}

// ---------------------------------------------------------------- pools

template <class CFG>
struct max_window {
    hls::stream<pixel<typename CFG::in_t, CFG::C> > *out;
    void compute(const line_buffer<CFG> &buf, int x0) {
        pixel<typename CFG::in_t, CFG::C> y;
        for (int c = 0; c < CFG::C; ++c) {
            bool any = false;
            typename CFG::in_t best = 0;
            for (int ky = 0; ky < CFG::KH; ++ky)
                for (int kx = 0; kx < CFG::KW; ++kx)
                    if (buf.ok(ky, x0, kx) && (!any || buf.at(ky, x0, kx, c) > best)) {
                        best = buf.at(ky, x0, kx, c);
                        any = true;
                    }
            y.v[c] = best;
        }
        out->write(y);
    }
};

template <class CFG>
void max_pool(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::in_t, CFG::C> > &out) {
#pragma HLS INLINE
    static line_buffer<CFG> buf;
    max_window<CFG> window = {&out};
    walk_windows<CFG>(in, buf, window);
}

// The mean of a window sum: requantize from F_in + log2(count) when the count is a power of two,
// else multiply by the reciprocal code (RECIP_CODE, F_recip) first (docs/fixed-point.md).
template <class CFG>
typename CFG::out_t average(const typename CFG::acc_t &sum) {
#pragma HLS INLINE
    if (CFG::RECIP_CODE == 0) return finish<CFG, CFG::ACC_W, CFG::ACC_F>(sum);
    ap_int<CFG::ACC_W + 17> scaled = sum * ap_uint<16>(CFG::RECIP_CODE);
    return finish<CFG, CFG::ACC_W + 17, CFG::ACC_F>(scaled);
}

template <class CFG>
struct avg_window {
    hls::stream<pixel<typename CFG::out_t, CFG::C> > *out;
    void compute(const line_buffer<CFG> &buf, int x0) {
        pixel<typename CFG::out_t, CFG::C> y;
        for (int c = 0; c < CFG::C; ++c) {
            typename CFG::acc_t sum = 0;
            for (int ky = 0; ky < CFG::KH; ++ky)
                for (int kx = 0; kx < CFG::KW; ++kx) sum += buf.at(ky, x0, kx, c);
            y.v[c] = average<CFG>(sum);
        }
        out->write(y);
    }
};

template <class CFG>
void avg_pool(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::out_t, CFG::C> > &out) {
#pragma HLS INLINE
    static line_buffer<CFG> buf;
    avg_window<CFG> window = {&out};
    walk_windows<CFG>(in, buf, window);
}

template <class CFG>
void global_avg_pool(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::out_t, CFG::C> > &out) {
#pragma HLS INLINE
    typename CFG::acc_t sums[CFG::C];
    for (int c = 0; c < CFG::C; ++c) sums[c] = 0;
    for (int p = 0; p < CFG::PIXELS; ++p) {
#pragma HLS PIPELINE II = 1
        pixel<typename CFG::in_t, CFG::C> x = in.read();
        for (int c = 0; c < CFG::C; ++c) sums[c] += x.v[c];
    }
    pixel<typename CFG::out_t, CFG::C> y;
    for (int c = 0; c < CFG::C; ++c) y.v[c] = average<CFG>(sums[c]);
    out.write(y);
}

// ---------------------------------------------------------------- moving pixels

// Zero padding (a Pad no pass could fold): the padded map in raster order.
template <class CFG>
void pad_map(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::in_t, CFG::C> > &out) {
#pragma HLS INLINE
    for (int y = 0; y < CFG::PH; ++y)
        for (int x = 0; x < CFG::PW; ++x) {
#pragma HLS PIPELINE II = 1
            pixel<typename CFG::in_t, CFG::C> p;
            if (y >= CFG::PT && y < CFG::PT + CFG::H && x >= CFG::PL && x < CFG::PL + CFG::W) {
                p = in.read();
            } else {
                for (int c = 0; c < CFG::C; ++c) p.v[c] = 0;
            }
            out.write(p);
        }
}

// Nearest upsampling by (SH, SW): a one-row buffer, each row emitted SH times, each pixel SW times.
template <class CFG>
void upsample(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::in_t, CFG::C> > &out) {
#pragma HLS INLINE
    pixel<typename CFG::in_t, CFG::C> row[CFG::W];
    for (int y = 0; y < CFG::H; ++y) {
        for (int x = 0; x < CFG::W; ++x) row[x] = in.read();
        for (int r = 0; r < CFG::SH; ++r)
            for (int x = 0; x < CFG::W; ++x)
                for (int s = 0; s < CFG::SW; ++s) {
#pragma HLS PIPELINE II = 1
                    out.write(row[x]);
                }
    }
}

// Depth-to-space after a ConvTranspose's 1x1 conv: input channel (i * BW + j) * OC + o of pixel
// (y, x) is output channel o of pixel (BH * y + i, BW * x + j); a one-row buffer.
template <class CFG>
void depth_to_space(hls::stream<pixel<typename CFG::in_t, CFG::BH * CFG::BW * CFG::OC> > &in,
                    hls::stream<pixel<typename CFG::in_t, CFG::OC> > &out) {
#pragma HLS INLINE
    pixel<typename CFG::in_t, CFG::BH * CFG::BW * CFG::OC> row[CFG::W];
    for (int y = 0; y < CFG::H; ++y) {
        for (int x = 0; x < CFG::W; ++x) row[x] = in.read();
        for (int i = 0; i < CFG::BH; ++i)
            for (int x = 0; x < CFG::W; ++x)
                for (int j = 0; j < CFG::BW; ++j) {
#pragma HLS PIPELINE II = 1
                    pixel<typename CFG::in_t, CFG::OC> p;
                    for (int o = 0; o < CFG::OC; ++o) p.v[o] = row[x].v[(i * CFG::BW + j) * CFG::OC + o];
                    out.write(p);
                }
    }
}

// Flatten feeding anything but a dense layer (or the output): the map as one C-major vector pixel.
template <class CFG>
void flatten(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::in_t, CFG::C * CFG::PIXELS> > &out) {
#pragma HLS INLINE
    pixel<typename CFG::in_t, CFG::C * CFG::PIXELS> v;
    for (int p = 0; p < CFG::PIXELS; ++p) {
        pixel<typename CFG::in_t, CFG::C> x = in.read();
        for (int c = 0; c < CFG::C; ++c) v.v[c * CFG::PIXELS + p] = x.v[c];
    }
    out.write(v);
}

}  // namespace fpgaflow

#endif
