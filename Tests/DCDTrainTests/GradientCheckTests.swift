import Testing
@testable import DCDTrain
import DCDTestSupport

/// Every differentiable op against central finite differences, in Double: for random inputs x
/// and random probe weights c, the analytic gradient of sum(op(x) * c) must match
/// (f(x + h e_i) - f(x - h e_i)) / 2h for every element i.
///
/// Tolerance: h = 1e-5; the central difference's truncation error is O(h^2 f''') ~ 1e-10 and
/// its rounding error ~ 1e-16 |f| / h ~ 1e-11 for these O(1) values, so agreement to 1e-6
/// relative (with an absolute floor of 1e-8 for near-zero gradients) leaves three orders of
/// magnitude of margin while any wrong term (a missing factor, a transposed index) is O(1).
/// Inputs stay away from the kinks of ReLU and |x|: values are drawn from +-[0.1, 1].
struct GradientCheckTests {
    static func random(_ count: Int, _ rng: inout SeededRandom) -> [Double] {
        (0..<count).map { _ in
            let v = Double(rng.symmetric())
            return v < 0 ? v - 0.1 : v + 0.1
        }
    }

    /// Checks d(sum(build(inputs) * c))/d(input) for every input element.
    static func check(_ name: String, shapes: [[Int]], seed: UInt64 = 1, _ build: ([Variable<Double>]) -> Variable<Double>) {
        var rng = SeededRandom(seed: seed)
        let values = shapes.map { random($0.reduce(1, *), &rng) }
        func make(_ v: [[Double]]) -> [Variable<Double>] { zip(shapes, v).map { Variable(shape: $0, values: $1, requiresGrad: true) } }
        let probeShape = build(make(values))
        let c = random(probeShape.count, &rng)
        let inputs = make(values)
        Ops.weightedSum(build(inputs), c).backward()
        let h = 1e-5
        var worst = 0.0
        for (k, shape) in shapes.enumerated() {
            _ = shape
            for i in 0..<values[k].count {
                var plus = values, minus = values
                plus[k][i] += h
                minus[k][i] -= h
                let f1 = Ops.weightedSum(build(make(plus)), c).values[0]
                let f0 = Ops.weightedSum(build(make(minus)), c).values[0]
                let numeric = (f1 - f0) / (2 * h)
                let analytic = inputs[k].gradient[i]
                let error = abs(numeric - analytic) / max(abs(numeric), 1e-2)
                worst = max(worst, abs(numeric - analytic) <= 1e-8 ? 0 : error)
            }
        }
        #expect(worst <= 1e-6, "\(name): worst relative gradient error \(worst)")
    }

    @Test func elementwise() {
        Self.check("affine", shapes: [[7]]) { Ops.affine($0[0], scale: -1.5, shift: 0.3) }
        Self.check("add", shapes: [[2, 3], [2, 3]]) { Ops.add($0[0], $0[1]) }
        Self.check("relu", shapes: [[11]]) { Ops.relu($0[0]) }
        Self.check("leakyRelu", shapes: [[11]]) { Ops.leakyRelu($0[0], slope: 0.2) }
        Self.check("tanh", shapes: [[9]]) { Ops.tanh($0[0]) }
        // A value used twice: both contributions arrive.
        Self.check("reuse", shapes: [[5]]) { Ops.add(Ops.tanh($0[0]), Ops.affine($0[0], scale: 2)) }
    }

    @Test func lossesAndReductions() {
        Self.check("mean", shapes: [[3, 4]]) { Ops.mean($0[0]) }
        Self.check("l1", shapes: [[6], [6]]) { Ops.l1($0[0], $0[1]) }
        Self.check("hinge", shapes: [[8]]) { Ops.mean(Ops.relu(Ops.affine($0[0], scale: -1, shift: 1))) }
        Self.check("crossEntropy", shapes: [[4, 5]]) { Ops.crossEntropyFirstClass(Ops.affine($0[0], scale: 3)) }
    }

    @Test func matrices() {
        Self.check("linear", shapes: [[3, 4], [5, 4], [5]]) { Ops.linear($0[0], $0[1], $0[2]) }
        Self.check("linear, no bias", shapes: [[2, 3], [4, 3]]) { Ops.linear($0[0], $0[1], nil) }
        Self.check("matmulTransposed", shapes: [[3, 4], [5, 4]]) { Ops.matmulTransposed($0[0], $0[1]) }
        Self.check("l2NormalizeRows", shapes: [[3, 6]]) { Ops.l2NormalizeRows($0[0]) }
        Self.check("fillDiagonal", shapes: [[4, 4]]) { Ops.fillDiagonal($0[0], -10) }
        Self.check("concatColumns", shapes: [[3, 2], [3, 4]]) { Ops.concatColumns($0[0], $0[1]) }
        Self.check("rowDot", shapes: [[3, 5], [3, 5]]) { Ops.rowDot($0[0], $0[1]) }
        Self.check("gatherPositions", shapes: [[1, 3, 4, 5]]) { Ops.gatherPositions($0[0], [0, 7, 19, 7]) }
    }

    @Test func imageOps() {
        Self.check("pad reflect", shapes: [[1, 2, 4, 5]]) { Ops.pad($0[0], top: 3, bottom: 1, left: 2, right: 3, mode: .reflect) }
        Self.check("pad zero", shapes: [[2, 1, 3, 3]]) { Ops.pad($0[0], top: 1, bottom: 2, left: 0, right: 1, mode: .zero) }
        Self.check("crop", shapes: [[1, 2, 6, 5]]) { Ops.crop($0[0], top: 1, left: 2, height: 3, width: 2) }
        Self.check("conv2d", shapes: [[2, 3, 6, 5], [4, 3, 3, 3], [4]]) { Ops.conv2d($0[0], $0[1], $0[2]) }
        Self.check("conv2d stride 2", shapes: [[1, 2, 7, 8], [3, 2, 4, 4], [3]]) { Ops.conv2d($0[0], $0[1], $0[2], stride: 2) }
        Self.check("conv2d 7x7 no bias", shapes: [[1, 3, 8, 7], [2, 3, 7, 7]]) { Ops.conv2d($0[0], $0[1], nil) }
        Self.check("blur stride 2", shapes: [[1, 2, 7, 6]]) { Ops.blur($0[0], taps: [0.25, 0.5, 0.25], stride: 2) }
        Self.check("blur transposed", shapes: [[1, 2, 3, 4]]) { Ops.blur($0[0], taps: [0.25, 0.75, 0.75, 0.25], stride: 2, transposed: true) }
        Self.check("instanceNorm", shapes: [[2, 3, 4, 3]]) { Ops.instanceNorm($0[0]) }
    }
}
