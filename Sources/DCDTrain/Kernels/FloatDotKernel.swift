/// Many dot products at once, for the convolution weight gradient: for R planes a_r and J planes
/// b_j (each `rows` rows of `width` floats, with their own row strides),
///   sums[r][j] = sum over rows y, columns x of a_r[y, x] b_j[y, x].
/// R x J vector accumulators run along the rows (per step R + J vector loads feed R J fused
/// multiply-adds); each accumulator's lanes are added in lane order at the end, after the
/// columns past the last whole vector, which are summed one by one. The order is fixed, so
/// results do not depend on how callers split their work.
///
/// Tiles (R x J): AVX-512 4 x 6 (24 zmm accumulators + 4 + 1), AVX2 2 x 5 (10 ymm + 2 + 1 of 16),
/// portable 2 x 2 (SIMD16). `referenceRun` is the plain loop it is tested against.
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
        typealias Sums = InlineArray<R, InlineArray<J, Float>>
        typealias RowPointers = InlineArray<R, UnsafePointer<Float>>
        typealias ColumnPointers = InlineArray<J, UnsafePointer<Float>>

        @inline(__always)
        static func run(_ a: RowPointers, aRowStride: Int, _ b: ColumnPointers,
                        bRowStride: Int, rows: Int, width: Int) -> Sums {
            let lanes = FloatGEMMKernel.lanes
            let vectorEnd = width - width % lanes
            var acc = InlineArray<R, InlineArray<J, Vector>>(repeating: InlineArray<J, Vector>(repeating: FloatGEMMKernel.zero()))
            var tail = Sums(repeating: InlineArray<J, Float>(repeating: 0))
            for y in 0..<rows {
                var x = 0
                while x < vectorEnd {
                    var av = InlineArray<R, Vector>(repeating: FloatGEMMKernel.zero())
                    for r in 0..<R { av[r] = FloatGEMMKernel.load(a[r] + (y &* aRowStride &+ x)) }
                    for j in 0..<J {
                        let bv = FloatGEMMKernel.load(b[j] + (y &* bRowStride &+ x))
                        for r in 0..<R { acc[r][j] = FloatGEMMKernel.multiplyAdd(av[r], bv, acc[r][j]) }
                    }
                    x &+= lanes
                }
                for x in vectorEnd..<width {
                    for r in 0..<R {
                        let av = a[r][y &* aRowStride &+ x]
                        for j in 0..<J { tail[r][j] += av * b[j][y &* bRowStride &+ x] }
                    }
                }
            }
            var sums = tail
            for r in 0..<R {
                for j in 0..<J {
                    var v = acc[r][j]
                    let total = withUnsafeBytes(of: &v) { raw in
                        let values = raw.assumingMemoryBound(to: Float.self)
                        var s: Float = 0
                        for i in 0..<lanes { s += values[i] }
                        return s
                    }
                    sums[r][j] += total
                }
            }
            return sums
        }
    }

    /// The selected tile (see `Tile.run`).
    @inline(__always)
    static func run(_ a: Selected.RowPointers, aRowStride: Int, _ b: Selected.ColumnPointers, bRowStride: Int, rows: Int, width: Int) -> Selected.Sums {
        Selected.run(a, aRowStride: aRowStride, b, bRowStride: bRowStride, rows: rows, width: width)
    }

    /// sum of count floats: lanes of vectors, then the lanes in order, then the rest.
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var acc = FloatGEMMKernel.zero()
        var i = 0
        while i + lanes <= count {
            acc = FloatGEMMKernel.add(acc, FloatGEMMKernel.load(p + i))
            i += lanes
        }
        var total = withUnsafeBytes(of: &acc) { raw in
            let values = raw.assumingMemoryBound(to: Float.self)
            var s: Float = 0
            for l in 0..<lanes { s += values[l] }
            return s
        }
        while i < count { total += p[i]; i += 1 }
        return total
    }

    /// The plain definition, summed in Double.
    static func referenceRun(_ a: [UnsafePointer<Float>], aRowStride: Int, _ b: [UnsafePointer<Float>], bRowStride: Int,
                             rows: Int, width: Int) -> [[Double]] {
        a.map { ap in
            b.map { bp in
                var s = 0.0
                for y in 0..<rows { for x in 0..<width { s += Double(ap[y * aRowStride + x]) * Double(bp[y * bRowStride + x]) } }
                return s
            }
        }
    }
}
