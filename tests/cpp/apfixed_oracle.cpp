// The independent oracle for fpgaflow's numeric contract: the ap_fixed types of the HLS
// tools (the ap_types headers shipped in hls4ml), driven by tests/test_apfixed_oracle.py.
//
// Reads commands on stdin, answers one line each on stdout; every number it prints is an
// exact integer code (value * 2^F; to_double is exact for widths up to 53 bits):
//   quantize N v1..vN        -> one line per format: "quantize signed W F code..."
//   requantize N a1..aN      -> one line per (acc, out) pair: "requantize sA WA FA sO WO FO code..."
//                               (a_i are accumulator codes of ACC below)
//   conv CIN H W COUT w.. b.. x..  -> "conv y..." one 3x3, padding 1, stride 1 layer with ReLU
// Values are C hex floats ("%a"), so the test passes doubles exactly.
#include <ap_fixed.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

double read_double() {
    std::string token;
    std::cin >> token;
    return std::strtod(token.c_str(), nullptr);
}

long long read_int() {
    long long value;
    std::cin >> value;
    return value;
}

std::vector<double> read_doubles(std::size_t count) {
    std::vector<double> values(count);
    for (auto& v : values) v = read_double();
    return values;
}

template <int W, int I, bool S>
struct Format {
    using fixed = ap_fixed<W, I, AP_RND, AP_SAT>;
    using ufixed = ap_ufixed<W, I, AP_RND, AP_SAT>;
    using type = typename std::conditional<S, fixed, ufixed>::type;
    static constexpr int frac = W - I;
    static void describe() { std::printf(" %d %d %d", S ? 1 : 0, W, frac); }
    static long long code(const type& v) { return std::llround(std::ldexp(v.to_double(), frac)); }
};

template <class F>
void quantize_line(const std::vector<double>& values) {
    std::printf("quantize");
    F::describe();
    for (double v : values) {
        typename F::type q = v;
        std::printf(" %lld", F::code(q));
    }
    std::printf("\n");
}

// The accumulator every requantize case starts from: signed 24 bits, 12 fractional.
using ACC = Format<24, 12, true>;

template <class Out>
void requantize_line(const std::vector<long long>& acc_codes) {
    std::printf("requantize");
    ACC::describe();
    Out::describe();
    for (long long a : acc_codes) {
        ap_fixed<24, 12> acc = std::ldexp(static_cast<double>(a), -ACC::frac);
        typename Out::type out = acc;
        std::printf(" %lld", Out::code(out));
    }
    std::printf("\n");
}

void quantize_all() {
    const auto values = read_doubles(static_cast<std::size_t>(read_int()));
    quantize_line<Format<8, 3, true>>(values);
    quantize_line<Format<8, 8, true>>(values);
    quantize_line<Format<6, -2, true>>(values);   // F = 8 > W
    quantize_line<Format<8, 10, true>>(values);   // F = -2: steps of 4
    quantize_line<Format<8, 4, false>>(values);
    quantize_line<Format<5, 5, false>>(values);
    quantize_line<Format<16, 1, true>>(values);
}

void requantize_all() {
    std::vector<long long> codes(static_cast<std::size_t>(read_int()));
    for (auto& c : codes) c = read_int();
    requantize_line<Format<8, 4, true>>(codes);    // s = 8
    requantize_line<Format<8, 4, false>>(codes);   // s = 8, unsigned: negatives saturate to 0
    requantize_line<Format<8, -2, true>>(codes);   // s = 2
    requantize_line<Format<10, 14, true>>(codes);  // s = 16
    requantize_line<Format<12, 12, false>>(codes); // s = 12
    requantize_line<Format<16, 0, true>>(codes);   // s = -4: exact left shift, then saturation
}

// One conv layer in the HLS style: accumulate products in the accumulator type, add the
// bias, convert to the output type (AP_RND, AP_SAT), then ReLU.
using in_t = ap_fixed<8, 3>;            // F = 5
using w_t = ap_fixed<8, 2>;             // F = 6
using acc_t = ap_fixed<24, 13>;         // F = 11 = 5 + 6
using out_t = ap_fixed<8, 4, AP_RND, AP_SAT>;  // F = 4

void conv() {
    const int cin = static_cast<int>(read_int()), h = static_cast<int>(read_int());
    const int w = static_cast<int>(read_int()), cout = static_cast<int>(read_int());
    std::vector<w_t> weights(static_cast<std::size_t>(cout * cin * 9));
    for (auto& v : weights) v = std::ldexp(static_cast<double>(read_int()), -6);
    std::vector<acc_t> bias(static_cast<std::size_t>(cout));
    for (auto& v : bias) v = std::ldexp(static_cast<double>(read_int()), -11);
    std::vector<in_t> x(static_cast<std::size_t>(cin * h * w));
    for (auto& v : x) v = std::ldexp(static_cast<double>(read_int()), -5);
    std::printf("conv");
    for (int o = 0; o < cout; ++o) {
        for (int r = 0; r < h; ++r) {
            for (int c = 0; c < w; ++c) {
                acc_t acc = bias[o];
                for (int i = 0; i < cin; ++i) {
                    for (int kr = 0; kr < 3; ++kr) {
                        for (int kc = 0; kc < 3; ++kc) {
                            const int y = r + kr - 1, z = c + kc - 1;
                            if (y < 0 || y >= h || z < 0 || z >= w) continue;
                            acc += x[(i * h + y) * w + z] * weights[((o * cin + i) * 3 + kr) * 3 + kc];
                        }
                    }
                }
                out_t out = acc;
                if (out < 0) out = 0;
                std::printf(" %lld", std::llround(std::ldexp(out.to_double(), 4)));
            }
        }
    }
    std::printf("\n");
}

}  // namespace

int main() {
    std::string command;
    while (std::cin >> command) {
        if (command == "quantize") quantize_all();
        else if (command == "requantize") requantize_all();
        else if (command == "conv") conv();
        else { std::fprintf(stderr, "unknown command %s\n", command.c_str()); return 1; }
    }
    return 0;
}
