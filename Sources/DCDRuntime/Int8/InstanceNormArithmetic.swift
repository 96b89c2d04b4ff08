/// The integer InstanceNorm of one output channel, shared by the reference and the optimized
/// int8 executors so that both compute the same bits by construction.
///
/// Per channel, N = H * W accumulators a_i:
///   mean = round(sum a_i / N);  d_i = a_i - mean  (|d_i| < 2^28 for 8-bit inputs)
///   r chosen so sum (round(d_i / 2^r))^2 < 2^46 (each term < 2^(2(b - r)), N < 2^nb)
///   V = sum(...)^2 * 2^16 / N + eps_c * 2^16 / 2^2r   (variance / 2^2r, 16 fraction bits)
///   sigma = isqrt(V * 2^2t) with t making V * 2^2t < 2^62: sigma ~ std * 2^(8 + t - r)
///   M = P * 2^31 / sigma; out = zOut + round(d_i * M / 2^(31 + pk + r - 8 - t))
///     = zOut + round(d_i / (s_out * std)), since P / 2^pk = 1 / s_out.
/// Deviations wider than 28 bits (16-bit inputs) are first rounded to 28 bits (`pre`), so that
/// d * M stays below 2^60. Every intermediate fits in Int64.
///
/// Use: `init` from the plane's sum, minimum and maximum; accumulate `squaredDeviation` over the
/// plane; `setGain`; then `normalized` per element. Sums are integers: the order they are formed
/// in (threads, tiles) does not change them.
public struct InstanceNormChannel: Sendable {
    public private(set) var mean: Int64
    public private(set) var r: Int
    public private(set) var pre: Int
    public private(set) var multiplier: Int64 = 0
    public private(set) var shift: Int = 0

    public init(count n: Int, sum: Int64, minimum: Int64, maximum: Int64) {
        let half = Int64(n / 2)
        mean = sum >= 0 ? (sum + half) / Int64(n) : -((-sum + half) / Int64(n))
        let maxDeviation = max(maximum - mean, mean - minimum, 0)
        let nbits = FixedPoint.bitWidth(UInt64(n))
        r = max(0, FixedPoint.bitWidth(UInt64(maxDeviation)) - (46 - nbits) / 2)
        pre = max(0, FixedPoint.bitWidth(UInt64(maxDeviation)) - 28)
    }

    /// round((a - mean) / 2^r)^2: the terms of the variance sum.
    @inline(__always)
    public func squaredDeviation(_ a: Int64) -> Int64 {
        let d = a - mean
        let q = r == 0 ? d : (d + (Int64(1) << (r - 1))) >> r
        return q * q
    }

    /// From the sum of `squaredDeviation` over the plane, epsilon (per channel, in accumulator
    /// units squared times 2^16) and 1/s_out ~ p / 2^pk.
    public mutating func setGain(sumOfSquares s2: Int64, count n: Int, epsilon: Int64, p: Int64, pk: Int) {
        var v = (s2 << 16) / Int64(n) + (2 * r < 63 ? epsilon >> (2 * r) : 0)
        if v <= 0 { v = 1 }
        let t = (62 - FixedPoint.bitWidth(UInt64(v))) / 2
        let sigma = Int64(FixedPoint.squareRoot(UInt64(v) << (2 * t)))
        multiplier = (p << 31) / sigma
        shift = 31 + pk + r - 8 - t - pre
    }

    /// round((a - mean) / (s_out * std)); saturates to +-high when the gain exceeds 1 (a shift
    /// below 1) and is 0 when it is below 2^-31.
    @inline(__always)
    public func normalized(_ a: Int64, high: Int64) -> Int64 {
        let full = a - mean
        let d = pre == 0 ? full : (full + (Int64(1) << (pre - 1))) >> pre
        if shift >= 1 && shift <= 62 { return FixedPoint.multiply(d, multiplier, shift: shift) }
        if shift > 62 { return 0 }
        return d > 0 ? high : (d < 0 ? -high : 0)
    }
}
