import Testing
import DCDRuntime
@testable import DCDTrain
import DCDTestSupport

/// `linear` and `matmulTransposed` in Float (the packed multiply) against their plain loops in
/// Double on the same float inputs: values and every gradient.
///
/// Tolerance, per element: the float32 reordered-sum bound over the longest sum involved (the
/// inner dimension, or the rows for weight gradients) with the magnitudes taken from the same
/// Double op on absolute values.
struct FloatMatrixOpsTests {
    static func evaluate<T: BinaryFloatingPoint>(_ inputs: [([Int], [Float])], _ probe: [Float], _ type: T.Type,
                                                 _ op: ([Variable<T>]) -> Variable<T>) -> [[Double]] {
        let variables = inputs.map { Variable<T>(shape: $0.0, values: $0.1.map { T($0) }, requiresGrad: true) }
        let y = op(variables)
        Ops.weightedSum(y, probe.map { T($0) }).backward()
        return [y.values.map { Double($0) }] + variables.map { $0.gradient.map { Double($0) } }
    }

    static func compare(_ name: String, _ shapes: [[Int]], outputs: Int, terms: Int,
                        fast: ([Variable<Float>]) -> Variable<Float>, exact: ([Variable<Double>]) -> Variable<Double>) {
        var rng = SeededRandom(seed: UInt64(shapes.flatMap { $0 }.reduce(7, { $0 * 31 + $1 })))
        let inputs = shapes.map { s in (s, (0..<s.reduce(1, *)).map { _ in rng.symmetric() }) }
        let probe = (0..<outputs).map { _ in rng.symmetric() }
        let a = evaluate(inputs, probe, Float.self, fast)
        let e = evaluate(inputs, probe, Double.self, exact)
        let m = evaluate(inputs.map { ($0.0, $0.1.map(abs)) }, probe.map(abs), Double.self, exact)
        for t in 0..<a.count {
            var worst = 0.0
            for i in 0..<a[t].count {
                let bound = Double(Tolerance.reorderedSum(terms: terms, sumOfMagnitudes: Float(m[t][i])))
                worst = max(worst, abs(a[t][i] - e[t][i]) / bound)
            }
            #expect(worst <= 1, "\(name) \(shapes) tensor \(t): \(worst) of the bound")
        }
    }

    @Test(arguments: [(256, 64, 256), (7, 3, 5), (33, 300, 17)])
    func linear(shape: (Int, Int, Int)) {
        let (rows, inputs, outputs) = shape
        Self.compare("linear", [[rows, inputs], [outputs, inputs], [outputs]], outputs: rows * outputs, terms: max(rows, inputs) + 1,
                     fast: { Ops.linear($0[0], $0[1], $0[2]) }, exact: { Ops.linearLoops($0[0], $0[1], $0[2]) })
    }

    @Test(arguments: [(256, 256, 256), (5, 9, 3), (40, 70, 33)])
    func matmulTransposed(shape: (Int, Int, Int)) {
        let (m, d, n) = shape
        Self.compare("matmulTransposed", [[m, d], [n, d]], outputs: m * n, terms: max(m, n, d),
                     fast: { Ops.matmulTransposed($0[0], $0[1]) }, exact: { Ops.matmulTransposedLoops($0[0], $0[1]) })
    }
}
