/// The integer parameters of an int8 op, stored in the op's int32 parameter tensor.
///
/// Activations are integer codes (0...255, or 0...65535 for 16-bit activations in mixed
/// programs) with a per-tensor zero point z and scale s (real = s * (q - z)); weights
/// are int8, symmetric, one scale per output channel. Layouts (word: meaning):
///
/// Convolution (conv2d, convTranspose2d):
///   0 zIn          zero point of the input (zero padding pads with it: real 0)
///   1 zOut         zero point of the output (or the LUT's centre index)
///   2 low, 3 high  clamp of the output before the LUT (low = zOut after ReLU)
///   4 mode         0: per-channel requantization; 1: InstanceNorm in the integer domain
///   mode 0:  5 table length L (0: no table)
///            6 ..< 6+C     multiplier M_c (Q31-style, in [2^29, 2^31))
///            6+C ..< 6+2C  shift sh_c
///            6+2C ..< 6+2C+L   table: output byte for each clamped index
///            q = clamp(zOut + round((acc_c + bias_c) * M_c / 2^sh_c), low, high); out = table[q]
///   mode 1:  5 P, 6 pk     1/s_out ~ P / 2^pk
///            7 zRes, 8 Mres, 9 shRes   residual input: + round((q_r - zRes) * Mres / 2^shRes)
///                                       (Mres = 0: no residual)
///            10 ..< 10+2C  per channel epsilon / (s_in * s_w_c)^2 * 2^16 as Int64 (high, low words)
///            out = clamp(zOut + round((acc - mean) / (s_out * sqrt(var + eps))) + residual, low, high)
///            with mean and var from integer sums (see `Int8ReferenceExecutor.instanceNorm`).
///   mode 2 (mixed programs only): the layer runs in float. Weights and bias are float32 tensors.
///            5 s_in, 6 s_out (float32 bit patterns), 7 zRes, 8 s_res (float bits)
///            x = s_in * (q - zIn); y = epilogue(conv(x)) in float (residual dequantized with
///            s_res, zRes); out = clamp(round(y / s_out) + zOut, low, high), or, after
///            to_pixels, clamp(round(y), 0, 255).
/// Depthwise blur (depthwiseConv2d, depthwiseConvTranspose2d): taps are the int8 weight tensor,
///   summing to 2^shift per output: 0 shift. out = (sum taps * q + 2^(shift-1)) >> shift, so the
///   zero point and scale are unchanged (a weighted mean).
/// Pad in zero mode: 0 zero point to pad with. Reflect/replicate pads and crops copy bytes.
public enum Int8OpParameters {
    public static let zIn = 0, zOut = 1, low = 2, high = 3, mode = 4
    public static let tableLength = 5, requantizationStart = 6
    public static let normP = 5, normPk = 6, residualZero = 7, residualMultiplier = 8, residualShift = 9, epsilonStart = 10

    public static func requantizationCount(channels c: Int, table: Int) -> Int { 6 + 2 * c + table }
    public static func instanceNormCount(channels c: Int) -> Int { 10 + 2 * c }
    /// Mode 1: channel c's epsilon term (two words, high first).
    public static func epsilon(_ p: [Int32], channel c: Int) -> Int64 {
        Int64(p[epsilonStart + 2 * c]) << 32 | Int64(UInt32(bitPattern: p[epsilonStart + 2 * c + 1]))
    }
    public static let floatInputScale = 5, floatOutputScale = 6, floatResidualZero = 7, floatResidualScale = 8
    public static let floatCount = 9
}
