/// exp and tanh without libm: the runtime depends on the Swift standard library only, which has
/// no transcendental functions. Computed in Double and rounded once to Float, so the results are
/// within 1 ulp of correctly rounded float32 (PyTorch's own tanhf is within 1-2 ulp), far below the
/// 1e-4 tolerance of the float path.
public enum ElementaryFunctions {
    /// e^x for |x| <= 708 (larger magnitudes saturate to +inf / 0).
    @inlinable
    public static func exp(_ x: Double) -> Double {
        if x > 708 { return .infinity }
        if x < -708 { return 0 }
        // x = k ln2 + r with |r| <= ln2/2; ln2 split in a high part exact in 32 bits and a low part
        // so that k * ln2Hi is exact for |k| < 2^20.
        let ln2Hi = 0.693147180369123816490
        let ln2Lo = 1.90821492927058770002e-10
        let k = (x * 1.44269504088896338700).rounded()
        let r = (x - k * ln2Hi) - k * ln2Lo
        // Taylor series to r^12: |r|^13/13! < 2e-16 for |r| <= 0.347.
        var term = 1.0, sum = 1.0
        var n = 1.0
        while n <= 12 {
            term *= r / n
            sum += term
            n += 1
        }
        return sum * Double(sign: .plus, exponent: Int(k), significand: 1)
    }

    /// tanh in double precision (for tables built at compile time).
    public static func tanhDouble(_ x: Double) -> Double {
        let a = x.magnitude
        if a > 20 { return x < 0 ? -1 : 1 }
        let t = exp(-2 * a)
        let y = (1 - t) / (1 + t)
        return x < 0 ? -y : y
    }

    /// tanh(x) = sign(x) (1 - e^{-2|x|}) / (1 + e^{-2|x|}); saturates to +-1 for |x| > 20
    /// (1 - tanh(20) < 1e-17).
    @inlinable
    public static func tanh(_ x: Float) -> Float {
        let a = Double(x).magnitude
        if a > 20 { return x < 0 ? -1 : 1 }
        if a.isNaN { return x }
        let t = exp(-2 * a)
        let y = Float((1 - t) / (1 + t))
        return x < 0 ? -y : y
    }
}
