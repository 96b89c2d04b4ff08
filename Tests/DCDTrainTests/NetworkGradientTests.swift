import Testing
@testable import DCDTrain
import DCDTestSupport

/// Whole networks against central differences in Double (as `GradientCheckTests`, same
/// tolerance and reasoning): the ops composed as the generator and discriminator compose them.
struct NetworkGradientTests {
    static func randomValues(_ shapes: [(String, [Int])], seed: UInt64) -> [String: (shape: [Int], values: [Double])] {
        var rng = SeededRandom(seed: seed)
        var out: [String: (shape: [Int], values: [Double])] = [:]
        for (key, shape) in shapes { out[key] = (shape, (0..<shape.reduce(1, *)).map { _ in Double(rng.symmetric()) * 0.5 }) }
        return out
    }

    /// d(sum(f() * c))/d(parameter element) for a sample of elements of every parameter.
    static func check(_ name: String, parameters: [String: Variable<Double>], probe: () -> Variable<Double>) {
        var rng = SeededRandom(seed: 9)
        let first = probe()
        let c = (0..<first.count).map { _ in Double(rng.symmetric()) }
        Ops.weightedSum(first, c).backward()
        var worst = 0.0, worstAt = ""
        for (key, p) in parameters.sorted(by: { $0.key < $1.key }) {
            let analytic = p.gradient
            for i in Swift.stride(from: 0, to: p.count, by: max(1, p.count / 5)) {
                let saved = p.values[i], h = 1e-5
                p.values[i] = saved + h
                let f1 = Ops.weightedSum(probe(), c).values[0]
                p.values[i] = saved - h
                let f0 = Ops.weightedSum(probe(), c).values[0]
                p.values[i] = saved
                let numeric = (f1 - f0) / (2 * h)
                let error = abs(numeric - analytic[i]) <= 1e-8 ? 0 : abs(numeric - analytic[i]) / max(abs(numeric), 1e-2)
                if error > worst { worst = error; worstAt = "\(key)[\(i)]: analytic \(analytic[i]), numeric \(numeric)" }
            }
        }
        #expect(worst <= 1e-6, "\(name): worst relative gradient error \(worst) at \(worstAt)")
    }

    @Test func generator() throws {
        let g = try ResnetGenerator<Double>(ngf: 2, blocks: 1, values: Self.randomValues(ResnetGenerator<Double>.parameterShapes(ngf: 2, blocks: 1), seed: 3))
        var rng = SeededRandom(seed: 4)
        let x = Variable<Double>(shape: [1, 3, 8, 8], values: (0..<192).map { _ in Double(rng.symmetric()) })
        Self.check("generator", parameters: g.parameters) { g.forward(x).output! }
    }

    @Test func discriminator() throws {
        let d = try PatchDiscriminator<Double>(ndf: 2, values: Self.randomValues(PatchDiscriminator<Double>.parameterShapes(ndf: 2), seed: 5))
        var rng = SeededRandom(seed: 6)
        let x = Variable<Double>(shape: [1, 3, 32, 32], values: (0..<3072).map { _ in Double(rng.symmetric()) })
        Self.check("discriminator", parameters: d.parameters) { d.forward(x) }
    }
}
