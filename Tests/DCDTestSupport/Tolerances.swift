/// Named tolerances, each with its reason.
public enum Tolerance {
    /// The float path against PyTorch, on the [0, 1] output scale: the bound. Both sides
    /// compute in float32 and differ only in summation order; measured differences are ~2e-6.
    public static let floatPathVersusPyTorch: Float = 1e-4

    /// Two float32 sums of the same n terms in different orders differ by at most
    /// 2 * n * u * sum|terms| (u = 2^-24, recursive summation bound, Higham 2002, eq. 4.4 doubled
    /// for the two orders). Used for optimized kernels against their references.
    public static func reorderedSum(terms n: Int, sumOfMagnitudes s: Float) -> Float {
        2 * Float(n) * 0x1p-24 * s + Float.leastNormalMagnitude
    }
}
