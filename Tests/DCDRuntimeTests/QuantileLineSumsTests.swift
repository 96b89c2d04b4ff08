import Testing
@testable import DCDRuntime
import DCDTestSupport

/// The IRLS pass kernel of ColorAnchor against its plain reference loop, on sample counts that
/// leave every tail length of its 8-lane steps, and the whole line fit through each.
struct QuantileLineSumsTests {
    /// Samples like a derained tile's: output x in [0, 1], input y a line of it plus noise, some
    /// samples brightened by "rain", a few exactly on the line (residual 0, below the floor).
    static func samples(_ n: Int, seed: UInt64) -> (x: [Double], y: [Double]) {
        var random = SeededRandom(seed: seed)
        func uniform() -> Double { Double(random.next() >> 11) / Double(1 << 53) }
        var x = [Double](), y = [Double]()
        for i in 0..<n {
            let xi = uniform()
            var yi = 0.8 * xi + 0.1
            if i % 7 != 0 { yi += (uniform() - 0.5) * 0.05 }
            if i % 5 == 0 { yi += 0.3 * uniform() }
            x.append(xi); y.append(yi)
        }
        return (x, y)
    }

    @Test(arguments: [1, 7, 8, 9, 15, 16, 100, 1203])
    func kernelMatchesTheReference(count: Int) {
        let (x, y) = Self.samples(count, seed: UInt64(count))
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                for (a, b, quantile, weighted) in [(1.0, 0.0, 0.5, false), (0.8, 0.1, 0.5, true), (0.7, 0.15, 0.3, true), (1.2, -0.1, 0.05, true)] {
                    let k = QuantileLineSums.sums(x: x, y: y, a: a, b: b, quantile: quantile, weighted: weighted)
                    let r = QuantileLineSums.sumsReference(x: x, y: y, a: a, b: b, quantile: quantile, weighted: weighted)
                    // The same terms added in another order (8 lanes, then the lanes): each sum of
                    // n positive-weight terms agrees to ~n ulps; 1e-12 relative is ~4500 ulps.
                    for (kv, rv) in [(k.sw, r.sw), (k.swx, r.swx), (k.swxx, r.swxx), (k.swy, r.swy), (k.swxy, r.swxy)] {
                        #expect(abs(kv - rv) <= 1e-12 * abs(rv), "n \(count) a \(a) q \(quantile) weighted \(weighted): \(kv) vs \(rv)")
                    }
                }
            }
        }
    }

    /// The 30-pass fit through the kernel and through the reference: the same line to far below
    /// an 8-bit level (1e-9 of the range).
    @Test func lineFitsAgree() {
        let (x, y) = Self.samples(4800, seed: 3)
        x.withUnsafeBufferPointer { x in
            y.withUnsafeBufferPointer { y in
                for quantile in [0.5, 0.35, 0.05] {
                    let k = ColorAnchor.line(output: x, input: y, quantile: quantile)
                    let r = ColorAnchor.line(output: x, input: y, quantile: quantile) {
                        QuantileLineSums.sumsReference(x: $0, y: $1, a: $2, b: $3, quantile: $4, weighted: $5)
                    }
                    #expect(abs(k.a - r.a) <= 1e-9 && abs(k.b - r.b) <= 1e-9, "q \(quantile): \(k) vs \(r)")
                }
            }
        }
    }
}
