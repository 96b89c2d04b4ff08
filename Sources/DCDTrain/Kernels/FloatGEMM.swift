import DCDRuntime

/// A read-only float matrix seen through strides: element (r, c) is
/// `base[r * rowStride + c * columnStride]`. A transposed view swaps the strides, so one
/// multiply serves A B, A B^T and A^T B.
public struct MatrixView {
    public let base: UnsafePointer<Float>
    public let rowStride: Int
    public let columnStride: Int

    public init(_ base: UnsafePointer<Float>, rowStride: Int, columnStride: Int = 1) {
        self.base = base
        self.rowStride = rowStride
        self.columnStride = columnStride
    }

    /// The same elements, rows and columns swapped.
    public var transposed: MatrixView { MatrixView(base, rowStride: columnStride, columnStride: rowStride) }

    @inline(__always)
    subscript(r: Int, c: Int) -> Float { base[r &* rowStride &+ c &* columnStride] }
}

/// Single-precision matrix multiply for the trainer's convolutions and linear layers:
/// C[m x n] (row stride ldc) = (accumulate ? C : 0) + A[m x k] B[k x n].
///
/// Structure (the BLIS/GotoBLAS scheme): the k dimension runs in blocks of `depthBlock`; per block
/// a task packs its columns of B into panels of `FloatGEMMKernel.columns` (k-major, zero-padded
/// to the full width) and its rows of A into panels of `FloatGEMMKernel.rows` (k-major, zero
/// rows past m), and the micro-kernel (`FloatGEMMKernel`) keeps a rows x columns tile of C in
/// registers over the whole block. Packing is where the strides (transposes) are resolved, so the
/// micro-kernel only ever reads contiguous panels.
///
/// Threads: tasks own disjoint tiles of C (blocks of rows x blocks of columns) and each element of
/// C is summed by one task in the same k order, so the result does not depend on the thread count.
public enum FloatGEMM {
    /// k per packed block: A's panel (rows x 256 floats = 8 KiB) stays in L1 and B's block
    /// (256 x up to 512 floats = 512 KiB) in L2 while the tile loop sweeps them.
    static let depthBlock = 256
    /// Rows of A per task block (a multiple of every kernel's row count: 4, 6, 8).
    static let rowBlock = 96
    /// Columns of B per task block at most (a multiple of every kernel's column count).
    static let columnBlock = 512

    public static func multiply(m: Int, n: Int, k: Int, _ a: MatrixView, _ b: MatrixView,
                                into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                                parallel: ParallelRunner = .serial) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            if !accumulate { for r in 0..<m { (c + r * ldc).update(repeating: 0, count: n) } }
            return
        }
        let mr = FloatGEMMKernel.rows, nr = FloatGEMMKernel.columns
        let rowBlocks = (m + rowBlock - 1) / rowBlock
        // Column blocks: whole panels, at most columnBlock wide, and enough tasks to keep every
        // worker busy (tasksPerWorker per worker) when the matrix allows.
        let panels = (n + nr - 1) / nr
        let wantedTasks = ParallelRunner.tasksPerWorker * parallel.workerCount
        let columnSplits = max(1, min(panels, max((panels * nr + columnBlock - 1) / columnBlock, (wantedTasks + rowBlocks - 1) / rowBlocks)))
        parallel.run(taskCount: rowBlocks * columnSplits) { task in
            let rowRange = ParallelRunner.band(task / columnSplits, of: rowBlocks, 0..<rowBlocks)
            let rows = (rowRange.lowerBound * rowBlock)..<min(m, rowRange.upperBound * rowBlock)
            let panelRange = ParallelRunner.band(task % columnSplits, of: columnSplits, 0..<panels)
            let columns = (panelRange.lowerBound * nr)..<min(n, panelRange.upperBound * nr)
            if rows.isEmpty || columns.isEmpty { return }
            let depth = min(k, depthBlock)
            let rowPanels = (rows.count + mr - 1) / mr
            let packedA = UnsafeMutablePointer<Float>.allocate(capacity: rowPanels * mr * depth)
            let packedB = UnsafeMutablePointer<Float>.allocate(capacity: panelRange.count * nr * depth)
            // B row k of a packed panel: k * nr floats in.
            let offsets = UnsafeMutablePointer<Int>.allocate(capacity: depth)
            for i in 0..<depth { offsets[i] = i * nr }
            defer { packedA.deallocate(); packedB.deallocate(); offsets.deallocate() }
            var k0 = 0
            while k0 < k {
                let kc = min(depthBlock, k - k0)
                packColumns(b, depth: k0..<(k0 + kc), columns: columns, into: packedB)
                packRows(a, depth: k0..<(k0 + kc), rows: rows, into: packedA)
                let load = accumulate || k0 > 0
                for p in 0..<panelRange.count {
                    let c0 = columns.lowerBound + p * nr
                    let width = min(nr, columns.upperBound - c0)
                    for q in 0..<rowPanels {
                        let r0 = rows.lowerBound + q * mr
                        FloatGEMMKernel.run(rows: min(mr, rows.upperBound - r0), columns: width, depth: kc,
                                            packedA + q * mr * kc, packedB + p * nr * kc,
                                            offsets: offsets, c + r0 * ldc + c0, ldc: ldc, load: load)
                    }
                }
                k0 += kc
            }
        }
    }

    /// B[depth, columns] as k-major panels of `columns` floats: panel p holds, for each k, the
    /// columns c0 + p * nr ..< c0 + (p + 1) * nr (zeros past the last column).
    static func packColumns(_ b: MatrixView, depth: Range<Int>, columns: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let nr = FloatGEMMKernel.columns, kc = depth.count
        var panel = out
        var c0 = columns.lowerBound
        while c0 < columns.upperBound {
            let width = min(nr, columns.upperBound - c0)
            if b.columnStride == 1 {
                // Rows of B are contiguous: copy runs.
                for (i, kk) in depth.enumerated() {
                    let dst = panel + i * nr
                    dst.update(from: b.base + kk * b.rowStride + c0, count: width)
                    if width < nr { (dst + width).update(repeating: 0, count: nr - width) }
                }
            } else {
                // Columns of B are contiguous (a transposed view): read down each column.
                for j in 0..<nr {
                    if j < width {
                        let src = b.base + (c0 + j) * b.columnStride + depth.lowerBound * b.rowStride
                        for i in 0..<kc { panel[i * nr + j] = src[i * b.rowStride] }
                    } else {
                        for i in 0..<kc { panel[i * nr + j] = 0 }
                    }
                }
            }
            panel += nr * kc
            c0 += nr
        }
    }

    /// A[rows, depth] as k-major panels of `rows` floats (zeros past the last row).
    static func packRows(_ a: MatrixView, depth: Range<Int>, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let mr = FloatGEMMKernel.rows, kc = depth.count
        var panel = out
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let height = min(mr, rows.upperBound - r0)
            for j in 0..<mr {
                if j < height {
                    let src = a.base + (r0 + j) * a.rowStride + depth.lowerBound * a.columnStride
                    if a.columnStride == 1 {
                        for i in 0..<kc { panel[i * mr + j] = src[i] }
                    } else {
                        for i in 0..<kc { panel[i * mr + j] = src[i * a.columnStride] }
                    }
                } else {
                    for i in 0..<kc { panel[i * mr + j] = 0 }
                }
            }
            panel += mr * kc
            r0 += mr
        }
    }

    /// The plain definition `multiply` is tested against (sums in k order, in Double).
    public static func referenceMultiply(m: Int, n: Int, k: Int, _ a: MatrixView, _ b: MatrixView,
                                         into c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        for r in 0..<m {
            for j in 0..<n {
                var s = accumulate ? Double(c[r * ldc + j]) : 0
                for i in 0..<k { s += Double(a[r, i]) * Double(b[i, j]) }
                c[r * ldc + j] = Float(s)
            }
        }
    }
}
