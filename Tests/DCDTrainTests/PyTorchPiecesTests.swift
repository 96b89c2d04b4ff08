import Testing
import DCDCompiler
@testable import DCDTrain
import DCDTestSupport

/// The trainer's discriminator, PatchSampleF + PatchNCE and Adam against PyTorch
/// (tools/make_train_fixtures.py): outputs, losses, every gradient, optimizer steps.
///
/// Tolerance: relative 1e-4 of each tensor's largest magnitude (the figure for
/// gradients). Float32 sums in another order differ by ~1e-6 relative per sum and a backward
/// pass compounds a few dozen of them; an error in a formula is O(1).
struct PyTorchPiecesTests {
    typealias Tensors = [String: (shape: [Int], values: [Float])]

    static func load(_ name: String) throws -> Tensors {
        let checkpoint = try Checkpoint(bytes: try Fixtures.bytes("train/" + name))
        var out: Tensors = [:]
        for t in checkpoint.tensors { out[t.name] = (t.tensor.shape, t.tensor.values) }
        return out
    }

    static func expectClose(_ ours: [Float], _ theirs: [Float], _ what: String) {
        #expect(ours.count == theirs.count, "\(what): \(ours.count) values, PyTorch \(theirs.count)")
        let scale = max(theirs.map { abs($0) }.max() ?? 0, 1e-12)
        let worst = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-4 * scale, "\(what): max |ours - PyTorch| = \(worst), scale \(scale)")
    }

    @Test func discriminatorForwardAndGradients() throws {
        let t = try Self.load("discriminator.safetensors")
        let d = try PatchDiscriminator<Float>(ndf: 4, values: t)
        let input = t["input"]!
        let x = Variable(shape: input.shape, values: input.values, requiresGrad: true)
        let y = d.forward(x)
        #expect(y.shape == t["output"]!.shape)
        Self.expectClose(y.values, t["output"]!.values, "D output")
        Ops.weightedSum(y, t["probe"]!.values).backward()
        Self.expectClose(x.gradient, t["grad.input"]!.values, "d/d input")
        for key in d.parameterOrder {
            let ours = d.parameters[key]!.gradient, theirs = t["grad." + key]!.values
            if ["model.3.bias", "model.7.bias", "model.11.bias"].contains(key) {
                // A bias right before InstanceNorm: the norm subtracts the plane's mean, so its
                // gradient is exactly 0; both sides hold float rounding of a zero sum. Check
                // that both are zero relative to the layer's weight gradient.
                let scale = t["grad." + key.dropLast("bias".count) + "weight"]!.values.map { abs($0) }.max()!
                #expect((ours + theirs).allSatisfy { abs($0) <= 1e-4 * scale }, "d/d \(key): not ~0 against \(scale)")
            } else {
                Self.expectClose(ours, theirs, "d/d \(key)")
            }
        }
    }

    @Test func patchNCELossAndGradients() throws {
        let t = try Self.load("patch_nce.safetensors")
        let fq = Variable(shape: t["query_features"]!.shape, values: t["query_features"]!.values, requiresGrad: true)
        let fk = Variable(shape: t["key_features"]!.shape, values: t["key_features"]!.values, requiresGrad: true)
        let ids = t["ids"]!.values.map { Int($0) }
        let mlpQ = try PatchMLP<Float>(prefix: "mlp_q.", values: t), mlpK = try PatchMLP<Float>(prefix: "mlp_k.", values: t)
        let loss = PatchNCE.loss(query: mlpQ.sample(fq, ids: ids), key: mlpK.sample(fk, ids: ids))
        Self.expectClose(loss.values, t["loss"]!.values, "PatchNCE loss")
        loss.backward()
        Self.expectClose(fq.gradient, t["grad.query_features"]!.values, "d/d query features")
        for (p, key) in zip(mlpQ.parameters, ["0.weight", "0.bias", "2.weight", "2.bias"]) {
            Self.expectClose(p.gradient, t["grad.mlp_q." + key]!.values, "d/d mlp_q.\(key)")
        }
        // The keys are detached: nothing reaches their side.
        #expect(fk.grad == nil && mlpK.parameters.allSatisfy { $0.grad == nil })
    }

    @Test func adamStepsMatchTorch() throws {
        let t = try Self.load("adam.safetensors")
        for (name, lr, b1) in [("gd", Float(1e-4), Float(0.5)), ("f", Float(1e-3), Float(0.9))] {
            let p = Variable(shape: [13], values: t[name + ".start"]!.values, requiresGrad: true)
            let adam = Adam([p], learningRate: lr, beta1: b1, beta2: 0.999)
            for step in 0..<2 {
                adam.zeroGradients()
                p.accumulate(t["\(name).grad\(step)"]!.values)
                adam.update()
                // Parameters after a step: relative to the step's size (lr), not to |p|.
                let expected = t["\(name).after\(step)"]!.values
                let worst = zip(p.values, expected).map { abs($0 - $1) }.max()!
                #expect(worst <= 1e-3 * lr, "\(name) step \(step + 1): max |ours - torch| = \(worst)")
            }
        }
    }
}

/// The linear schedule against the reference's lambda_rule for LambdaLR
/// (1 - max(0, epoch + epoch_count - n_epochs) / (n_epochs_decay + 1), epoch_count = 1), one
/// epoch per step: n_epochs = 3, n_epochs_decay = 4 gives 1, 1, 1, 0.8, 0.6, 0.4, 0.2.
struct LearningRateScheduleTests {
    @Test func linearDecayAsTheReference() {
        let schedule = LearningRateSchedule(constantSteps: 3, decaySteps: 4)
        let factors = (0..<7).map { schedule.factor(step: $0) }
        let expected = [1, 1, 1, 0.8, 0.6, 0.4, 0.2]
        #expect(zip(factors, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(factors)")
    }
}
