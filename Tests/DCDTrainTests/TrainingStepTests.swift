import Testing
import DCDCompiler
@testable import DCDTrain
import DCDTestSupport

/// One whole DCD-GAN training step against PyTorch (tools/make_train_fixtures.py, whole_step):
/// the same weights, crops (32x32) and patch positions; ngf = 4, 2 blocks, ndf = 4, NCE layers
/// 4, 8, 12, 13, 16 patches, MLP width 8. Compared: every loss, every parameter's gradient
/// (D's from the D step, G's and F's from the G step, after the D update), and every parameter
/// after the three Adam updates.
///
/// Tolerances: 1e-4 of each tensor's largest magnitude (the figure) for gradients and
/// losses; for parameters after the update, 1e-4 of the largest parameter magnitude of the
/// tensor. Excluded from the element-wise comparison, with the reason checked instead: biases
/// of convolutions followed by InstanceNorm, whose gradient is exactly zero (the norm removes
/// the plane's mean) and so float noise on both sides; Adam's first step moves such a
/// parameter by +-lr whatever the noise's size, so those are checked to have moved by at most lr.
struct TrainingStepTests {
    typealias Tensors = PyTorchPiecesTests.Tensors

    @Test func oneStepMatchesPyTorch() throws {
        let t = try PyTorchPiecesTests.load("step.safetensors")
        func group(_ prefix: String) -> Tensors {
            var out: Tensors = [:]
            for (k, v) in t where k.hasPrefix(prefix) { out[String(k.dropFirst(prefix.count))] = v }
            return out
        }
        let layers = [4, 8, 12, 13]
        let gA = try ResnetGenerator<Float>(ngf: 4, blocks: 2, values: group("before.G_A."))
        let gB = try ResnetGenerator<Float>(ngf: 4, blocks: 2, values: group("before.G_B."))
        let dA = try PatchDiscriminator<Float>(ndf: 4, values: group("before.D_A."))
        let dB = try PatchDiscriminator<Float>(ndf: 4, values: group("before.D_B."))
        let f1 = try layers.indices.map { l throws(TrainingError) in try PatchMLP<Float>(prefix: "\(l).", values: group("before.F1.")) }
        let f2 = try layers.indices.map { l throws(TrainingError) in try PatchMLP<Float>(prefix: "\(l).", values: group("before.F2.")) }
        var options = ObjectiveOptions()
        options.nceLayers = layers
        options.patches = 16
        let model = DCDGAN(generatorA: gA, generatorB: gB, discriminatorA: dA, discriminatorB: dB, f1: f1, f2: f2, options: options)
        model.recordGradients = true
        func image(_ key: String) -> Variable<Float> { Variable(shape: t[key]!.shape, values: t[key]!.values) }
        let ids1 = layers.indices.map { l in t["ids1.\(l)"]!.values.map { Int($0) } }
        let ids2 = layers.indices.map { l in t["ids2.\(l)"]!.values.map { Int($0) } }
        let losses = model.step(realA: image("real_A"), realB: image("real_B"), ids1: ids1, ids2: ids2)

        for (name, ours) in [("D_A", losses.discriminatorA), ("D_B", losses.discriminatorB), ("gan_A", losses.ganA), ("gan_B", losses.ganB),
                             ("nce1", losses.nce1), ("nce2", losses.nce2), ("idt_A", losses.identityA), ("idt_B", losses.identityB),
                             ("G", losses.generator)] {
            let theirs = Double(t["loss." + name]!.values[0])
            #expect(abs(ours - theirs) <= 1e-4 * max(abs(theirs), 1), "loss \(name): ours \(ours), PyTorch \(theirs)")
        }

        var compared = 0, zeroBiases = 0
        let all = model.namedDiscriminatorParameters + model.namedGeneratorParameters + model.namedProjectionParameters
        for (name, parameter) in all {
            let grad = model.gradients[name]!, expectedGrad = t["grad." + name]!.values
            let after = parameter.values, expectedAfter = t["after." + name]!.values, before = t["before." + name]!.values
            if Self.feedsInstanceNorm(name) {
                let weightGrad = t["grad." + name.dropLast("bias".count) + "weight"]!.values.map { abs($0) }.max()!
                #expect((grad + expectedGrad).allSatisfy { abs($0) <= 1e-4 * weightGrad }, "\(name): gradient not ~0")
                #expect(zip(after, before).allSatisfy { abs($0 - $1) <= 1e-4 * 1.001 + 1e-6 }, "\(name): moved more than lr")
                zeroBiases += 1
                continue
            }
            let gradScale = expectedGrad.map { abs($0) }.max()!
            let gradError = zip(grad, expectedGrad).map { abs($0 - $1) }.max()!
            #expect(gradError <= 1e-4 * gradScale, "\(name): gradient max |ours - PyTorch| = \(gradError), scale \(gradScale)")
            let scale = expectedAfter.map { abs($0) }.max()!
            let error = zip(after, expectedAfter).map { abs($0 - $1) }.max()!
            #expect(error <= 1e-4 * scale, "\(name): after the step max |ours - PyTorch| = \(error), scale \(scale)")
            compared += 1
        }
        #expect(compared + zeroBiases == all.count && zeroBiases > 0)
    }

    /// Biases of convolutions whose output only an InstanceNorm sees: every generator
    /// convolution but the last (model.(21 + blocks)) and those whose raw output is an NCE
    /// feature (model.4, model.8: PatchNCE reads them before the norm), and the discriminator's
    /// model.3, model.7, model.11.
    static func feedsInstanceNorm(_ name: String) -> Bool {
        guard name.hasSuffix(".bias") else { return false }
        if name.hasPrefix("D_") { return ["model.3.bias", "model.7.bias", "model.11.bias"].contains { name.hasSuffix("." + $0) } }
        if name.hasPrefix("G_") { return !["model.23.bias", "model.4.bias", "model.8.bias"].contains { name.hasSuffix("." + $0) } }
        return false
    }
}
