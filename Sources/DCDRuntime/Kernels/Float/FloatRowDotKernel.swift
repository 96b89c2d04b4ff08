/// The float kernel for convolutions with few output channels (`RowDotLayout`): T output pixels
/// x 4 output channels of dot products over kernel-row runs, 16 floats per step, each
/// accumulator summed across its lanes at the end. Output layout as `FloatConvolutionKernel`
/// (`blocks * 16` floats per pixel; lanes past Cout are not written).
///
/// Portable Swift SIMD (16 lanes: one zmm with AVX-512, two ymm with AVX2, four q registers on
/// arm64), fused multiply-add where the target has it. T = 4 with AVX-512 (16 accumulators +
/// 4 weights + the input in 32 registers), else 2.
/// The last step of a run can reach past it (into the next pixels, or the buffer's slack): those
/// lanes meet zero weights and are zeroed first, so that no Inf or NaN there leaks in as 0 * Inf.
enum FloatRowDotKernel {
    static let chunk = 16
    #if arch(x86_64) && DCD_AVX512VNNI
    static let pixelTile = 4
    #else
    static let pixelTile = 2
    #endif

    @inline(__always)
    static func multiplyAdd(_ acc: SIMD16<Float>, _ x: SIMD16<Float>, _ w: SIMD16<Float>) -> SIMD16<Float> {
        #if arch(arm64) || (arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2))
        return acc.addingProduct(x, w)
        #else
        return acc + x * w
        #endif
    }

    struct Tile<let T: Int> {
        @inline(__always)
        static func run(_ input: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ initial: UnsafePointer<Float>,
                        _ output: UnsafeMutablePointer<Float>, _ g: Int8RowDotKernel.Geometry, lastValid: SIMDMask<SIMD16<Int32>>) {
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep &* 4 }
            let rowBytes = g.paddedRun &* 4, lastStep = rowBytes &- 64
            var acc = InlineArray<T, InlineArray<4, SIMD16<Float>>>(repeating: InlineArray<4, SIMD16<Float>>(repeating: .zero))
            for ky in 0..<g.kernel {
                let xr = UnsafeRawPointer(input + ky &* g.rowStride)
                let wr = UnsafeRawPointer(weights + ky &* RowDotLayout.outputs &* g.paddedRun)
                var step = 0
                while step <= lastStep {
                    var w = InlineArray<4, SIMD16<Float>>(repeating: .zero)
                    for o in 0..<4 { w[o] = wr.loadUnaligned(fromByteOffset: o &* rowBytes &+ step, as: SIMD16<Float>.self) }
                    for t in 0..<T {
                        var x = xr.loadUnaligned(fromByteOffset: offsets[t] &+ step, as: SIMD16<Float>.self)
                        if step == lastStep { x.replace(with: 0, where: .!lastValid) }
                        for o in 0..<4 { acc[t][o] = multiplyAdd(acc[t][o], x, w[o]) }
                    }
                    step &+= 64
                }
            }
            for t in 0..<T {
                for o in 0..<g.outputChannels { output[t &* g.outputPixelStride &+ o] = initial[o] + acc[t][o].sum() }
            }
        }
    }

    @inline(__always)
    static func segment(count: Int, _ input: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ initial: UnsafePointer<Float>,
                        _ output: UnsafeMutablePointer<Float>, _ g: Int8RowDotKernel.Geometry, _ lastValid: SIMDMask<SIMD16<Int32>>) {
        switch count {
        #if arch(x86_64) && DCD_AVX512VNNI
        case 4: Tile<4>.run(input, weights, initial, output, g, lastValid: lastValid)
        case 3: Tile<3>.run(input, weights, initial, output, g, lastValid: lastValid)
        #endif
        case 2: Tile<2>.run(input, weights, initial, output, g, lastValid: lastValid)
        default: Tile<1>.run(input, weights, initial, output, g, lastValid: lastValid)
        }
    }

    /// Sums for output rows `rows`, as `FloatConvolution.accumulate`.
    static func accumulate(_ x: InterleavedMap<Float>, _ layout: RowDotLayout, weights: UnsafePointer<Float>, initial: UnsafePointer<Float>,
                           outputWidth: Int, outputPixelStride: Int, rows: Range<Int>, into output: UnsafeMutablePointer<Float>) {
        let g = Int8RowDotKernel.Geometry(pixelStep: layout.stride * x.channelStride, rowStride: x.rowBytes, kernel: layout.kernel,
                                          paddedRun: layout.paddedRun, outputChannels: layout.outputChannels, outputPixelStride: outputPixelStride)
        // Lanes of the last step that are still inside the run.
        let valid = layout.run - (layout.paddedRun - chunk)
        let lastValid = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .< SIMD16(repeating: Int32(valid))
        for oy in rows {
            let rowInput = UnsafePointer(x.base + oy * layout.stride * x.rowBytes)
            let rowOutput = output + oy * outputWidth * outputPixelStride
            var ox = 0
            while ox < outputWidth {
                let count = min(pixelTile, outputWidth - ox)
                segment(count: count, rowInput + ox * g.pixelStep, weights, initial, rowOutput + ox * outputPixelStride, g, lastValid)
                ox += count
            }
        }
    }
}
