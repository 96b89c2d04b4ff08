#if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
import _Builtin_intrinsics.intel
#endif

/// The GEMM micro-kernel: a `rows` x `columns` tile of C kept in registers while it sums
/// `depth` rank-1 updates from a packed A panel (k-major, `rows` floats per k) and B rows of
/// `columns` contiguous floats at `b + offsets[k]`: per k, the B row is loaded as vectors, each A
/// value is broadcast, and one fused multiply-add per (row, vector) updates the tile.
///
/// The offset table is what lets one kernel serve both callers: a packed B panel (offsets
/// 0, columns, 2 columns, ...) for `FloatGEMM`, and an image read in place for the direct
/// convolution (`FloatConvolution`: offsets of (channel, ky, kx) in the padded input, so B's row
/// k is the input row segment under tap k: an implicit im2col).
///
/// - AVX-512 (`DCD_AVX512VNNI` builds): 8 rows x 32 columns = 16 zmm accumulators + 2 B
///   vectors + broadcast.
/// - AVX2 + FMA (`DCD_AVX2` builds): 6 rows x 16 columns = 12 ymm accumulators + 2 + 1 of 16.
/// - portable Swift SIMD: 4 rows x 16 columns (SIMD16<Float>); fused on arm64 (FMA is base
///   ISA), separate multiply and add elsewhere (the x86-64 baseline has no FMA).
/// `FloatGEMM.referenceMultiply` is the plain loop all are tested against.
enum FloatGEMMKernel {
    #if arch(x86_64) && DCD_AVX512VNNI
    static let rows = 8, columns = 32
    static let name = "avx512"
    #elseif arch(x86_64) && DCD_AVX2
    static let rows = 6, columns = 16
    static let name = "avx2-fma"
    #else
    static let rows = 4, columns = 16
    static let name = "portable"
    #endif

    /// C[0..<height, 0..<width] (row stride ldc) = (load ? C : 0) + start[row] + sum over k of
    /// A[k, 0..<height] x B[b + offsets[k] ..< + columns], the sum starting from the row's `start`
    /// value (a bias; zero when nil). height <= rows, width <= columns; the A panel is `rows` wide
    /// (zero padded) and every B row has `columns` readable floats.
    @inline(__always)
    static func run(rows height: Int, columns width: Int, depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                    offsets: UnsafePointer<Int>, start: UnsafePointer<Float>? = nil, _ c: UnsafeMutablePointer<Float>, ldc: Int, load: Bool) {
        switch height {
        case 1: Tile<1>.run(width, depth, a, b, offsets, start, c, ldc, load)
        case 2: Tile<2>.run(width, depth, a, b, offsets, start, c, ldc, load)
        case 3: Tile<3>.run(width, depth, a, b, offsets, start, c, ldc, load)
        case 4: Tile<4>.run(width, depth, a, b, offsets, start, c, ldc, load)
        #if arch(x86_64) && (DCD_AVX512VNNI || DCD_AVX2)
        case 5: Tile<5>.run(width, depth, a, b, offsets, start, c, ldc, load)
        case 6: Tile<6>.run(width, depth, a, b, offsets, start, c, ldc, load)
        #endif
        #if arch(x86_64) && DCD_AVX512VNNI
        case 7: Tile<7>.run(width, depth, a, b, offsets, start, c, ldc, load)
        case 8: Tile<8>.run(width, depth, a, b, offsets, start, c, ldc, load)
        #endif
        default: preconditionFailure("GEMM tile of \(height) rows")
        }
    }

    #if arch(x86_64) && DCD_AVX512VNNI
    typealias Vector = __m512
    static let lanes = 16
    @inline(__always) static func zero() -> Vector { _mm512_setzero_ps() }
    @inline(__always) static func splat(_ x: Float) -> Vector { _mm512_set1_ps(x) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    @inline(__always) static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }
    @inline(__always) static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector { _mm512_fmadd_ps(a, b, c) }
    @inline(__always) static func add(_ a: Vector, _ b: Vector) -> Vector { _mm512_add_ps(a, b) }
    #elseif arch(x86_64) && DCD_AVX2
    typealias Vector = __m256
    static let lanes = 8
    @inline(__always) static func zero() -> Vector { _mm256_setzero_ps() }
    @inline(__always) static func splat(_ x: Float) -> Vector { _mm256_set1_ps(x) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    @inline(__always) static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }
    @inline(__always) static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector { _mm256_fmadd_ps(a, b, c) }
    @inline(__always) static func add(_ a: Vector, _ b: Vector) -> Vector { _mm256_add_ps(a, b) }
    #else
    typealias Vector = SIMD16<Float>
    static let lanes = 16
    @inline(__always) static func zero() -> Vector { Vector() }
    @inline(__always) static func splat(_ x: Float) -> Vector { Vector(repeating: x) }
    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> Vector { UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
    @inline(__always) static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self) }
    @inline(__always) static func multiplyAdd(_ a: Vector, _ b: Vector, _ c: Vector) -> Vector {
        #if arch(arm64)
        return c.addingProduct(a, b)
        #else
        return c + a * b
        #endif
    }
    @inline(__always) static func add(_ a: Vector, _ b: Vector) -> Vector { a + b }
    #endif
    /// B vectors per k (columns / lanes).
    static let vectors = columns / lanes

    struct Tile<let R: Int> {
        @inline(__always)
        static func run(_ width: Int, _ depth: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                        _ offsets: UnsafePointer<Int>, _ start: UnsafePointer<Float>?, _ c: UnsafeMutablePointer<Float>,
                        _ ldc: Int, _ load: Bool) {
            // acc[r][v]: row r, columns v * lanes ..< (v + 1) * lanes.
            var acc = InlineArray<R, InlineArray<2, Vector>>(repeating: InlineArray<2, Vector>(repeating: zero()))
            if let start {
                for r in 0..<R { acc[r] = InlineArray<2, Vector>(repeating: splat(start[r])) }
            }
            var ap = a
            let mr = FloatGEMMKernel.rows, nr = FloatGEMMKernel.columns
            for k in 0..<depth {
                let bp = b + offsets[k]
                let b0 = FloatGEMMKernel.load(bp)
                let b1 = vectors > 1 ? FloatGEMMKernel.load(bp + lanes) : zero()
                for r in 0..<R {
                    let x = splat(ap[r])
                    acc[r][0] = multiplyAdd(x, b0, acc[r][0])
                    if vectors > 1 { acc[r][1] = multiplyAdd(x, b1, acc[r][1]) }
                }
                ap += mr
            }
            if width == nr {
                for r in 0..<R {
                    let row = c + r &* ldc
                    for v in 0..<vectors {
                        let dst = row + v &* lanes
                        store(load ? add(acc[r][v], FloatGEMMKernel.load(dst)) : acc[r][v], dst)
                    }
                }
            } else {
                // A partial tile: through a stack row so that nothing past `width` is touched.
                var spill = InlineArray<2, Vector>(repeating: zero())
                for r in 0..<R {
                    spill = acc[r]
                    let row = c + r &* ldc
                    withUnsafeBytes(of: &spill) { raw in
                        let values = raw.assumingMemoryBound(to: Float.self)
                        for j in 0..<width { row[j] = load ? row[j] + values[j] : values[j] }
                    }
                }
            }
        }
    }
}
