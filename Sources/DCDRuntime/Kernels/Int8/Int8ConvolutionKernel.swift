#if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
import _Builtin_intrinsics.intel
#elseif arch(arm64) && DCD_NEON_DOTPROD
import _Builtin_intrinsics.arm.neon
#endif

/// The int8 convolution kernel: int32 accumulators of sum w * q over an already padded
/// interleaved input, register-blocked T output pixels x G blocks of 16 output channels.
///
/// Output: int32, pixel-interleaved, `blocks * 16` channels per pixel:
/// acc(oy, ox, co) at `accumulators[(oy * outputWidth + ox) * blocks * 16 + co]`.
///
/// Three implementations of the same tile (`Tile.run`), chosen at build time by the CPU the
/// package is built for (`DCD_TARGET_CPU`, see README "CPU targets"):
/// - AVX-512 VNNI (`DCD_AVX512VNNI`): bytes in; per tap and 4-channel group, G 64-byte weight
///   loads and T 4-byte broadcasts feed T * G vpdpbusd (16 lanes x 4 u8 * s8 products).
///   T = 6, G = 4: 24 zmm accumulators + 4 weights, in the 32 registers.
/// - AVX2 (`DCD_AVX2`): int16 in (the padded copy widens the bytes); per channel pair, 2 ymm
///   weight loads and T 4-byte broadcasts feed 2T vpmaddwd (8 lanes x 2 int16 products) and
///   vpaddd. T = 6, G = 1: 12 ymm accumulators + 2 weights + broadcast + product = 16 registers.
///   (vpmaddubsw would do 32 products per instruction but saturates at 2^15: inexact.)
/// - NEON dot product (`DCD_NEON_DOTPROD`, e.g. cortex-a76): sdot multiplies signed bytes only,
///   so the padded copy stores code - 128 (`input(_:)`) and the packed start value carries the
///   128 (`zeroShift`); per tap and 4-channel group, 4 16-byte weight loads and T 4-byte
///   broadcasts feed 4T sdot (4 lanes x 4 s8 * s8 products). T = 4: 16 accumulators + 4 weights.
/// - portable Swift SIMD: bytes in; per input channel, a 16-lane widened weight vector times a
///   broadcast code; T = 4, G = 1.
/// `Int8Convolution.referenceAccumulate` is the plain loop all three are tested against.
enum Int8ConvolutionKernel {
    enum WeightLayout { case quads, pairs, channelMajor }

    #if arch(x86_64) && DCD_AVX512VNNI
    typealias Input = UInt8
    typealias Weight = Int8
    static let weightLayout = WeightLayout.quads
    static let pixelTile = 6, blockTile = 4
    static let name = "avx512-vnni"
    #elseif arch(arm64) && DCD_NEON_DOTPROD
    typealias Input = Int8
    typealias Weight = Int8
    static let weightLayout = WeightLayout.quads
    static let pixelTile = 4, blockTile = 1
    static let name = "neon-dotprod"
    #elseif arch(x86_64) && DCD_AVX2
    typealias Input = Int16
    typealias Weight = Int16
    static let weightLayout = WeightLayout.pairs
    static let pixelTile = 6, blockTile = 1
    static let name = "avx2"
    #else
    typealias Input = UInt8
    typealias Weight = Int8
    static let weightLayout = WeightLayout.channelMajor
    static let pixelTile = 4, blockTile = 1
    static let name = "portable"
    #endif

    /// What the kernel reads for an 8-bit code: the code itself, widened to int16 for AVX2, or
    /// code - 128 as a signed byte for the NEON dot-product kernel (`zeroShift` = 128).
    @inline(__always)
    static func input(_ code: UInt8) -> Input {
        #if arch(arm64) && DCD_NEON_DOTPROD
        return Input(bitPattern: code ^ 0x80)
        #else
        return Input(code)
        #endif
    }

    /// The kernel sums w * (code - zeroShift): `Int8PackedConvolution` starts the accumulators at
    /// bias - (zIn - zeroShift) * sum(w), so that the result is sum w * (code - zIn) + bias.
    #if arch(arm64) && DCD_NEON_DOTPROD
    static let zeroShift: Int32 = 128
    #else
    static let zeroShift: Int32 = 0
    #endif

    /// Everything a tile needs to find its data, in elements; pointers are at the tile's first
    /// output pixel.
    struct Geometry {
        /// Between horizontally adjacent output pixels' receptive fields (stride * channel stride).
        var pixelStep: Int
        /// Per input pixel (the channel stride cp), per input row.
        var inputStride: Int
        var rowStride: Int
        var kernel: Int
        /// Input channels including padding (cp, a multiple of 4).
        var channels: Int
        /// Weight elements per block of 16 output channels.
        var blockElements: Int
        /// int32 elements per output pixel (blocks * 16).
        var outputPixelStride: Int
    }

    struct Tile<let T: Int, let G: Int> {
        @inline(__always)
        static func run(_ input: UnsafePointer<Input>, _ weights: UnsafePointer<Weight>, _ initial: UnsafePointer<Int32>,
                        _ output: UnsafeMutablePointer<Int32>, _ g: Geometry) {
            #if arch(x86_64) && DCD_AVX512VNNI
            var acc = InlineArray<G, InlineArray<T, __m512i>>(repeating: InlineArray<T, __m512i>(repeating: __m512i()))
            for b in 0..<G {
                let start = UnsafeRawPointer(initial + 16 * b).loadUnaligned(as: __m512i.self)
                for t in 0..<T { acc[b][t] = start }
            }
            var wp = UnsafeRawPointer(weights)
            let blockBytes = g.blockElements
            // Byte offsets of the tile's pixels; wrapping arithmetic: no overflow checks in the loop.
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep }
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<(g.channels / 4) {
                        var w = InlineArray<G, __m512i>(repeating: __m512i())
                        for b in 0..<G { w[b] = wp.loadUnaligned(fromByteOffset: b &* blockBytes, as: __m512i.self) }
                        for t in 0..<T {
                            let x = _mm512_set1_epi32(xp.loadUnaligned(fromByteOffset: offsets[t], as: Int32.self))
                            for b in 0..<G { acc[b][t] = _mm512_dpbusd_epi32(acc[b][t], x, w[b]) }
                        }
                        wp += 64
                        xp += 4
                    }
                }
            }
            for b in 0..<G {
                for t in 0..<T {
                    UnsafeMutableRawPointer(output + t * g.outputPixelStride + 16 * b).storeBytes(of: acc[b][t], as: __m512i.self)
                }
            }
            #elseif arch(arm64) && DCD_NEON_DOTPROD
            // G is 1 (blockTile): output channels 4j...4j+3 in acc[t][j].
            var acc = InlineArray<T, InlineArray<4, int32x4_t>>(repeating: InlineArray<4, int32x4_t>(repeating: int32x4_t()))
            for j in 0..<4 {
                let start = UnsafeRawPointer(initial + 4 * j).loadUnaligned(as: int32x4_t.self)
                for t in 0..<T { acc[t][j] = start }
            }
            var wp = UnsafeRawPointer(weights)
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep }
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<(g.channels / 4) {
                        var w = InlineArray<4, int8x16_t>(repeating: int8x16_t())
                        for j in 0..<4 { w[j] = wp.loadUnaligned(fromByteOffset: 16 &* j, as: int8x16_t.self) }
                        for t in 0..<T {
                            // 4 input channels of pixel t (signed bytes), in every 32-bit lane.
                            let x = unsafeBitCast(vdupq_n_s32(xp.loadUnaligned(fromByteOffset: offsets[t], as: Int32.self)), to: int8x16_t.self)
                            for j in 0..<4 { acc[t][j] = vdotq_s32(acc[t][j], w[j], x) }
                        }
                        wp += 64
                        xp += 4
                    }
                }
            }
            for t in 0..<T {
                for j in 0..<4 {
                    UnsafeMutableRawPointer(output + t * g.outputPixelStride + 4 * j).storeBytes(of: acc[t][j], as: int32x4_t.self)
                }
            }
            #elseif arch(x86_64) && DCD_AVX2
            // G is 1 (blockTile): lanes 0-7 in acc[t][0], 8-15 in acc[t][1].
            var acc = InlineArray<T, InlineArray<2, __m256i>>(repeating: InlineArray<2, __m256i>(repeating: __m256i()))
            let start0 = UnsafeRawPointer(initial).loadUnaligned(as: __m256i.self)
            let start1 = UnsafeRawPointer(initial + 8).loadUnaligned(as: __m256i.self)
            for t in 0..<T { acc[t][0] = start0; acc[t][1] = start1 }
            var wp = UnsafeRawPointer(weights)
            // Byte offsets of the tile's pixels (int16 elements); wrapping arithmetic: no
            // overflow checks in the loop.
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep &* 2 }
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<(g.channels / 2) {
                        let w0 = wp.loadUnaligned(as: __m256i.self), w1 = wp.loadUnaligned(fromByteOffset: 32, as: __m256i.self)
                        for t in 0..<T {
                            // Two int16 input channels, broadcast to every 32-bit lane.
                            let x = _mm256_set1_epi32(xp.loadUnaligned(fromByteOffset: offsets[t], as: Int32.self))
                            acc[t][0] = _mm256_add_epi32(acc[t][0], _mm256_madd_epi16(x, w0))
                            acc[t][1] = _mm256_add_epi32(acc[t][1], _mm256_madd_epi16(x, w1))
                        }
                        wp += 64
                        xp += 4
                    }
                }
            }
            for t in 0..<T {
                UnsafeMutableRawPointer(output + t * g.outputPixelStride).storeBytes(of: acc[t][0], as: __m256i.self)
                UnsafeMutableRawPointer(output + t * g.outputPixelStride + 8).storeBytes(of: acc[t][1], as: __m256i.self)
            }
            #else
            var acc = InlineArray<G, InlineArray<T, SIMD16<Int32>>>(repeating: InlineArray<T, SIMD16<Int32>>(repeating: .zero))
            for b in 0..<G {
                let start = UnsafeRawPointer(initial + 16 * b).loadUnaligned(as: SIMD16<Int32>.self)
                for t in 0..<T { acc[b][t] = start }
            }
            var wp = UnsafeRawPointer(weights)
            // Offsets of the tile's pixels; wrapping arithmetic: no overflow checks in the loop.
            var offsets = InlineArray<T, Int>(repeating: 0)
            for t in 0..<T { offsets[t] = t &* g.pixelStep }
            for ky in 0..<g.kernel {
                for kx in 0..<g.kernel {
                    var xp = UnsafeRawPointer(input + (ky &* g.rowStride &+ kx &* g.inputStride))
                    for _ in 0..<g.channels {
                        var w = InlineArray<G, SIMD16<Int32>>(repeating: .zero)
                        for b in 0..<G {
                            w[b] = SIMD16<Int32>(truncatingIfNeeded: wp.loadUnaligned(fromByteOffset: b &* g.blockElements, as: SIMD16<Int8>.self))
                        }
                        for t in 0..<T {
                            let x = Int32(xp.load(fromByteOffset: offsets[t], as: UInt8.self))
                            for b in 0..<G { acc[b][t] &+= w[b] &* x }
                        }
                        wp += 16
                        xp += 1
                    }
                }
            }
            for b in 0..<G {
                for t in 0..<T {
                    UnsafeMutableRawPointer(output + t * g.outputPixelStride + 16 * b).storeBytes(of: acc[b][t], as: SIMD16<Int32>.self)
                }
            }
            #endif
        }
    }

    /// A row segment of `count` pixels (1...pixelTile) for `blockCount` blocks (4, 2 or 1 with
    /// VNNI, 1 portable): dispatches to the tile specialised for that size.
    @inline(__always)
    static func segment(count: Int, blockCount: Int, _ input: UnsafePointer<Input>, _ weights: UnsafePointer<Weight>,
                        _ initial: UnsafePointer<Int32>, _ output: UnsafeMutablePointer<Int32>, _ g: Geometry) {
        switch blockCount {
        #if arch(x86_64) && DCD_AVX512VNNI
        case 4: segment(InlineArray<4, Int>.self, count: count, input, weights, initial, output, g)
        case 2: segment(InlineArray<2, Int>.self, count: count, input, weights, initial, output, g)
        #endif
        default: segment(InlineArray<1, Int>.self, count: count, input, weights, initial, output, g)
        }
    }

    @inline(__always)
    static func segment<let G: Int>(_: InlineArray<G, Int>.Type, count: Int, _ input: UnsafePointer<Input>, _ weights: UnsafePointer<Weight>,
                                    _ initial: UnsafePointer<Int32>, _ output: UnsafeMutablePointer<Int32>, _ g: Geometry) {
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
