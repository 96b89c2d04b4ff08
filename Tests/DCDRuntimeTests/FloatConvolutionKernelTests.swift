import Testing
@testable import DCDRuntime
import DCDTestSupport

/// The tiled float convolution kernel (AVX-512, AVX2-FMA or portable, as built; all channel
/// blocks in one call, so that the 4- and 2-block tiles run) against a Double-precision
/// loop over the unpacked weights, over shapes that break the tiling.
///
/// Tolerance: a float32 sum of N products, in any order and with or without FMA, is within
/// gamma_N * sum |w_i x_i| of the exact sum, gamma_N = N u / (1 - N u), u = 2^-24 (Higham,
/// Accuracy and Stability of Numerical Algorithms, 3.1); plus half an ulp for the bias term.
struct FloatConvolutionKernelTests {
    @Test(arguments: Int8ConvolutionKernelTests.shapes)
    func matchesTheDoubleLoop(shape: Int8ConvolutionKernelTests.Shape) {
        var rng = SeededRandom(seed: UInt64(shape.cin * 977 + shape.cout * 7 + shape.k))
        let w = (0..<(shape.cout * shape.cin * shape.k * shape.k)).map { _ in rng.symmetric() }
        let bias = (0..<shape.cout).map { _ in rng.symmetric() * 3 }
        let weight = ModelTensor(name: "w", dims: [shape.cout, shape.cin, shape.k, shape.k], values: w)
        let packed = FloatPackedConvolution(weight: weight, transposed: false, stride: shape.stride, bias: bias)
        let inputShape = FeatureShape(channels: shape.cin, height: (shape.height - 1) * shape.stride + shape.k,
                                      width: (shape.width - 1) * shape.stride + shape.k)
        let count = InterleavedByteMap.byteCount(inputShape)
        // Slack past the map, as the executors allocate it (`RowDotLayout.slack`), holding NaN:
        // the row-dot kernel must not let it in.
        let input = UnsafeMutablePointer<Float>.allocate(capacity: count + RowDotLayout.slack)
        input.initialize(repeating: .nan, count: count + RowDotLayout.slack)
        defer { input.deallocate() }
        let map = InterleavedMap<Float>(base: input, shape: inputShape)
        // Padding channels are 0, as every writer of float maps leaves them.
        for i in 0..<count { input[i] = i % map.channelStride < shape.cin ? rng.symmetric() * 2 : 0 }
        let pixelStride = packed.blocks * 16
        let output = UnsafeMutablePointer<Float>.allocate(capacity: shape.height * shape.width * pixelStride)
        defer { output.deallocate() }
        packed.weights.withUnsafeBufferPointer { pw in
            packed.initial.withUnsafeBufferPointer { initial in
                FloatConvolution.accumulate(map, packed, weights: pw.baseAddress!, initial: initial.baseAddress!, outputWidth: shape.width,
                                            rows: 0..<shape.height, blocks: 0..<packed.blocks, into: output)
            }
        }
        let expected = FloatConvolution.referenceAccumulate(map, weight: w, outputChannels: shape.cout, kernel: shape.k, stride: shape.stride,
                                                            bias: bias, outputHeight: shape.height, outputWidth: shape.width)
        let n = Double(shape.cin * shape.k * shape.k + 1), u = 1.0 / Double(1 << 24)
        let gamma = n * u / (1 - n * u)
        var failures = 0
        for oy in 0..<shape.height {
            for ox in 0..<shape.width {
                for co in 0..<shape.cout {
                    var magnitude = abs(Double(bias[co]))
                    for ci in 0..<shape.cin {
                        for ky in 0..<shape.k {
                            for kx in 0..<shape.k {
                                let x = Double(map.pixel(oy * shape.stride + ky, ox * shape.stride + kx)[ci])
                                magnitude += abs(Double(w[((co * shape.cin + ci) * shape.k + ky) * shape.k + kx]) * x)
                            }
                        }
                    }
                    let i = (oy * shape.width + ox) * pixelStride + co
                    // The reference's own rounding to Float adds half an ulp of the result.
                    let bound = gamma * magnitude + Double(abs(expected[i])) * u
                    if abs(Double(output[i]) - Double(expected[i])) > bound { failures += 1 }
                }
            }
        }
        #expect(failures == 0, "\(shape) with the \(FloatConvolutionKernel.name) kernel")
    }
}
