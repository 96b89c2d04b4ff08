import DCDRuntime

/// Stride-1 float convolutions of one NCHW image (input already padded) and their gradients,
/// read in place (no im2col copy):
///
/// - forward: out[co, oy, ox] = b[co] + sum over taps k = (i, ky, kx) of W[co, k] x[i, oy + ky, ox + kx].
///   A matrix multiply whose B row k is the input row segment under tap k: `FloatGEMMKernel` with
///   B read through an offset table ((i h + ky) w + kx), C tiles of `rows` output channels x
///   `columns` consecutive pixels of one output row.
/// - input gradient: the forward convolution of the output gradient, zero-padded by k - 1, with
///   the weights flipped in both axes and their in/out channels swapped (a full correlation).
/// - weight gradient: gW[co, k] = sum over pixels of gOut[co, p] x[tap k at p]: dot products along
///   rows (`FloatDotKernel`), tiles of output channels x taps.
///
/// Every output element is summed by one tile in a fixed order, so the bits do not depend on
/// the thread count or the task split.
enum FloatConvolution {
    struct Geometry {
        /// Input channels, padded input rows and columns, output channels, kernel side.
        let channels, height, width, outputs, kernel: Int
        var outputHeight: Int { height - kernel + 1 }
        var outputWidth: Int { width - kernel + 1 }
        /// Taps per output channel (K).
        var depth: Int { channels * kernel * kernel }

        /// Offset of tap k = (i, ky, kx) from the pixel's top-left input element.
        func tapOffsets() -> [Int] {
            var out: [Int] = []
            out.reserveCapacity(depth)
            for i in 0..<channels { for ky in 0..<kernel { for kx in 0..<kernel { out.append((i * height + ky) * width + kx) } } }
            return out
        }
    }

    /// out[co, oh * ow] = conv(x, W) + bias (bias nil: zero).
    static func forward(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        _ g: Geometry, into out: UnsafeMutablePointer<Float>, parallel: ParallelRunner) {
        let nr = FloatGEMMKernel.columns, ow = g.outputWidth
        if ow < nr {
            // Narrow images: a copy widened by zero columns so that a tile's nr-float row
            // segments stay inside their rows; only the ow real columns are stored.
            let wide = Geometry(channels: g.channels, height: g.height, width: g.width + nr - ow, outputs: g.outputs, kernel: g.kernel)
            let copy = UnsafeMutablePointer<Float>.allocate(capacity: g.channels * g.height * wide.width)
            copy.initialize(repeating: 0, count: g.channels * g.height * wide.width)
            defer { copy.deallocate() }
            for row in 0..<(g.channels * g.height) { (copy + row * wide.width).update(from: x + row * g.width, count: g.width) }
            run(copy, w, bias: bias, wide, storedWidth: ow, into: out, parallel: parallel)
        } else {
            run(x, w, bias: bias, g, storedWidth: ow, into: out, parallel: parallel)
        }
    }

    /// The tiles over an input whose output rows are at least `FloatGEMMKernel.columns` wide;
    /// `storedWidth` (<= that width) columns per output row are written, rows ow apart.
    private static func run(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                            _ g: Geometry, storedWidth ow: Int, into out: UnsafeMutablePointer<Float>, parallel: ParallelRunner) {
        let mr = FloatGEMMKernel.rows, nr = FloatGEMMKernel.columns
        let (oh, depth, plane) = (g.outputHeight, g.depth, g.outputHeight * ow)
        // W as panels of mr output channels, tap-major, zero rows past the last channel.
        let panels = (g.outputs + mr - 1) / mr
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: panels * depth * mr)
        defer { packed.deallocate() }
        for q in 0..<panels {
            for k in 0..<depth {
                for r in 0..<mr {
                    let o = q * mr + r
                    packed[(q * depth + k) * mr + r] = o < g.outputs ? w[o * depth + k] : 0
                }
            }
        }
        let offsets = g.tapOffsets()
        // Tile starts along a row: every nr columns, and a last tile ending at the row's end that
        // may overlap the one before (it recomputes the same sums bit for bit).
        var starts = Array(stride(from: 0, through: g.outputWidth - nr, by: nr))
        if starts.last! + nr < ow { starts.append(g.outputWidth - nr) }
        let width = min(nr, ow)
        // Tasks are bands of output rows, swept one column strip (nr output columns) at a time,
        // down the rows, all channel panels per tile: the strip's input rows (k rows x channels
        // x nr + k - 1 floats) and the packed weights stay in L1 while the tiles reuse them.
        offsets.withUnsafeBufferPointer { offsets in
            parallel.runBands(0..<oh) { rows in
                for x0 in starts {
                    for oy in rows {
                        let input = x + oy * g.width + x0
                        for q in 0..<panels {
                            // The sums start from the bias and never read C: the overlapping
                            // last tile rewrites the same values.
                            FloatGEMMKernel.run(rows: min(mr, g.outputs - q * mr), columns: width, depth: depth, packed + q * depth * mr, input,
                                                offsets: offsets.baseAddress!, start: bias.map { $0 + q * mr },
                                                out + q * mr * plane + oy * ow + x0, ldc: plane, load: false)
                        }
                    }
                }
            }
        }
    }

    /// gx[ci, h, w] = d(loss)/d(x) from gOut[co, oh, ow] (overwrites gx).
    static func inputGradient(_ gOut: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ g: Geometry,
                              into gx: UnsafeMutablePointer<Float>, parallel: ParallelRunner) {
        let k = g.kernel, (oh, ow) = (g.outputHeight, g.outputWidth)
        // gOut zero-padded by k - 1 on every side: (oh + 2k - 2) x (ow + 2k - 2) = (h + k - 1) x (w + k - 1).
        let (ph, pw) = (oh + 2 * (k - 1), ow + 2 * (k - 1))
        let padded = UnsafeMutablePointer<Float>.allocate(capacity: g.outputs * ph * pw)
        padded.initialize(repeating: 0, count: g.outputs * ph * pw)
        for o in 0..<g.outputs {
            for y in 0..<oh { (padded + (o * ph + y + k - 1) * pw + k - 1).update(from: gOut + (o * oh + y) * ow, count: ow) }
        }
        // W'[ci, co, ky, kx] = W[co, ci, k-1-ky, k-1-kx].
        let flipped = UnsafeMutablePointer<Float>.allocate(capacity: g.outputs * g.depth)
        for o in 0..<g.outputs {
            for i in 0..<g.channels {
                for ky in 0..<k {
                    for kx in 0..<k {
                        flipped[((i * g.outputs + o) * k + ky) * k + kx] = w[((o * g.channels + i) * k + k - 1 - ky) * k + k - 1 - kx]
                    }
                }
            }
        }
        defer { padded.deallocate(); flipped.deallocate() }
        let transposed = Geometry(channels: g.outputs, height: ph, width: pw, outputs: g.channels, kernel: k)
        forward(padded, flipped, bias: nil, transposed, into: gx, parallel: parallel)
    }

    /// gw[co, K] += gOut[co, P] . x[tap k] and gb[co] += sum over P of gOut (gb may be nil).
    ///
    /// Tasks own tiles of (output channels x taps); each sweeps its tiles over blocks of rows
    /// (`FloatDotKernel.accumulate`, accumulators kept in memory between blocks) so that a block
    /// of gOut rows and the input rows under it stay in L1 across the tiles.
    static func weightGradient(_ x: UnsafePointer<Float>, _ gOut: UnsafePointer<Float>, _ g: Geometry,
                               into gw: UnsafeMutablePointer<Float>, bias gb: UnsafeMutablePointer<Float>?,
                               parallel: ParallelRunner) {
        typealias Tile = FloatDotKernel.Selected
        let (oh, ow, depth, lanes) = (g.outputHeight, g.outputWidth, g.depth, FloatDotKernel.lanes)
        let (tr, tj) = (Tile.rows, Tile.columns)
        // Rows padded to whole vectors: gOut copied with zero columns up to `width`; x read as
        // is, past each row's end into the next row (finite values times zero), with a zero
        // tail after the last row when the padding reaches past it.
        let width = (ow + lanes - 1) / lanes * lanes
        var paddedOut: UnsafeMutablePointer<Float>? = nil, paddedInput: UnsafeMutablePointer<Float>? = nil
        defer { paddedOut?.deallocate(); paddedInput?.deallocate() }
        var (a0, aStride, b0) = (gOut, ow, x)
        if width != ow {
            let out = UnsafeMutablePointer<Float>.allocate(capacity: g.outputs * oh * width)
            out.initialize(repeating: 0, count: g.outputs * oh * width)
            for row in 0..<(g.outputs * oh) { (out + row * width).update(from: gOut + row * ow, count: ow) }
            let size = g.channels * g.height * g.width
            let input = UnsafeMutablePointer<Float>.allocate(capacity: size + width)
            input.update(from: x, count: size)
            (input + size).initialize(repeating: 0, count: width)
            (paddedOut, paddedInput) = (out, input)
            (a0, aStride, b0) = (UnsafePointer(out), width, UnsafePointer(input))
        }
        let plane = oh * aStride
        let rowTiles = (g.outputs + tr - 1) / tr, tapTiles = (depth + tj - 1) / tj
        // Tap tiles per task: about tasksPerWorker tasks per worker overall.
        let groups = max(1, min(tapTiles, ParallelRunner.tasksPerWorker * parallel.workerCount / rowTiles))
        // Rows per block: R gOut rows of the block in about 16 KiB.
        let blockRows = max(1, 4096 / (tr * width))
        let offsets = g.tapOffsets()
        offsets.withUnsafeBufferPointer { offsets in
            parallel.run(taskCount: rowTiles * groups) { task in
                let o0 = (task / groups) * tr
                let tiles = ParallelRunner.band(task % groups, of: groups, 0..<tapTiles)
                // Past the last channel or tap, a tile repeats the last one (sums discarded).
                var a = Tile.RowPointers(repeating: a0)
                for r in 0..<tr { a[r] = a0 + min(o0 + r, g.outputs - 1) * plane }
                let acc = UnsafeMutablePointer<FloatDotKernel.Vector>.allocate(capacity: tiles.count * tr * tj)
                defer { acc.deallocate() }
                acc.initialize(repeating: FloatGEMMKernel.zero(), count: tiles.count * tr * tj)
                var y = 0
                while y < oh {
                    let rows = y..<min(oh, y + blockRows)
                    for (i, tile) in tiles.enumerated() {
                        var b = Tile.ColumnPointers(repeating: b0)
                        for j in 0..<tj { b[j] = b0 + offsets[min(tile * tj + j, depth - 1)] }
                        Tile.accumulate(a, aRowStride: aStride, b, bRowStride: g.width, rows: rows, width: width, into: acc + i * tr * tj)
                    }
                    y = rows.upperBound
                }
                for (i, tile) in tiles.enumerated() {
                    let k0 = tile * tj
                    for r in 0..<min(tr, g.outputs - o0) {
                        for j in 0..<min(tj, depth - k0) { gw[(o0 + r) * depth + k0 + j] += FloatDotKernel.total(acc[(i * tr + r) * tj + j]) }
                    }
                }
            }
        }
        if let gb {
            for o in 0..<g.outputs { gb[o] += FloatDotKernel.sum(gOut + o * oh * ow, count: oh * ow) }
        }
    }
}
