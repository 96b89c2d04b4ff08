import Testing
import DCDCompiler
import DCDImage
@testable import DCDTrain
import DCDTestSupport

/// The trainer's generator, built from the differentiable ops, against PyTorch's output of the
/// same checkpoint on the same image (tools/make_fixtures.py): the forward pass the gradients
/// are taken through is the reference network.
struct GeneratorForwardTests {
    @Test func matchesPyTorch() throws {
        let checkpoint = try Checkpoint(bytes: try Fixtures.bytes("aa_ngf8_b2.pth"))
        let state = try StateDict(checkpoint: checkpoint, network: "G_A")
        var values: [String: (shape: [Int], values: [Float])] = [:]
        for t in state.tensors { values[t.name] = (t.tensor.shape, t.tensor.values) }
        let generator = try ResnetGenerator<Float>(ngf: 8, blocks: 2, values: values)
        #expect(generator.parameterOrder.count == 2 * (3 + 2 * 2 + 3))

        // A 24x20 image (sides multiples of 4: the network itself, no product padding).
        let image = try PNGCodec.decode(try Fixtures.bytes("img_24x20.png"))
        let pixels = image.pixelTensor()
        let x = Variable<Float>(shape: [1, 3, image.height, image.width], values: pixels.storage.map { $0 / 255 * 2 - 1 })
        let out = generator.forward(x).output!
        #expect(out.shape == [1, 3, image.height, image.width])
        let expected = try NPYArray(bytes: try Fixtures.bytes("aa_ngf8_b2_multiple4.img_24x20.npy"))
        var worst: Float = 0
        let plane = image.height * image.width
        for p in 0..<plane {
            for c in 0..<3 { worst = max(worst, abs((out.values[c * plane + p] + 1) / 2 - expected.values[p * 3 + c])) }
        }
        #expect(worst <= Tolerance.floatPathVersusPyTorch, "max |trainer - PyTorch| = \(worst)")
    }

    @Test func missingOrMisshapenParametersAreNamed() {
        #expect(throws: TrainingError.self) { try ResnetGenerator<Float>(ngf: 4, blocks: 1, values: [:]) }
        var values: [String: (shape: [Int], values: [Float])] = [:]
        for (key, shape) in ResnetGenerator<Float>.parameterShapes(ngf: 4, blocks: 1) {
            values[key] = (shape, [Float](repeating: 0, count: shape.reduce(1, *)))
        }
        values["model.4.weight"] = ([1], [0])
        do {
            _ = try ResnetGenerator<Float>(ngf: 4, blocks: 1, values: values)
            Issue.record("a misshapen parameter was accepted")
        } catch {
            #expect(error.description.contains("model.4.weight"))
        }
    }
}
