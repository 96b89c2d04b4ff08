/// Many dot products at once, for the convolution weight gradient: for R planes a_r and J planes
/// b_j (each `rows` rows of `width` floats, width a multiple of the vector lanes, with their own
/// row strides),
///   sums[r][j] = sum over rows y, columns x of a_r[y, x] b_j[y, x].
/// R x J vector accumulators run along the rows (per step R + J vector loads feed R J fused
/// multiply-adds); `accumulate` takes the accumulators from and back to memory so that callers
/// can sweep many tiles over one block of rows while it is in L1; each accumulator's lanes are
/// added in lane order at the end. Every lane sums its columns in row order, so results do not
/// depend on how callers block or split the work.
///
/// Tiles (R x J): AVX-512 4 x 6 (24 zmm accumulators + 4 + 1), AVX2 2 x 5 (10 ymm + 2 + 1 of 16),
/// portable 2 x 2 (SIMD16). Tested through `FloatConvolution.weightGradient` against the row
/// definition of the convolution gradient.
enum FloatDotKernel {
    typealias Vector = FloatGEMMKernel.Vector
    static var lanes: Int { FloatGEMMKernel.lanes }

    #if arch(x86_64) && DCD_AVX512VNNI
    typealias Selected = Tile<4, 6>
    #elseif arch(x86_64) && DCD_AVX2
    typealias Selected = Tile<2, 5>
    #else
    typealias Selected = Tile<2, 2>
    #endif
    static var rows: Int { Selected.rows }
    static var columns: Int { Selected.columns }

    struct Tile<let R: Int, let J: Int> {
        static var rows: Int { R }
        static var columns: Int { J }
        typealias RowPointers = InlineArray<R, UnsafePointer<Float>>
        typealias ColumnPointers = InlineArray<J, UnsafePointer<Float>>

        /// Adds rows `rows` of the products into the tile's vector accumulators `acc` (R x J
        /// vectors, row-major), columns 0 ..< width; width a multiple of the vector lanes.
        @inline(__always)
        static func accumulate(_ a: RowPointers, aRowStride: Int, _ b: ColumnPointers, bRowStride: Int, rows: Range<Int>,
                               width: Int, into acc: UnsafeMutablePointer<Vector>) {
            let lanes = FloatGEMMKernel.lanes
            var sums = InlineArray<R, InlineArray<J, Vector>>(repeating: InlineArray<J, Vector>(repeating: FloatGEMMKernel.zero()))
            for r in 0..<R { for j in 0..<J { sums[r][j] = acc[r &* J &+ j] } }
            for y in rows {
                var ar = InlineArray<R, UnsafePointer<Float>>(repeating: a[0])
                var br = InlineArray<J, UnsafePointer<Float>>(repeating: b[0])
                for r in 0..<R { ar[r] = a[r] + y &* aRowStride }
                for j in 0..<J { br[j] = b[j] + y &* bRowStride }
                var x = 0
                while x < width {
                    var av = InlineArray<R, Vector>(repeating: FloatGEMMKernel.zero())
                    for r in 0..<R { av[r] = FloatGEMMKernel.load(ar[r] + x) }
                    for j in 0..<J {
                        let bv = FloatGEMMKernel.load(br[j] + x)
                        for r in 0..<R { sums[r][j] = FloatGEMMKernel.multiplyAdd(av[r], bv, sums[r][j]) }
                    }
                    x &+= lanes
                }
            }
            for r in 0..<R { for j in 0..<J { acc[r &* J &+ j] = sums[r][j] } }
        }

    }

    /// The lanes of v added in lane order.
    @inline(__always)
    static func total(_ v: Vector) -> Float {
        var v = v
        return withUnsafeBytes(of: &v) { raw in
            let values = raw.assumingMemoryBound(to: Float.self)
            var s: Float = 0
            for i in 0..<lanes { s += values[i] }
            return s
        }
    }

    /// sum of count floats: lanes of vectors, then the lanes in order, then the rest.
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var acc = FloatGEMMKernel.zero()
        var i = 0
        while i + lanes <= count {
            acc = FloatGEMMKernel.add(acc, FloatGEMMKernel.load(p + i))
            i += lanes
        }
        var total = Self.total(acc)
        while i < count { total += p[i]; i += 1 }
        return total
    }
}
