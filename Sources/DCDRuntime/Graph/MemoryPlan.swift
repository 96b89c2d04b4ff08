/// Static memory planning: every value of a program gets an offset in one arena, reusing the
/// space of values no later op reads. Planned once per frame size, before running: nothing is
/// allocated per op.
///
/// Lifetimes: a value lives from the op that defines it (value 0: from the start) to the last op
/// that reads it (the output: to the end). Placement: largest first, each at the lowest offset
/// that does not overlap a placed value with an intersecting lifetime (greedy by size, as
/// TFLite's arena planner does). An op's output never shares memory with its inputs.
public struct MemoryPlan: Sendable, Equatable {
    /// Byte offset of each value in the arena (index = value id).
    public var offsets: [Int]
    /// Byte size of each value.
    public var sizes: [Int]
    /// Arena size: the largest end offset.
    public var arenaBytes: Int
    /// Largest per-op scratch buffer (int32 accumulators of a convolution in int8 programs,
    /// the padded input copy in float ones), allocated once beside the arena.
    public var scratchBytes: Int

    public var peakBytes: Int { arenaBytes + scratchBytes }

    /// Places values of the given byte sizes (index = value id) by the rule above: offsets and
    /// the arena size. Executors with their own layouts (`Int8Executor`) plan through this too.
    public static func place(sizes: [Int], program: ModelProgram) -> (offsets: [Int], arenaBytes: Int) {
        let count = program.valueCount
        var first = [Int](repeating: 0, count: count), last = [Int](repeating: 0, count: count)
        for v in 1..<count { first[v] = v - 1; last[v] = v - 1 }
        for (i, op) in program.ops.enumerated() {
            last[op.input] = max(last[op.input], i)
            if op.secondInput >= 0 { last[op.secondInput] = max(last[op.secondInput], i) }
        }
        last[count - 1] = program.ops.count
        let order = (0..<count).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var offsets = [Int](repeating: -1, count: count)
        var placed: [Int] = []
        var arena = 0
        for v in order {
            // Candidate offsets: 0 and the end of every placed value alive at the same time.
            let conflicts = placed.filter { first[$0] <= last[v] && first[v] <= last[$0] }
                .sorted { offsets[$0] < offsets[$1] }
            var offset = 0
            for c in conflicts {
                if offset + sizes[v] <= offsets[c] { break }
                offset = max(offset, offsets[c] + sizes[c])
            }
            offsets[v] = offset
            placed.append(v)
            arena = max(arena, offset + sizes[v])
        }
        return (offsets, arena)
    }

    /// Plans for one input size: 4 bytes per element for float32 programs, 1 for int8 ones, 2
    /// for mixed ones (16-bit activations; a bound for their 8-bit values).
    public static func plan(_ program: ModelProgram, height: Int, width: Int) throws(RuntimeError) -> MemoryPlan {
        let shapes = try program.inferShapes(height: height, width: width)
        let elementBytes = program.precision == .int8 ? 1 : (program.precision == .mixed ? 2 : 4)
        let sizes = shapes.map { $0.elementCount * elementBytes }
        let (offsets, arena) = place(sizes: sizes, program: program)
        var scratch = 0
        for (i, op) in program.ops.enumerated() where op.kind == .conv2d || op.kind == .convTranspose2d {
            let out = shapes[i + 1], input = shapes[op.input]
            let padded = (input.height + 2 * op.padding) * (input.width + 2 * op.padding) * input.channels
            // int8/mixed: the accumulators (int32 in optimized kernels) and the padded input copy.
            scratch = max(scratch, program.precision == .float32 ? padded * 4 : out.elementCount * 4 + padded * 4)
        }
        return MemoryPlan(offsets: offsets, sizes: sizes, arenaBytes: arena, scratchBytes: scratch)
    }
}
