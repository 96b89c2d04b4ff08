/// One IRLS pass of `ColorAnchor.line`: the weighted sums of the normal equations of the line
/// y ~ a x + b over one channel's samples (x the network's output, y the input, [0, 1] units,
/// sample i at x[i], y[i]). The weight of a sample is 1 (`weighted` false: the first pass) or
/// `ColorAnchor.irlsWeight` of its residual y - (a x + b) at `quantile`.
///
/// `sums` is the kernel (8 samples per step in SIMD8<Double> lanes, whose signs pick the weight's
/// numerator without a branch: residual signs are noise, a branch on them mispredicts half the
/// time); `sumsReference` the plain loop it is tested against. They add in different orders,
/// so they agree to rounding (relative ~1e-15 per sum), not bit for bit.
enum QuantileLineSums {
    typealias Sums = (sw: Double, swx: Double, swxx: Double, swy: Double, swxy: Double)

    static func sumsReference(x: UnsafeBufferPointer<Double>, y: UnsafeBufferPointer<Double>, a: Double, b: Double,
                              quantile: Double, weighted: Bool) -> Sums {
        var sw = 0.0, swx = 0.0, swxx = 0.0, swy = 0.0, swxy = 0.0
        for i in 0..<x.count {
            let xi = x[i], yi = y[i]
            let w = weighted ? ColorAnchor.irlsWeight(residual: yi - (a * xi + b), quantile: quantile) : 1
            sw += w; swx += w * xi; swxx += w * xi * xi; swy += w * yi; swxy += w * xi * yi
        }
        return (sw, swx, swxx, swy, swxy)
    }

    static func sums(x: UnsafeBufferPointer<Double>, y: UnsafeBufferPointer<Double>, a: Double, b: Double,
                     quantile: Double, weighted: Bool) -> Sums {
        typealias V = SIMD8<Double>
        precondition(x.count == y.count)
        let n = x.count, full = n / 8 * 8
        var sw = V(), swx = V(), swxx = V(), swy = V(), swxy = V()
        if full > 0 {
            let xs = UnsafeRawPointer(x.baseAddress!), ys = UnsafeRawPointer(y.baseAddress!)
            let above = V(repeating: quantile), below = V(repeating: 1 - quantile), floor = V(repeating: ColorAnchor.residualFloor)
            let va = V(repeating: a), vb = V(repeating: b)
            for i in stride(from: 0, to: full, by: 8) {
                let xi = xs.loadUnaligned(fromByteOffset: i &* 8, as: V.self), yi = ys.loadUnaligned(fromByteOffset: i &* 8, as: V.self)
                var w = V(repeating: 1)
                if weighted {
                    // As irlsWeight: quantile above the line (r >= 0), 1 - quantile below, over |r|
                    // floored at residualFloor.
                    // (Selects, not pointwiseMax: the standard library's is not inlined here.)
                    let r = yi - (va * xi + vb), negative = r .< 0
                    let magnitude = r.replacing(with: -r, where: negative)
                    w = above.replacing(with: below, where: negative) / magnitude.replacing(with: floor, where: magnitude .< floor)
                }
                sw += w; swx += w * xi; swxx += w * xi * xi; swy += w * yi; swxy += w * xi * yi
            }
        }
        let tail = sumsReference(x: UnsafeBufferPointer(rebasing: x[full...]), y: UnsafeBufferPointer(rebasing: y[full...]),
                                 a: a, b: b, quantile: quantile, weighted: weighted)
        return (sw.sum() + tail.sw, swx.sum() + tail.swx, swxx.sum() + tail.swxx, swy.sum() + tail.swy, swxy.sum() + tail.swxy)
    }
}
