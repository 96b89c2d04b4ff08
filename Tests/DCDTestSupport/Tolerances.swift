/// Named tolerances, each with its reason.
public enum Tolerance {
    /// The float path against PyTorch, on the [0, 1] output scale: the bound. Both sides
    /// compute in float32 and differ only in summation order; measured differences are ~2e-6.
    public static let floatPathVersusPyTorch: Float = 1e-4

    /// Two float graphs that compute the same function with float operations regrouped (folded
    /// pads change nothing; folding x*2/255-1 into weights and fusing change rounding), in pixel
    /// units (0...255): 1e-5 of full scale, five times the float path's measured agreement with
    /// PyTorch (2e-6 of full scale).
    public static let equivalentGraphsInPixels: Float = 255 * 1e-5

    /// Two float32 sums of the same n terms in different orders differ by at most
    /// 2 * n * u * sum|terms| (u = 2^-24, recursive summation bound, Higham 2002, eq. 4.4 doubled
    /// for the two orders). Used for optimized kernels against their references.
    public static func reorderedSum(terms n: Int, sumOfMagnitudes s: Float) -> Float {
        2 * Float(n) * 0x1p-24 * s + Float.leastNormalMagnitude
    }
}

/// The largest |a[i] - b[i]| of two vectors (the standard library has no SIMD abs).
public func largestDifference<V: SIMD>(_ a: V, _ b: V) -> V.Scalar where V.Scalar: FloatingPoint {
    let d = a - b
    return Swift.max(d.max(), -d.min())
}
