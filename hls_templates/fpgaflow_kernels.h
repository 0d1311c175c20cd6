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

// ---------------------------------------------------------------- sparse convolution and dense

// The sparse engine: only nonzero weights, output channel after output channel; weight e
// multiplies window element idx[e] ((ky * KW + kx) * C_in + input channel, the RTL's window
// index); end[oc] closes channel oc's run. The MAC loop is pipelined at II = 1 over groups of P
// nonzero weights, P lanes unrolled (the generated layer function partitions the arrays cyclic P).
template <class CFG>
typename CFG::acc_t sparse_dot(const typename CFG::in_t win[CFG::WIN_N], const typename CFG::w_t *w,
                                const typename CFG::idx_t *idx, int start, int end, typename CFG::acc_t acc) {
#pragma HLS INLINE
NZ:
    for (int e = start; e < end; e += CFG::P) {
#pragma HLS PIPELINE II = 1
#pragma HLS LOOP_TRIPCOUNT min = 1 max = CFG::MAX_STEPS
    LANE:
        for (int l = 0; l < CFG::P; ++l) {
#pragma HLS UNROLL
            if (e + l < end) acc += w[e + l] * win[idx[e + l]];
        }
    }
    return acc;
}

template <class CFG>
struct conv_window {
    const typename CFG::w_t *w;
    const typename CFG::idx_t *idx;
    const typename CFG::end_t *end;
    const typename CFG::acc_t *bias;
    hls::stream<pixel<typename CFG::out_t, CFG::OC> > *out;

    void compute(const line_buffer<CFG> &buf, int x0) {
        typename CFG::in_t win[CFG::WIN_N];
#pragma HLS ARRAY_PARTITION variable = win cyclic factor = CFG::P
    WINDOW:  // the window into the lanes' copy, P elements a cycle
        for (int e = 0; e < CFG::WIN_N; ++e) {
#pragma HLS PIPELINE II = 1
#pragma HLS UNROLL factor = CFG::P
            win[e] = buf.at(e / (CFG::KW * CFG::C), x0, (e / CFG::C) % CFG::KW, e % CFG::C);
        }
        pixel<typename CFG::out_t, CFG::OC> result;
        int start = 0;
    OC:
        for (int oc = 0; oc < CFG::OC; ++oc) {
            typename CFG::acc_t acc = sparse_dot<CFG>(win, w, idx, start, end[oc], bias[oc]);
            result.v[oc] = finish<CFG, CFG::ACC_W, CFG::ACC_F>(acc);
            start = end[oc];
        }
        out->write(result);
    }
};

template <class CFG>
void conv_sparse(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::out_t, CFG::OC> > &out,
                 const typename CFG::w_t *w, const typename CFG::idx_t *idx, const typename CFG::end_t *end,
                 const typename CFG::acc_t *bias) {
#pragma HLS INLINE
    static line_buffer<CFG> buf;
    conv_window<CFG> window = {w, idx, end, bias, &out};
    walk_windows<CFG>(in, buf, window);
}

// A dense layer reads its whole input (PIXELS pixels of C channels: the map before a Flatten,
// which moves no data, or one vector pixel) into a vector in stream order (element c of pixel p
// at p * C + c, the RTL's window address; the weights' indices map ONNX's C-major flatten onto
// it), then runs the same sparse dot product per output.
template <class CFG>
void dense_sparse(hls::stream<pixel<typename CFG::in_t, CFG::C> > &in, hls::stream<pixel<typename CFG::out_t, CFG::OC> > &out,
                  const typename CFG::w_t *w, const typename CFG::idx_t *idx, const typename CFG::end_t *end,
                  const typename CFG::acc_t *bias) {
#pragma HLS INLINE
    typename CFG::in_t x[CFG::WIN_N];
#pragma HLS ARRAY_PARTITION variable = x cyclic factor = CFG::P
    for (int p = 0; p < CFG::PIXELS; ++p) {
        pixel<typename CFG::in_t, CFG::C> px = in.read();
        for (int c = 0; c < CFG::C; ++c) {
#pragma HLS PIPELINE II = 1
            x[p * CFG::C + c] = px.v[c];
        }
    }
    pixel<typename CFG::out_t, CFG::OC> result;
    int start = 0;
    for (int oc = 0; oc < CFG::OC; ++oc) {
        typename CFG::acc_t acc = sparse_dot<CFG>(x, w, idx, start, end[oc], bias[oc]);
        result.v[oc] = finish<CFG, CFG::ACC_W, CFG::ACC_F>(acc);
        start = end[oc];
    }
    out.write(result);
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
