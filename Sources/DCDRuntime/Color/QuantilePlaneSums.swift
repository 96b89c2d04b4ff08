/// One IRLS pass of `ColorAnchor.plane`: the weighted normal equations of the plane
/// y ~ beta . (x0, x1, x2, 1) over one input channel's samples (x0, x1, x2 the network's output
/// R, G, B, y the input channel, [0, 1] units, sample i at index i of each). The weight of a
/// sample is 1 (`weighted` false: the first pass) or `ColorAnchor.irlsWeight` of its residual
/// y - beta . (x0, x1, x2, 1) at `quantile`.
///
/// `sums` is the kernel (8 samples per step in SIMD8<Double> lanes, the weight's numerator
/// picked by the residual's sign without a branch, as `QuantileLineSums`); `sumsReference` the
/// plain loop it is tested against. They add in different orders, so they agree to rounding.
enum QuantilePlaneSums {
    typealias Columns = (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>)

    /// The symmetric 4x4 matrix sum w p p^T (p = (x0, x1, x2, 1)), its rows `a0`...`a3`, and
    /// sum w y p (`b`).
    struct Sums: Equatable {
        var a0 = SIMD4<Double>(), a1 = SIMD4<Double>(), a2 = SIMD4<Double>(), a3 = SIMD4<Double>()
        var b = SIMD4<Double>()
    }

    static func sumsReference(_ x: Columns, _ y: UnsafeBufferPointer<Double>, beta: SIMD4<Double>, quantile: Double, weighted: Bool) -> Sums {
        var s = Sums()
        for i in 0..<y.count {
            let p = SIMD4(x.0[i], x.1[i], x.2[i], 1)
            let w = weighted ? ColorAnchor.irlsWeight(residual: y[i] - (beta * p).sum(), quantile: quantile) : 1
            let wp = w * p
            s.a0 += wp * p[0]; s.a1 += wp * p[1]; s.a2 += wp * p[2]; s.a3 += wp
            s.b += wp * y[i]
        }
        return s
    }

    static func sums(_ x: Columns, _ y: UnsafeBufferPointer<Double>, beta: SIMD4<Double>, quantile: Double, weighted: Bool) -> Sums {
        typealias V = SIMD8<Double>
        let n = y.count
        precondition(x.0.count == n && x.1.count == n && x.2.count == n)
        let full = n / 8 * 8
        // The 10 distinct entries of the symmetric matrix and the 4 of b, lane-wise.
        var w0 = V(), w00 = V(), w01 = V(), w02 = V(), w11 = V(), w12 = V(), w22 = V(), w1 = V(), w2 = V(), ww = V()
        var wy = V(), wy0 = V(), wy1 = V(), wy2 = V()
        if full > 0 {
            let p0 = UnsafeRawPointer(x.0.baseAddress!), p1 = UnsafeRawPointer(x.1.baseAddress!), p2 = UnsafeRawPointer(x.2.baseAddress!)
            let py = UnsafeRawPointer(y.baseAddress!)
            let above = V(repeating: quantile), below = V(repeating: 1 - quantile), floor = V(repeating: ColorAnchor.residualFloor)
            let b0 = V(repeating: beta[0]), b1 = V(repeating: beta[1]), b2 = V(repeating: beta[2]), b3 = V(repeating: beta[3])
            for i in stride(from: 0, to: full, by: 8) {
                let o = i &* 8
                let x0 = p0.loadUnaligned(fromByteOffset: o, as: V.self), x1 = p1.loadUnaligned(fromByteOffset: o, as: V.self)
                let x2 = p2.loadUnaligned(fromByteOffset: o, as: V.self), yi = py.loadUnaligned(fromByteOffset: o, as: V.self)
                var w = V(repeating: 1)
                if weighted {
                    // As irlsWeight (selects, not pointwiseMax: see QuantileLineSums).
                    let r = yi - (b0 * x0 + b1 * x1 + b2 * x2 + b3), negative = r .< 0
                    let magnitude = r.replacing(with: -r, where: negative)
                    w = above.replacing(with: below, where: negative) / magnitude.replacing(with: floor, where: magnitude .< floor)
                }
                let v0 = w * x0, v1 = w * x1, v2 = w * x2
                ww += w; w0 += v0; w1 += v1; w2 += v2
                w00 += v0 * x0; w01 += v0 * x1; w02 += v0 * x2; w11 += v1 * x1; w12 += v1 * x2; w22 += v2 * x2
                wy += w * yi; wy0 += v0 * yi; wy1 += v1 * yi; wy2 += v2 * yi
            }
        }
        let tail = sumsReference((UnsafeBufferPointer(rebasing: x.0[full...]), UnsafeBufferPointer(rebasing: x.1[full...]),
                                  UnsafeBufferPointer(rebasing: x.2[full...])), UnsafeBufferPointer(rebasing: y[full...]),
                                 beta: beta, quantile: quantile, weighted: weighted)
        let s00 = w00.sum(), s01 = w01.sum(), s02 = w02.sum(), s11 = w11.sum(), s12 = w12.sum(), s22 = w22.sum()
        let s0 = w0.sum(), s1 = w1.sum(), s2 = w2.sum(), sw = ww.sum()
        var s = Sums(a0: SIMD4(s00, s01, s02, s0), a1: SIMD4(s01, s11, s12, s1), a2: SIMD4(s02, s12, s22, s2), a3: SIMD4(s0, s1, s2, sw),
                     b: SIMD4(wy0.sum(), wy1.sum(), wy2.sum(), wy.sum()))
        s.a0 += tail.a0; s.a1 += tail.a1; s.a2 += tail.a2; s.a3 += tail.a3; s.b += tail.b
        return s
    }

    /// A pivot at most this share of its diagonal entry marks the equations singular.
    static let singularPivot = 1e-10

    /// beta with (a0; a1; a2; a3) beta = b, by Cholesky factorisation (the matrix is symmetric
    /// and positive semidefinite: a sum of w p p^T with w > 0); nil when a pivot is at most
    /// `singularPivot` of its diagonal entry (tools/rain/colour_fit.py decides alike).
    static func solve(_ s: Sums) -> SIMD4<Double>? {
        func a(_ i: Int) -> SIMD4<Double> { i == 0 ? s.a0 : (i == 1 ? s.a1 : (i == 2 ? s.a2 : s.a3)) }  // (no array: no allocation)
        // L lower triangular with L L^T = A, row-major in 16 Doubles.
        var l = SIMD16<Double>()
        for j in 0..<4 {
            var d = a(j)[j]
            for k in 0..<j { d -= l[4 * j + k] * l[4 * j + k] }
            guard d > singularPivot * a(j)[j] else { return nil }
            let root = d.squareRoot()
            l[4 * j + j] = root
            for i in (j + 1)..<4 {
                var v = a(i)[j]
                for k in 0..<j { v -= l[4 * i + k] * l[4 * j + k] }
                l[4 * i + j] = v / root
            }
        }
        var z = SIMD4<Double>(), beta = SIMD4<Double>()
        for i in 0..<4 {
            var v = s.b[i]
            for k in 0..<i { v -= l[4 * i + k] * z[k] }
            z[i] = v / l[4 * i + i]
        }
        for i in (0..<4).reversed() {
            var v = z[i]
            for k in (i + 1)..<4 { v -= l[4 * k + i] * beta[k] }
            beta[i] = v / l[4 * i + i]
        }
        return beta
    }
}
