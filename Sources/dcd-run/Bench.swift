import DCDPlatform
import DCDRuntime

/// `--size WxH`.
struct BenchSize {
    var width: Int, height: Int
    init?(_ text: String) {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), (1...16384).contains(w), (1...16384).contains(h) else { return nil }
        width = w
        height = h
    }
}

/// `dcd-run --bench`: one warm-up run (plans the buffers), then `runs` timed runs of the whole
/// derain call on a synthetic frame; median, min and max milliseconds, GMAC/s from the model's
/// multiply-accumulates at that size (of the padded frame), peak RSS of the process.
struct Bench {
    var model: LoadedModel
    var modelPath: String
    var size: BenchSize
    var runs: Int
    var threads: Int
    var json: Bool
    var profile: Bool
    var budget: MemoryBudget?
    var statistics: TileStatisticsOption

    func run() throws {
        let program = model.program
        let m = program.sizeMultiple
        let macs = try program.multiplyAccumulates(height: (size.height + m - 1) / m * m, width: (size.width + m - 1) / m * m)
        let parallel = ThreadPool.runner(threads: threads)
        // A deterministic frame with texture in every channel (int8 timing does not depend on
        // content; float timing barely does).
        var pixels = ByteTensor(channels: 3, height: size.height, width: size.width)
        for c in 0..<3 {
            for y in 0..<size.height {
                for x in 0..<size.width { pixels[c, y, x] = UInt8(truncatingIfNeeded: (x * 7 + y * 13 + c * 85) ^ (x * y)) }
            }
        }
        var floatPixels = FloatTensor(channels: 0, height: 0, width: 0)
        if case .float = model { floatPixels = FloatTensor(channels: 3, height: size.height, width: size.width, storage: pixels.storage.map { Float($0) }) }
        // Per op: milliseconds of each timed run.
        var opTimes = [[Double]](repeating: [], count: program.ops.count)
        var timing = false
        var tilePlan: TilePlan?
        func once() throws {
            var last = ProcessClock.seconds()
            func opFinished(_ i: Int) {
                let now = ProcessClock.seconds()
                if timing { opTimes[i].append((now - last) * 1000) }
                last = now
            }
            switch model {
            case .float(let e): _ = try e.derain(pixels: floatPixels, parallel: parallel, opFinished: opFinished)
            case .int8(let e):
                tilePlan = try LoadedModel.derainInt8(e, pixels, budget: budget, statistics: statistics, parallel: parallel, opFinished: opFinished).1
            }
        }
        var times: [Double] = []
        do {
            try once()
            timing = true
            for _ in 0..<runs {
                let start = ProcessClock.seconds()
                try once()
                times.append((ProcessClock.seconds() - start) * 1000)
            }
        } catch {
            throw RunFailure(.inputUnsupported, "\(modelPath): \(error)")
        }
        times.sort()
        let median = times.count % 2 == 1 ? times[times.count / 2] : (times[times.count / 2 - 1] + times[times.count / 2]) / 2
        let gmacs = Double(macs) / 1e9 / (median / 1000)
        let rss = ProcessClock.peakResidentBytes()
        // The executor's planned working memory for this frame untiled (weights excluded).
        let working: Int
        switch model {
        case .float(let e): working = try e.workingBytes(height: size.height, width: size.width)
        case .int8(let e): working = try e.workingBytes(height: size.height, width: size.width)
        }
        let precision: String
        var kernel: String
        switch model {
        case .float(let e):
            precision = "float32"
            kernel = e.usesReference ? "reference" : FloatExecutor.kernelName
        case .int8(let e):
            precision = program.precision == .mixed ? "mixed" : "int8"
            kernel = e.usesReference ? "reference" : Int8Executor.kernelName
        }
        if json {
            print("{\"model\": \"\(modelPath)\", \"precision\": \"\(precision)\", \"kernel\": \"\(kernel)\", \"width\": \(size.width), "
                + "\"height\": \(size.height), \"threads\": \(threads), \"runs\": \(runs), \"median_ms\": \(format(median)), "
                + "\"min_ms\": \(format(times.first!)), \"max_ms\": \(format(times.last!)), \"gmac\": \(format(Double(macs) / 1e9)), "
                + "\"gmacs_per_s\": \(format(gmacs)), \"peak_rss_bytes\": \(rss), \"working_bytes_untiled\": \(working), \"tiles\": \(tilePlan?.tileCount ?? 1), "
                + "\"tile_core\": \(tilePlan?.core ?? 0), \"tile_halo\": \(tilePlan?.halo ?? 0), \"tile_statistics\": \"\(tilePlan == nil ? "none" : statistics.rawValue)\"}")
        } else {
            print("\(modelPath): \(precision) (\(kernel) kernels), \(size.width)x\(size.height), \(threads) thread(s), \(runs) runs")
            print("  median \(format(median)) ms  min \(format(times.first!)) ms  max \(format(times.last!)) ms")
            print("  \(format(Double(macs) / 1e9)) GMAC per frame, \(format(gmacs)) GMAC/s, peak RSS \(format(Double(rss) / 1048576)) MiB, working memory untiled \(format(Double(working) / 1048576)) MiB")
            if let p = tilePlan {
                print("  \(p.tileCount) tiles: core \(p.core), halo \(p.halo), \(statistics.rawValue) statistics, planned \(format(Double(p.workingBytes) / 1048576)) MiB")
            }
        }
        if profile && !opTimes[0].isEmpty {
            // Median per op, with its MACs and throughput, in program order.
            let shapes = try program.inferShapes(height: (size.height + m - 1) / m * m, width: (size.width + m - 1) / m * m)
            let lines = program.ops.enumerated().map { i, op -> String in
                let t = opTimes[i].sorted()[opTimes[i].count / 2]
                let opMacs = program.multiplyAccumulates(op: i, shapes: shapes)
                let rate = opMacs > 0 ? "  \(format(Double(opMacs) / 1e9 / (t / 1000))) GMAC/s" : ""
                return "  op \(i) \(op.kind) k\(op.weight >= 0 ? program.tensors[op.weight].dims[2] : 0) s\(op.stride) -> \(shapes[i + 1]): \(format(t)) ms\(rate)"
            }
            for line in lines { Files.writeStandardError(line + "\n") }
        }
    }

    /// Two decimals, no Foundation.
    private func format(_ x: Double) -> String {
        let r = (x * 100).rounded()
        let whole = Int(r / 100), frac = Int(abs(r - Double(whole) * 100))
        return "\(r < 0 && whole == 0 ? "-" : "")\(whole).\(frac < 10 ? "0" : "")\(frac)"
    }
}
