import Testing
import DCDRuntime
@testable import DCDTrain
import DCDTestSupport

/// The packed SIMD matrix multiply against its plain reference, over shapes that cross every
/// tile edge (rows and columns below, at and past the micro-kernel's tile and the task blocks,
/// depths across the 256 block), all four transpose combinations and accumulation.
///
/// Tolerance: per element, the float32 reordered-sum bound over k + 1 terms (the reference sums
/// in Double, the kernel in float32 with fused multiply-adds in its own blocking order).
struct FloatGEMMTests {
    static func values(_ count: Int, _ rng: inout SeededRandom) -> [Float] { (0..<count).map { _ in rng.symmetric() } }

    static func check(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, accumulate: Bool,
                      parallel: ParallelRunner = .serial) -> Float {
        var rng = SeededRandom(seed: UInt64(m * 1_000_003 + n * 1009 + k))
        let a = values(m * k, &rng), b = values(k * n, &rng), start = values(m * n, &rng)
        var fast = start, slow = start
        a.withUnsafeBufferPointer { av in
            b.withUnsafeBufferPointer { bv in
                // Stored as A[m, k] or A^T (k rows of m); likewise B.
                let aView = transposeA ? MatrixView(av.baseAddress!, rowStride: m).transposed : MatrixView(av.baseAddress!, rowStride: k)
                let bView = transposeB ? MatrixView(bv.baseAddress!, rowStride: k).transposed : MatrixView(bv.baseAddress!, rowStride: n)
                fast.withUnsafeMutableBufferPointer {
                    FloatGEMM.multiply(m: m, n: n, k: k, aView, bView, into: $0.baseAddress!, ldc: n, accumulate: accumulate, parallel: parallel)
                }
                slow.withUnsafeMutableBufferPointer {
                    FloatGEMM.referenceMultiply(m: m, n: n, k: k, aView, bView, into: $0.baseAddress!, ldc: n, accumulate: accumulate)
                }
            }
        }
        var worst: Float = 0
        for i in 0..<(m * n) {
            // |a|, |b| <= 1: the sum of magnitudes is at most k (+ |C| when accumulating).
            let bound = Tolerance.reorderedSum(terms: k + 1, sumOfMagnitudes: Float(k) + (accumulate ? abs(start[i]) : 0))
            worst = max(worst, abs(fast[i] - slow[i]) / bound)
        }
        return worst
    }

    @Test(arguments: [(1, 1, 1), (3, 5, 7), (8, 32, 256), (9, 33, 257), (17, 100, 3), (100, 31, 600), (97, 600, 40), (40, 130, 520)])
    func matchesReference(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                for accumulate in [false, true] {
                    let worst = Self.check(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, accumulate: accumulate)
                    #expect(worst <= 1, "m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) acc \(accumulate): \(worst) of the bound")
                }
            }
        }
    }

    /// Tasks own disjoint tiles and sum in the same order: any split gives the same bits.
    @Test func sameBitsForAnyTaskOrder() {
        let (m, n, k) = (45, 700, 300)
        var rng = SeededRandom(seed: 9)
        let a = Self.values(m * k, &rng), b = Self.values(k * n, &rng)
        func run(_ parallel: ParallelRunner) -> [Float] {
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { av in
                b.withUnsafeBufferPointer { bv in
                    c.withUnsafeMutableBufferPointer {
                        FloatGEMM.multiply(m: m, n: n, k: k, MatrixView(av.baseAddress!, rowStride: k), MatrixView(bv.baseAddress!, rowStride: n),
                                           into: $0.baseAddress!, ldc: n, accumulate: false, parallel: parallel)
                    }
                }
            }
            return c
        }
        let reversed = ParallelRunner(workerCount: 3) { count, body in for i in (0..<count).reversed() { body(i) } }
        #expect(run(.serial) == run(reversed))
    }
}
