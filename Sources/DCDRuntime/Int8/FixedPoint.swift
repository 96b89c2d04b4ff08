/// Integer arithmetic of the int8 path: fixed-point multiplication with rounding, and the integer
/// square root used by InstanceNorm. No floating point anywhere on the int8 path.
public enum FixedPoint {
    /// round(x * multiplier / 2^shift), rounding half up (towards +inf), for shift in 1...62.
    /// Callers keep |x * multiplier| < 2^62 (the quantizer proves it per op).
    @inline(__always)
    public static func multiply(_ x: Int64, _ multiplier: Int64, shift: Int) -> Int64 {
        (x &* multiplier &+ (Int64(1) << (shift - 1))) >> shift
    }

    /// floor(sqrt(n)), digit by digit (exact for every UInt64).
    public static func squareRoot(_ n: UInt64) -> UInt64 {
        var remainder = n
        var root: UInt64 = 0
        var bit: UInt64 = 1 << 62
        while bit > remainder { bit >>= 2 }
        while bit != 0 {
            if remainder >= root + bit {
                remainder -= root + bit
                root = (root >> 1) + bit
            } else {
                root >>= 1
            }
            bit >>= 2
        }
        return root
    }

    /// Number of significant bits of a non-negative value (0 for 0).
    @inline(__always)
    public static func bitWidth(_ n: UInt64) -> Int { 64 - n.leadingZeroBitCount }
}
