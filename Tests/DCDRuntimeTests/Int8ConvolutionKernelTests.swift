import Testing
@testable import DCDRuntime
import DCDTestSupport

/// The tiled int8 convolution kernel (whichever this build selected: portable, AVX2 or AVX-512
/// VNNI) against its plain reference loop, bit for bit, over shapes that break the tiling:
/// widths that leave every remainder of the pixel tile, 1-pixel-wide maps, channel counts that
/// are not multiples of 4 or 16, kernels 1, 3 and 7, strides 1 and 2.
struct Int8ConvolutionKernelTests {
    struct Shape: CustomStringConvertible, Sendable {
        var cin: Int, cout: Int, k: Int, stride: Int, height: Int, width: Int
        var description: String { "\(cin)->\(cout) k\(k) s\(stride) \(width)x\(height)" }
    }

    static let shapes: [Shape] = [
        Shape(cin: 3, cout: 64, k: 7, stride: 1, height: 5, width: 13),
        Shape(cin: 64, cout: 3, k: 7, stride: 1, height: 3, width: 7),
        Shape(cin: 5, cout: 17, k: 3, stride: 1, height: 4, width: 1),
        Shape(cin: 1, cout: 1, k: 1, stride: 1, height: 1, width: 1),
        Shape(cin: 16, cout: 32, k: 3, stride: 2, height: 3, width: 11),
        Shape(cin: 13, cout: 70, k: 3, stride: 1, height: 2, width: 19),
        Shape(cin: 33, cout: 48, k: 3, stride: 2, height: 5, width: 6),
        Shape(cin: 64, cout: 80, k: 3, stride: 1, height: 3, width: 25),
        Shape(cin: 8, cout: 16, k: 1, stride: 1, height: 2, width: 2),
        // At most 4 output channels: the row-dot kernel (`RowDotLayout`), runs that are and are
        // not a multiple of its chunk, every remainder of its pixel tile.
        Shape(cin: 16, cout: 3, k: 7, stride: 1, height: 2, width: 9),
        Shape(cin: 5, cout: 2, k: 3, stride: 2, height: 3, width: 5),
        Shape(cin: 64, cout: 4, k: 3, stride: 1, height: 1, width: 7),
        Shape(cin: 130, cout: 3, k: 1, stride: 1, height: 2, width: 3),
    ]

    @Test(arguments: shapes)
    func matchesTheReferenceLoop(shape: Shape) {
        var rng = SeededRandom(seed: UInt64(shape.cin * 1000 + shape.cout * 10 + shape.k))
        let w = (0..<(shape.cout * shape.cin * shape.k * shape.k)).map { _ in Int32((rng.symmetric() * 127).rounded()) }
        let bias = (0..<shape.cout).map { _ in Int32((rng.symmetric() * 100_000).rounded()) }
        let weight = ModelTensor(name: "w", dims: [shape.cout, shape.cin, shape.k, shape.k], type: .int8, integers: w)
        let zIn: Int32 = 37
        let packed = Int8PackedConvolution(weight: weight, transposed: false, stride: shape.stride, bias: bias, zIn: zIn)
        let inputShape = FeatureShape(channels: shape.cin, height: (shape.height - 1) * shape.stride + shape.k,
                                      width: (shape.width - 1) * shape.stride + shape.k)
        let count = InterleavedByteMap.byteCount(inputShape)
        // Slack past the map, as the executors allocate it (`RowDotLayout.slack`): garbage.
        let input = UnsafeMutablePointer<Int8ConvolutionKernel.Input>.allocate(capacity: count + RowDotLayout.slack)
        input.initialize(repeating: Int8ConvolutionKernel.input(211), count: count + RowDotLayout.slack)
        defer { input.deallocate() }
        let map = InterleavedMap<Int8ConvolutionKernel.Input>(base: input, shape: inputShape)
        // Codes 0...255 in real channels (255 and 0 included: the extremes of u8 * s8); padding
        // channels hold garbage that zero weights must cancel.
        for i in 0..<count {
            let c = i % map.channelStride
            let v: Int = c < shape.cin ? (i % 7 == 0 ? 255 : (i % 11 == 0 ? 0 : Int((rng.symmetric() + 1) * 127.5))) : 200
            input[i] = Int8ConvolutionKernel.input(UInt8(v))
        }
        let pixelStride = packed.blocks * 16
        let output = UnsafeMutablePointer<Int32>.allocate(capacity: shape.height * shape.width * pixelStride)
        defer { output.deallocate() }
        output.initialize(repeating: 0, count: shape.height * shape.width * pixelStride)
        packed.weights.withUnsafeBufferPointer { pw in
            packed.initial.withUnsafeBufferPointer { initial in
                // Two calls over split rows and blocks: the executor's task split.
                let half = shape.height / 2
                Int8Convolution.accumulate(map, packed, weights: pw.baseAddress!, initial: initial.baseAddress!, outputWidth: shape.width,
                                           rows: 0..<half, blocks: 0..<packed.blocks, into: output)
                Int8Convolution.accumulate(map, packed, weights: pw.baseAddress!, initial: initial.baseAddress!, outputWidth: shape.width,
                                           rows: half..<shape.height, blocks: 0..<packed.blocks, into: output)
            }
        }
        let expected = Int8Convolution.referenceAccumulate(map, weight: w, outputChannels: shape.cout, kernel: shape.k, stride: shape.stride,
                                                           initial: packed.initial, outputHeight: shape.height, outputWidth: shape.width)
        var mismatches = 0
        for p in 0..<(shape.height * shape.width) {
            for c in 0..<shape.cout where output[p * pixelStride + c] != expected[p * pixelStride + c] { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(shape) with the \(Int8ConvolutionKernel.name) kernel")
        // The reference's initial value is bias - zIn * sum(w): check it against the definition.
        for co in 0..<shape.cout {
            let sum = (0..<(shape.cin * shape.k * shape.k)).reduce(Int32(0)) { $0 + w[co * shape.cin * shape.k * shape.k + $1] }
            #expect(packed.initial[co] == bias[co] - (zIn - Int8ConvolutionKernel.zeroShift) * sum)
        }
    }
}
