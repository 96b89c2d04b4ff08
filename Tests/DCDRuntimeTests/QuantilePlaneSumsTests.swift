import Testing
@testable import DCDRuntime
import DCDTestSupport

/// The colour-matrix anchor's IRLS pass kernel against its plain reference loop, on sample
/// counts that leave every tail length of its 8-lane steps; its 4x4 solver on a known system
/// and on singular ones; and the whole plane fit through kernel and reference.
struct QuantilePlaneSumsTests {
    /// Samples like a derained tile's: outputs R, G, B in [0, 1] and correlated, the input a
    /// plane of them plus noise, some brightened by "rain", a few exactly on the plane.
    static func samples(_ n: Int, seed: UInt64) -> (x: [[Double]], y: [Double]) {
        var random = SeededRandom(seed: seed)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        var x: [[Double]] = [[], [], []], y = [Double]()
        for i in 0..<n {
            let base = uniform()
            let p = [base, 0.7 * base + 0.3 * uniform(), 0.5 * base + 0.5 * uniform()]
            var yi = 0.9 * p[0] + 0.2 * p[1] - 0.1 * p[2] + 0.05
            if i % 7 != 0 { yi += (uniform() - 0.5) * 0.05 }
            if i % 5 == 0 { yi += 0.3 * uniform() }
            for c in 0..<3 { x[c].append(p[c]) }
            y.append(yi)
        }
        return (x, y)
    }

    static func withColumns<R>(_ x: [[Double]], _ y: [Double], _ body: (QuantilePlaneSums.Columns, UnsafeBufferPointer<Double>) -> R) -> R {
        x[0].withUnsafeBufferPointer { x0 in
            x[1].withUnsafeBufferPointer { x1 in
                x[2].withUnsafeBufferPointer { x2 in y.withUnsafeBufferPointer { body((x0, x1, x2), $0) } }
            }
        }
    }

    @Test(arguments: [1, 7, 8, 9, 15, 16, 100, 1203])
    func kernelMatchesTheReference(count: Int) {
        let (x, y) = Self.samples(count, seed: UInt64(count))
        Self.withColumns(x, y) { x, y in
            for (beta, quantile, weighted) in [(SIMD4<Double>(0, 0, 0, 0), 0.5, false), (SIMD4(0.9, 0.2, -0.1, 0.05), 0.5, true),
                                               (SIMD4(1, 0, 0, 0.1), 0.3, true), (SIMD4(0.5, 0.5, 0.2, -0.1), 0.05, true)] {
                let k = QuantilePlaneSums.sums(x, y, beta: beta, quantile: quantile, weighted: weighted)
                let r = QuantilePlaneSums.sumsReference(x, y, beta: beta, quantile: quantile, weighted: weighted)
                // The same positive-weight terms added in another order: ~n ulps; 1e-12
                // relative is ~4500 ulps.
                for (kv, rv) in [(k.a0, r.a0), (k.a1, r.a1), (k.a2, r.a2), (k.a3, r.a3), (k.b, r.b)] {
                    #expect((0..<4).allSatisfy { abs(kv[$0] - rv[$0]) <= 1e-12 * abs(rv[$0]) },
                            "n \(count) beta \(beta) q \(quantile) weighted \(weighted): \(kv) vs \(rv)")
                }
            }
        }
    }

    /// A symmetric positive definite system with a known solution; systems with a dependent
    /// column (grey outputs: R = G) or an all-zero one are singular.
    @Test func solverSolvesAndRefusesSingularSystems() {
        var s = QuantilePlaneSums.Sums(a0: SIMD4(4, 2, 0, 1), a1: SIMD4(2, 5, 1, 0), a2: SIMD4(0, 1, 3, 1), a3: SIMD4(1, 0, 1, 2))
        let beta = SIMD4<Double>(1, -2, 0.5, 3)
        func dot(_ a: SIMD4<Double>) -> Double { (a * beta).sum() }
        s.b = SIMD4(dot(s.a0), dot(s.a1), dot(s.a2), dot(s.a3))
        // A well-conditioned 4x4 system: the solution to ~1e-15; 1e-12 is far above that.
        #expect(largestDifference(QuantilePlaneSums.solve(s)!, beta) < 1e-12)
        let (x, y) = Self.samples(64, seed: 2)
        Self.withColumns([x[0], x[0], x[2]], y) { x, y in
            #expect(QuantilePlaneSums.solve(QuantilePlaneSums.sumsReference(x, y, beta: .zero, quantile: 0.5, weighted: false)) == nil)
        }
        Self.withColumns([x[0], x[1], [Double](repeating: 0, count: 64)], y) { x, y in
            #expect(QuantilePlaneSums.solve(QuantilePlaneSums.sumsReference(x, y, beta: .zero, quantile: 0.5, weighted: false)) == nil)
        }
    }

    /// The 30-pass plane fit through the kernel and through the reference: the same plane to
    /// far below an 8-bit level (1e-8 of the range, allowing the normal equations' condition).
    @Test func planeFitsAgree() {
        let (x, y) = Self.samples(4800, seed: 3)
        Self.withColumns(x, y) { x, y in
            for quantile in [0.5, 0.35, 0.05] {
                let k = ColorAnchor.plane(outputs: x, input: y, quantile: quantile)!
                let r = ColorAnchor.plane(outputs: x, input: y, quantile: quantile) {
                    QuantilePlaneSums.sumsReference($0, $1, beta: $2, quantile: $3, weighted: $4)
                }!
                #expect(largestDifference(k, r) <= 1e-8, "q \(quantile): \(k) vs \(r)")
            }
        }
    }
}
