/// Driving the int8 convolution kernel over a frame: the padded (or zero-inserted) input, row
/// bands and output-channel blocks, plus the plain reference the kernel is tested against.
enum Int8Convolution {
    /// int32 accumulators for output rows `rows` and channel blocks `blocks` (see
    /// `Int8ConvolutionKernel` for the output layout). `x` is the padded input; `output` holds
    /// rows from `firstRow` on (0: the whole plane).
    static func accumulate(_ x: InterleavedMap<Int8ConvolutionKernel.Input>, _ p: Int8PackedConvolution,
                           weights: UnsafePointer<Int8ConvolutionKernel.Weight>,
                           initial: UnsafePointer<Int32>, outputWidth: Int, rows: Range<Int>, blocks: Range<Int>,
                           into output: UnsafeMutablePointer<Int32>, firstRow: Int = 0) {
        typealias Kernel = Int8ConvolutionKernel
        if let layout = p.rowDot {
            Int8RowDotKernel.accumulate(x, layout, weights: weights, initial: initial, outputWidth: outputWidth, outputPixelStride: p.blocks * 16,
                                        rows: rows, into: output, firstRow: firstRow)
            return
        }
        let g = Kernel.Geometry(pixelStep: p.stride * x.channelStride, inputStride: x.channelStride, rowStride: x.rowBytes,
                                kernel: p.kernel, channels: x.channelStride, blockElements: p.blockElements,
                                outputPixelStride: p.blocks * 16)
        for oy in rows {
            let rowInput = UnsafePointer(x.base + oy * p.stride * x.rowBytes)  // elements
            let rowOutput = output + (oy - firstRow) * outputWidth * g.outputPixelStride
            var b = blocks.lowerBound
            while b < blocks.upperBound {
                let n = blockGroup(left: blocks.upperBound - b, tile: Kernel.blockTile)
                var ox = 0
                while ox < outputWidth {
                    let count = min(Kernel.pixelTile, outputWidth - ox)
                    Kernel.segment(count: count, blockCount: n, rowInput + ox * g.pixelStep, weights + b * p.blockElements,
                                   initial + 16 * b, rowOutput + ox * g.outputPixelStride + 16 * b, g)
                    ox += count
                }
                b += n
            }
        }
    }

    /// Blocks of 16 output channels one tile takes: 4, 2 or 1, at most `tile` (the kernel's
    /// blockTile) and at most the `left` blocks to do.
    @inline(__always)
    static func blockGroup(left: Int, tile: Int) -> Int {
        left >= 4 && tile >= 4 ? 4 : (left >= 2 && tile >= 2 ? 2 : 1)
    }

    /// The definition `accumulate` is tested against: plain loops over the unpacked weight
    /// (Cout, Cin, K, K) of the equivalent convolution and the same padded input.
    static func referenceAccumulate(_ x: InterleavedMap<Int8ConvolutionKernel.Input>, weight: [Int32], outputChannels cout: Int, kernel k: Int, stride: Int,
                                    initial: [Int32], outputHeight: Int, outputWidth: Int) -> [Int32] {
        let pixelStride = (cout + 15) / 16 * 16
        var out = [Int32](repeating: 0, count: outputHeight * outputWidth * pixelStride)
        for oy in 0..<outputHeight {
            for ox in 0..<outputWidth {
                for co in 0..<cout {
                    var acc = initial[co]
                    for ci in 0..<x.channels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let q = Int32(x.pixel(oy * stride + ky, ox * stride + kx)[ci])
                                acc = acc &+ weight[((co * x.channels + ci) * k + ky) * k + kx] &* q
                            }
                        }
                    }
                    out[(oy * outputWidth + ox) * pixelStride + co] = acc
                }
            }
        }
        return out
    }
}
