// requantize: one value to an output code by the numeric contract (docs/fixed-point.md).
//
// Parameters
//   IN_W        bits of the signed input value (callers zero-extend unsigned codes by one bit)
//   SCALE_W     0: no multiply; > 0: the value is first multiplied by SCALE_CODE, an unsigned
//               SCALE_W-bit code (an average pool's reciprocal of its count)
//   SCALE_CODE  the multiplier code (unused when SCALE_W is 0)
//   SHIFT       fractional bits to drop: > 0 adds 2^(SHIFT-1) and shifts right arithmetically
//               (round half up), <= 0 shifts left by -SHIFT (exact)
//   OUT_W, OUT_SIGNED  the output code's width and signedness; the result saturates to it
//   ACT         0 none, 1 ReLU (clamp at 0), 2 ReLU6 (also clamp at RELU6_MAX, the code of 6.0),
//               3 LeakyRelu: a negative value is multiplied by SLOPE_CODE, any other shifted
//               left by SLOPE_FRAC, and both drop SHIFT + SLOPE_FRAC bits (one rounding)
//   RELU6_MAX   the ReLU6 ceiling code (already saturated to the output type)
//   SLOPE_CODE, SLOPE_FRAC  LeakyRelu's slope alpha = SLOPE_CODE * 2^-SLOPE_FRAC, an unsigned
//               code and its fractional bits >= 0 (fpgaflow.fixed.leaky_slope); unused unless ACT is 3
// Ports: value in, code out (OUT_W bits, two's complement when signed). Purely
// combinational: no clock, no latency; the stream modules instantiate it once per channel
// so the rounding, saturation and activation are written down once.
module requantize #(
    parameter int IN_W = 16,
    parameter int SCALE_W = 0,
    parameter int SCALE_CODE = 0,
    parameter int SHIFT = 0,
    parameter int OUT_W = 8,
    parameter bit OUT_SIGNED = 1'b1,
    parameter int ACT = 0,
    parameter int RELU6_MAX = 0,
    parameter int SLOPE_CODE = 0,
    parameter int SLOPE_FRAC = 0
) (
    input  logic signed [IN_W-1:0] value,
    output logic [OUT_W-1:0]       code
);
    localparam bit LEAKY = (ACT == 3);
    localparam int PF = LEAKY ? SLOPE_FRAC : 0;  // fractional bits the LeakyRelu slope adds
    localparam int SLW = LEAKY ? $clog2(SLOPE_CODE + 1) + 1 : 1;  // the slope as a signed code
    localparam int TSHIFT = SHIFT + PF;
    localparam int SL = (TSHIFT < 0) ? -TSHIFT : 0;
    localparam int SR = (TSHIFT > 0) ? TSHIFT : 0;
    localparam int MW = (SCALE_W > 0) ? IN_W + SCALE_W + 1 : IN_W;  // after the multiply
    localparam int LW = LEAKY ? MW + ((PF > SLW) ? PF : SLW) : MW;  // after the slope
    localparam int XW0 = LW + 1 + SL;
    localparam int XW1 = (XW0 > OUT_W + 2) ? XW0 : OUT_W + 2;
    localparam int XW = (XW1 > SR + 2) ? XW1 : SR + 2;
    localparam logic signed [XW-1:0] RND = (SR > 0) ? (XW'(1) <<< (SR > 0 ? SR - 1 : 0)) : '0;
    localparam logic signed [XW-1:0] OMAX = OUT_SIGNED ? (XW'(1) <<< (OUT_W - 1)) - 1 : (XW'(1) <<< OUT_W) - 1;
    localparam logic signed [XW-1:0] OMIN = OUT_SIGNED ? -(XW'(1) <<< (OUT_W - 1)) : '0;
    localparam logic signed [XW-1:0] LO = (ACT == 1 || ACT == 2) ? '0 : OMIN;
    localparam logic signed [XW-1:0] HI = (ACT == 2) ? XW'(RELU6_MAX) : OMAX;
    localparam logic signed [SCALE_W:0] SCALE = (SCALE_W + 1)'(SCALE_CODE);
    localparam logic signed [SLW-1:0] SLOPE = SLW'(SLOPE_CODE);

    logic signed [MW-1:0] scaled;
    logic signed [LW-1:0] leaked;
    logic signed [XW-1:0] wide, shifted;

    always_comb begin
        if (SCALE_W > 0) scaled = MW'(value) * MW'(SCALE);
        else scaled = MW'(value);
        if (LEAKY && scaled < 0) leaked = LW'(scaled) * LW'(SLOPE);
        else leaked = LW'(scaled) <<< PF;
        wide = XW'(leaked);
        if (SR > 0) shifted = (wide + RND) >>> SR;
        else shifted = wide <<< SL;
        if (shifted > HI) code = OUT_W'(HI);
        else if (shifted < LO) code = OUT_W'(LO);
        else code = OUT_W'(shifted);
    end
endmodule
