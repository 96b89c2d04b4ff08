import Testing
import DCDRuntime

struct ShapeInferenceTests {
    static let arch = GeneratorArchitecture(ngf: 0, blockCount: 0, noAntialias: false, noAntialiasUp: false)

    static func program(_ ops: [ModelOp], _ tensors: [ModelTensor]) -> ModelProgram {
        ModelProgram(architecture: arch, sizeMultiple: 4, ops: ops, tensors: tensors)
    }

    @Test func reflectPadTooLargeForInputIsAnInputError() throws {
        let p = Self.program([.pad(0, .reflect, top: 3, bottom: 3, left: 3, right: 3)], [])
        #expect(throws: RuntimeError.self) { try p.inferShapes(height: 3, width: 10) }
        #expect(try p.inferShapes(height: 4, width: 4).last == FeatureShape(channels: 3, height: 10, width: 10))
    }

    @Test func blurUpsampleDoublesExactly() throws {
        let filt = ModelTensor(name: "filt", dims: [3, 1, 4, 4], values: [Float](repeating: 0.1, count: 48))
        let p = Self.program([.pad(0, .replicate, top: 1, bottom: 1, left: 1, right: 1),
                              .depthwiseConvTranspose2d(1, weight: 0, stride: 2, padding: 2),
                              .crop(2, top: 1, bottom: 1, left: 1, right: 1)], [filt])
        #expect(try p.inferShapes(height: 5, width: 7).last == FeatureShape(channels: 3, height: 10, width: 14))
    }

    @Test func referencesToLaterValuesAreRejected() {
        let p = Self.program([.relu(1), .relu(0)], [])
        #expect(throws: RuntimeError.self) { try p.validate() }
    }

    @Test func mismatchedWeightIsRejected() {
        let w = ModelTensor(name: "w", dims: [3, 4, 3, 3], values: [Float](repeating: 0, count: 108))
        let p = Self.program([.conv2d(0, weight: 0, bias: -1, stride: 1, padding: 1)], [w])
        #expect(throws: RuntimeError.self) { try p.validate() }
    }
}
