#if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
import _Builtin_intrinsics.intel
#endif

/// The float convolution kernel: sums of w * x over an already padded interleaved float input,
/// register-blocked T output pixels x G blocks of 16 output channels, the same structure as
/// `Int8ConvolutionKernel` (output layout included: `blocks * 16` floats per pixel).
///
/// - AVX-512 (`DCD_AVX512VNNI` builds, whose targets all have AVX-512F): per input channel, G zmm
///   weight loads and T broadcasts feed T * G vfmadd231ps. T = 6, G = 4: 24 accumulators + 4
///   weights + broadcast = 29 of the 32 zmm registers.
/// - AVX2 + FMA (`DCD_AVX2` builds): per input channel, 2 ymm weight loads and T broadcasts feed
///   2T vfmadd231ps. T = 6, G = 1: 12 accumulators + 2 weights + broadcast = 15 ymm.
/// - portable Swift SIMD: a 16-lane weight vector times a broadcast value, T = 4
///   (`addingProduct`, a fused multiply-add, on arm64, where FMA is part of the base ISA).
/// `FloatConvolution.referenceAccumulate` is the plain loop both are tested against.
enum FloatConvolutionKernel {
    #if arch(x86_64) && DCD_AVX512VNNI
    static let pixelTile = 6, blockTile = 4
    static let name = "avx512"
    #elseif arch(x86_64) && DCD_AVX2
    static let pixelTile = 6, blockTile = 1
    static let name = "avx2-fma"
    #else
    static let pixelTile = 4, blockTile = 1
    static let name = "portable"
    #endif

    struct Tile<let T: Int, let G: Int> {
        @inline(__always)
        static func run(_ input: UnsafePointer<Float>, _ weights: UnsafePointer<Float>, _ initial: UnsafePointer<Float>,
                        _ output: UnsafeMutablePointer<Float>, _ g: Int8ConvolutionKernel.Geometry) {
            // Byte offsets of the tile's pixels; wrapping arithmetic: no overflow checks in the loop.
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep &* 4 }
            #if arch(x86_64) && DCD_AVX512VNNI
            var acc = InlineArray<G, InlineArray<T, __m512>>(repeating: InlineArray<T, __m512>(repeating: __m512()))
            for b in 0..<G {
                let start = UnsafeRawPointer(initial + 16 * b).loadUnaligned(as: __m512.self)
                for t in 0..<T { acc[b][t] = start }
            }
            var wp = UnsafeRawPointer(weights)
            let blockBytes = g.blockElements &* 4
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<g.channels {
                        var w = InlineArray<G, __m512>(repeating: __m512())
                        for b in 0..<G { w[b] = wp.loadUnaligned(fromByteOffset: b &* blockBytes, as: __m512.self) }
                        for t in 0..<T {
                            let x = _mm512_set1_ps(xp.loadUnaligned(fromByteOffset: offsets[t], as: Float.self))
                            for b in 0..<G { acc[b][t] = _mm512_fmadd_ps(x, w[b], acc[b][t]) }
                        }
                        wp += 64
                        xp += 4
                    }
                }
            }
            for b in 0..<G {
                for t in 0..<T {
                    UnsafeMutableRawPointer(output + t * g.outputPixelStride + 16 * b).storeBytes(of: acc[b][t], as: __m512.self)
                }
            }
            #elseif arch(x86_64) && DCD_AVX2
            // G is 1 (blockTile): lanes 0-7 in acc[t][0], 8-15 in acc[t][1].
            var acc = InlineArray<T, InlineArray<2, __m256>>(repeating: InlineArray<2, __m256>(repeating: __m256()))
            let start0 = UnsafeRawPointer(initial).loadUnaligned(as: __m256.self)
            let start1 = UnsafeRawPointer(initial + 8).loadUnaligned(as: __m256.self)
            for t in 0..<T { acc[t][0] = start0; acc[t][1] = start1 }
            var wp = UnsafeRawPointer(weights)
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<g.channels {
                        let w0 = wp.loadUnaligned(as: __m256.self), w1 = wp.loadUnaligned(fromByteOffset: 32, as: __m256.self)
                        for t in 0..<T {
                            let x = _mm256_set1_ps(xp.loadUnaligned(fromByteOffset: offsets[t], as: Float.self))
                            acc[t][0] = _mm256_fmadd_ps(x, w0, acc[t][0])
                            acc[t][1] = _mm256_fmadd_ps(x, w1, acc[t][1])
                        }
                        wp += 64
                        xp += 4
                    }
                }
            }
            for t in 0..<T {
                UnsafeMutableRawPointer(output + t * g.outputPixelStride).storeBytes(of: acc[t][0], as: __m256.self)
                UnsafeMutableRawPointer(output + t * g.outputPixelStride + 8).storeBytes(of: acc[t][1], as: __m256.self)
            }
            #else
            var acc = InlineArray<T, SIMD16<Float>>(repeating: UnsafeRawPointer(initial).loadUnaligned(as: SIMD16<Float>.self))
            var wp = UnsafeRawPointer(weights)
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<g.channels {
                        let w = wp.loadUnaligned(as: SIMD16<Float>.self)
                        for t in 0..<T {
                            let x = xp.loadUnaligned(fromByteOffset: offsets[t], as: Float.self)
                            #if arch(arm64)
                            acc[t] = acc[t].addingProduct(w, x)
                            #else
                            acc[t] += w * x
                            #endif
                        }
                        wp += 64
                        xp += 4
                    }
                }
            }
            for t in 0..<T {
                UnsafeMutableRawPointer(output + t * g.outputPixelStride).storeBytes(of: acc[t], as: SIMD16<Float>.self)
            }
            #endif
        }
    }

    /// A row segment of `count` pixels (1...pixelTile) for `blockCount` blocks (4, 2 or 1 with
    /// AVX-512, else 1): dispatches to the tile specialised for that size.
    @inline(__always)
    static func segment(count: Int, blockCount: Int, _ input: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                        _ initial: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ g: Int8ConvolutionKernel.Geometry) {
        switch blockCount {
        #if arch(x86_64) && DCD_AVX512VNNI
        case 4: segment(InlineArray<4, Int>.self, count: count, input, weights, initial, output, g)
        case 2: segment(InlineArray<2, Int>.self, count: count, input, weights, initial, output, g)
        #endif
        default: segment(InlineArray<1, Int>.self, count: count, input, weights, initial, output, g)
        }
    }

    @inline(__always)
    static func segment<let G: Int>(_: InlineArray<G, Int>.Type, count: Int, _ input: UnsafePointer<Float>, _ weights: UnsafePointer<Float>,
                                    _ initial: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ g: Int8ConvolutionKernel.Geometry) {
        switch count {
        #if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
        case 6: Tile<6, G>.run(input, weights, initial, output, g)
        case 5: Tile<5, G>.run(input, weights, initial, output, g)
        #endif
        case 4: Tile<4, G>.run(input, weights, initial, output, g)
        case 3: Tile<3, G>.run(input, weights, initial, output, g)
        case 2: Tile<2, G>.run(input, weights, initial, output, g)
        default: Tile<1, G>.run(input, weights, initial, output, g)
        }
    }
}

enum FloatConvolution {
    /// Sums for output rows `rows`, channel blocks `blocks`; `x` is the padded input.
    static func accumulate(_ x: InterleavedMap<Float>, _ p: FloatPackedConvolution, weights: UnsafePointer<Float>,
                           initial: UnsafePointer<Float>, outputWidth: Int, rows: Range<Int>, blocks: Range<Int>,
                           into output: UnsafeMutablePointer<Float>) {
        if let layout = p.rowDot {
            FloatRowDotKernel.accumulate(x, layout, weights: weights, initial: initial, outputWidth: outputWidth, outputPixelStride: p.blocks * 16,
                                         rows: rows, into: output)
            return
        }
        let g = Int8ConvolutionKernel.Geometry(pixelStep: p.stride * x.channelStride, inputStride: x.channelStride, rowStride: x.rowBytes,
                                               kernel: p.kernel, channels: x.channelStride, blockElements: p.blockElements,
                                               outputPixelStride: p.blocks * 16)
        for oy in rows {
            let rowInput = UnsafePointer(x.base + oy * p.stride * x.rowBytes)
            let rowOutput = output + oy * outputWidth * g.outputPixelStride
            var b = blocks.lowerBound
            while b < blocks.upperBound {
                let n = Int8Convolution.blockGroup(left: blocks.upperBound - b, tile: FloatConvolutionKernel.blockTile)
                var ox = 0
                while ox < outputWidth {
                    let count = min(FloatConvolutionKernel.pixelTile, outputWidth - ox)
                    FloatConvolutionKernel.segment(count: count, blockCount: n, rowInput + ox * g.pixelStep, weights + b * p.blockElements,
                                                   initial + 16 * b, rowOutput + ox * g.outputPixelStride + 16 * b, g)
                    ox += count
                }
                b += n
            }
        }
    }

    /// The plain loop `accumulate` is tested against (Double sums of the unpacked weight).
    static func referenceAccumulate(_ x: InterleavedMap<Float>, weight: [Float], outputChannels cout: Int, kernel k: Int, stride: Int,
                                    bias: [Float], outputHeight: Int, outputWidth: Int) -> [Float] {
        let pixelStride = (cout + 15) / 16 * 16
        var out = [Float](repeating: 0, count: outputHeight * outputWidth * pixelStride)
        for oy in 0..<outputHeight {
            for ox in 0..<outputWidth {
                for co in 0..<cout {
                    var acc = Double(bias[co])
                    for ci in 0..<x.channels {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                acc += Double(weight[((co * x.channels + ci) * k + ky) * k + kx]) * Double(x.pixel(oy * stride + ky, ox * stride + kx)[ci])
                            }
                        }
                    }
                    out[(oy * outputWidth + ox) * pixelStride + co] = Float(acc)
                }
            }
        }
        return out
    }
}
