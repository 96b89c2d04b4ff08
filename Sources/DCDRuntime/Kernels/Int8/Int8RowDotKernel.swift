#if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
import _Builtin_intrinsics.intel
#elseif arch(arm64) && DCD_NEON_DOTPROD
import _Builtin_intrinsics.arm.neon
#endif

/// The int8 kernel for convolutions with few output channels (`RowDotLayout`): T output pixels
/// x 4 output channels of dot products over kernel-row runs, `chunk` input elements per step,
/// each accumulator summed across its lanes at the end. Same input, weight element types and
/// output layout as `Int8ConvolutionKernel` (int32, `blocks * 16` per pixel; lanes past Cout
/// are not written).
/// - AVX-512 VNNI: 64 bytes per step, vpdpbusd (each int32 lane: 4 u8 * s8 products); T = 4:
///   16 accumulators + 4 weights + the input.
/// - AVX2: 16 int16 per step, vpmaddwd + vpaddd; T = 2: 8 accumulators + 4 weights + the input.
/// - NEON dot product: 16 signed bytes (code - 128) per step, sdot (4 lanes of 4 products); T = 2.
/// - portable: 16 bytes per step widened to 16 int32 lanes; T = 2.
enum Int8RowDotKernel {
    typealias Input = Int8ConvolutionKernel.Input
    typealias Weight = Int8ConvolutionKernel.Weight
    #if arch(x86_64) && DCD_AVX512VNNI
    static let chunk = 64, pixelTile = 4
    #else
    static let chunk = 16, pixelTile = 2
    #endif

    struct Geometry {
        /// Elements between horizontally adjacent output pixels' runs (stride * cp), between rows.
        var pixelStep: Int
        var rowStride: Int
        var kernel: Int
        /// Elements of a padded weight row (a multiple of `chunk`).
        var paddedRun: Int
        var outputChannels: Int
        var outputPixelStride: Int
    }

    struct Tile<let T: Int> {
        @inline(__always)
        static func run(_ input: UnsafePointer<Input>, _ weights: UnsafePointer<Weight>, _ initial: UnsafePointer<Int32>,
                        _ output: UnsafeMutablePointer<Int32>, _ g: Geometry) {
            let outputs = RowDotLayout.outputs
            let size = MemoryLayout<Input>.stride
            // Byte offsets of the tile's pixels; wrapping arithmetic: no overflow checks in the loop.
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep &* size }
            let chunkBytes = chunk &* size, rowBytes = g.paddedRun &* size
            #if arch(x86_64) && DCD_AVX512VNNI
            typealias Vector = __m512i
            #elseif arch(x86_64) && DCD_AVX2
            typealias Vector = __m256i
            #elseif arch(arm64) && DCD_NEON_DOTPROD
            typealias Vector = int32x4_t
            #else
            typealias Vector = SIMD16<Int32>
            #endif
            var acc = InlineArray<T, InlineArray<4, Vector>>(repeating: InlineArray<4, Vector>(repeating: Vector()))
            for ky in 0..<g.kernel {
                let xr = UnsafeRawPointer(input + ky &* g.rowStride)
                let wr = UnsafeRawPointer(weights + ky &* outputs &* g.paddedRun)
                var step = 0
                while step < rowBytes {
                    #if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
                    var w = InlineArray<4, Vector>(repeating: Vector())
                    for o in 0..<4 { w[o] = wr.loadUnaligned(fromByteOffset: o &* rowBytes &+ step, as: Vector.self) }
                    for t in 0..<T {
                        let x = xr.loadUnaligned(fromByteOffset: offsets[t] &+ step, as: Vector.self)
                        for o in 0..<4 {
                            #if DCD_AVX512VNNI
                            acc[t][o] = _mm512_dpbusd_epi32(acc[t][o], x, w[o])
                            #else
                            acc[t][o] = _mm256_add_epi32(acc[t][o], _mm256_madd_epi16(x, w[o]))
                            #endif
                        }
                    }
                    #elseif arch(arm64) && DCD_NEON_DOTPROD
                    var w = InlineArray<4, int8x16_t>(repeating: int8x16_t())
                    for o in 0..<4 { w[o] = wr.loadUnaligned(fromByteOffset: o &* rowBytes &+ step, as: int8x16_t.self) }
                    for t in 0..<T {
                        let x = xr.loadUnaligned(fromByteOffset: offsets[t] &+ step, as: int8x16_t.self)
                        for o in 0..<4 { acc[t][o] = vdotq_s32(acc[t][o], x, w[o]) }
                    }
                    #else
                    var w = InlineArray<4, Vector>(repeating: Vector())
                    for o in 0..<4 {
                        w[o] = SIMD16<Int32>(truncatingIfNeeded: wr.loadUnaligned(fromByteOffset: o &* rowBytes &+ step, as: SIMD16<Int8>.self))
                    }
                    for t in 0..<T {
                        let x = SIMD16<Int32>(truncatingIfNeeded: xr.loadUnaligned(fromByteOffset: offsets[t] &+ step, as: SIMD16<Input>.self))
                        for o in 0..<4 { acc[t][o] &+= x &* w[o] }
                    }
                    #endif
                    step &+= chunkBytes
                }
            }
            for t in 0..<T {
                for o in 0..<g.outputChannels {
                    #if arch(x86_64) && DCD_AVX512VNNI
                    let sum = unsafeBitCast(acc[t][o], to: SIMD16<Int32>.self).wrappedSum()
                    #elseif arch(x86_64) && DCD_AVX2
                    let sum = unsafeBitCast(acc[t][o], to: SIMD8<Int32>.self).wrappedSum()
                    #elseif arch(arm64) && DCD_NEON_DOTPROD
                    let sum = acc[t][o].wrappedSum()
                    #else
                    let sum = acc[t][o].wrappedSum()
                    #endif
                    output[t &* g.outputPixelStride &+ o] = initial[o] &+ sum
                }
            }
        }
    }

    @inline(__always)
    static func segment(count: Int, _ input: UnsafePointer<Input>, _ weights: UnsafePointer<Weight>, _ initial: UnsafePointer<Int32>,
                        _ output: UnsafeMutablePointer<Int32>, _ g: Geometry) {
        switch count {
        #if arch(x86_64) && DCD_AVX512VNNI
        case 4: Tile<4>.run(input, weights, initial, output, g)
        case 3: Tile<3>.run(input, weights, initial, output, g)
        #endif
        case 2: Tile<2>.run(input, weights, initial, output, g)
        default: Tile<1>.run(input, weights, initial, output, g)
        }
    }

    /// Sums for output rows `rows` (output holds rows from `firstRow` on), as
    /// `Int8Convolution.accumulate`.
    static func accumulate(_ x: InterleavedMap<Input>, _ layout: RowDotLayout, weights: UnsafePointer<Weight>, initial: UnsafePointer<Int32>,
                           outputWidth: Int, outputPixelStride: Int, rows: Range<Int>, into output: UnsafeMutablePointer<Int32>, firstRow: Int) {
        let g = Geometry(pixelStep: layout.stride * x.channelStride, rowStride: x.rowBytes, kernel: layout.kernel,
                         paddedRun: layout.paddedRun, outputChannels: layout.outputChannels, outputPixelStride: outputPixelStride)
        for oy in rows {
            let rowInput = UnsafePointer(x.base + oy * layout.stride * x.rowBytes)
            let rowOutput = output + (oy - firstRow) * outputWidth * outputPixelStride
            var ox = 0
            while ox < outputWidth {
                let count = min(pixelTile, outputWidth - ox)
                segment(count: count, rowInput + ox * g.pixelStep, weights, initial, rowOutput + ox * outputPixelStride, g)
                ox += count
            }
        }
    }
}
