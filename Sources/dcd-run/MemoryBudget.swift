import DCDRuntime

/// `--max-memory`: bytes, with an optional K, M or G suffix (powers of 1024).
struct MemoryBudget {
    var bytes: Int
    init?(_ text: String) {
        var digits = Substring(text)
        var scale = 1
        if let last = digits.last, let s = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30][String(last).uppercased()] {
            scale = s
            digits = digits.dropLast()
        }
        guard let n = Int(digits), n > 0, n <= Int.max / scale else { return nil }
        bytes = n * scale
    }
}

/// `--tile-statistics`.
enum TileStatisticsOption: String {
    case exact, proxy
    var statistics: TiledStatistics { self == .exact ? .exact : .proxy(downscale: 4) }
}

extension LoadedModel {
    /// Runs an int8 model on 8-bit pixels, in tiles when a budget is given and the frame does
    /// not fit it. Returns the output and the tile plan used (nil: untiled).
    static func derainInt8(_ executor: Int8Executor, _ pixels: ByteTensor, budget: MemoryBudget?, statistics: TileStatisticsOption,
                           parallel: ParallelRunner, opFinished: (Int) -> Void = { _ in }) throws -> (ByteTensor, TilePlan?) {
        if let budget, !executor.usesReference {
            let plan = try executor.tilePlan(height: pixels.height, width: pixels.width, maxBytes: budget.bytes)
            if plan.tileCount > 1 {
                return (try executor.derainTiled(pixels: pixels, plan: plan, statistics: statistics.statistics, parallel: parallel), plan)
            }
        }
        return (try executor.derain(pixels: pixels, parallel: parallel, opFinished: opFinished), nil)
    }
}
