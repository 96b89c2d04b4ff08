import Testing
import DCDRuntime
import DCDTestSupport

/// The tiled stride-1 convolution against `FloatReference.conv2d`, over shapes chosen to break the
/// 4-channel x 16-pixel tile: widths below, at and above 8 and 16 (1, 7, 8, 15, 16, 17, 33),
/// output channel counts that are not multiples of 4, kernels 1, 3 and 7.
struct Conv2dF32S1Tile4x16Tests {
    struct Shape: CustomStringConvertible, Sendable {
        var cin, cout, kernel, height, width: Int
        var description: String { "cin=\(cin) cout=\(cout) k=\(kernel) in=\(height)x\(width)" }
    }

    static let shapes: [Shape] = {
        var s: [Shape] = []
        for w in [1, 7, 8, 15, 16, 17, 33] { s.append(Shape(cin: 3, cout: 5, kernel: 1, height: 3, width: w)) }
        for w in [3, 9, 18, 19, 35] { s.append(Shape(cin: 2, cout: 4, kernel: 3, height: 4, width: w)) }
        for cout in [1, 3, 4, 5, 9] { s.append(Shape(cin: 4, cout: cout, kernel: 3, height: 5, width: 21)) }
        s.append(Shape(cin: 3, cout: 8, kernel: 7, height: 9, width: 30))
        s.append(Shape(cin: 16, cout: 3, kernel: 7, height: 7, width: 7))
        return s
    }()

    static func random(_ n: Int, _ rng: inout SeededRandom) -> [Float] { (0..<n).map { _ in rng.symmetric() } }

    /// Runs the executor's tiled path with a runner that executes tasks in reverse order, so the
    /// test also shows that the task split does not change results.
    static func tiled(_ x: FloatTensor, _ w: [Float], _ b: [Float], _ s: Shape, workers: Int) -> FloatTensor {
        let packed = PackedConvWeights(weight: w, bias: b, outputChannels: s.cout, inputChannels: s.cin, kernel: s.kernel)
        let reversed = ParallelRunner(workerCount: workers) { count, body in
            for i in (0..<count).reversed() { body(i) }
        }
        return FloatReferenceExecutor.convolveTiled(x, packed, outputShape: FeatureShape(
            channels: s.cout, height: s.height - s.kernel + 1, width: s.width - s.kernel + 1), parallel: workers == 1 ? .serial : reversed)
    }

    @Test(arguments: shapes)
    func matchesReference(_ s: Shape) {
        var rng = SeededRandom(seed: UInt64(s.cin * 1000 + s.cout * 100 + s.kernel * 10 + s.width))
        let x = FloatTensor(channels: s.cin, height: s.height, width: s.width, storage: Self.random(s.cin * s.height * s.width, &rng))
        let w = Self.random(s.cout * s.cin * s.kernel * s.kernel, &rng)
        let b = Self.random(s.cout, &rng)
        let expected = FloatReference.conv2d(x, weight: w, outputChannels: s.cout, kernel: s.kernel, bias: b, stride: 1, padding: 0)
        let terms = s.cin * s.kernel * s.kernel + 1
        // Inputs and weights are in [-1, 1): the sum of magnitudes is at most `terms`.
        let tolerance = Tolerance.reorderedSum(terms: terms, sumOfMagnitudes: Float(terms))
        for workers in [1, 3] {
            let got = Self.tiled(x, w, b, s, workers: workers)
            #expect(got.shape == expected.shape)
            for c in 0..<expected.channels {
                for y in 0..<expected.height {
                    for xx in 0..<expected.width where abs(got[c, y, xx] - expected[c, y, xx]) > tolerance {
                        Issue.record("\(s) workers=\(workers): (\(c), \(y), \(xx)) tiled \(got[c, y, xx]) reference \(expected[c, y, xx])")
                        return
                    }
                }
            }
        }
    }

    @Test func threadCountDoesNotChangeResults() {
        let s = Shape(cin: 5, cout: 7, kernel: 3, height: 12, width: 29)
        var rng = SeededRandom(seed: 7)
        let x = FloatTensor(channels: s.cin, height: s.height, width: s.width, storage: Self.random(s.cin * s.height * s.width, &rng))
        let w = Self.random(s.cout * s.cin * 9, &rng), b = Self.random(s.cout, &rng)
        let one = Self.tiled(x, w, b, s, workers: 1)
        for workers in [2, 3, 8] {
            #expect(Self.tiled(x, w, b, s, workers: workers).storage == one.storage, "workers=\(workers)")
        }
    }
}
