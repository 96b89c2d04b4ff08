import ArgumentParser
import DCDImage
import DCDPlatform
import DCDRuntime

/// Thin command line over the runtime: read the model and the image, run, write atomically.
@main
struct DCDRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-run",
        abstract: "Derain a PNG image with a compiled dcd model.",
        discussion: """
            The output keeps the input's size, bit depth, colour type and alpha. An output path \
            ending in .npy gets float32 values (y+1)/2, HxWx3, unclamped, for numerical checks. \
            Outputs are written to a temporary name and renamed: never half-written.
            """)

    @Option(name: .shortAndLong, help: "Compiled model file (.dcdm).")
    var model: String = DCDRun.defaultModel

    @Argument(help: "Input PNG file.")
    var input: String?

    @Option(name: .shortAndLong, help: "Output file (.png, or .npy for float values).")
    var output: String?

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = ThreadPool.availableCores

    @Flag(help: "Benchmark the model on a synthetic frame instead of deraining a file.")
    var bench = false

    @Option(help: "Benchmark frame size, WxH.")
    var size: String = "256x256"

    @Option(help: "Benchmark runs after one warm-up run.")
    var runs: Int = 10

    @Flag(help: "Benchmark result as one JSON object.")
    var json = false

    @Flag(help: "With --bench: the median time of every op, on standard error.")
    var profile = false

    @Option(help: "Working-memory budget of the runtime (bytes; K, M, G suffixes). int8 frames that do not fit run in overlapping tiles.")
    var maxMemory: String?

    @Option(help: "InstanceNorm statistics of tiled frames: exact (the untiled result, bit for bit; a pass per layer) or proxy (from the frame shrunk 4x: one extra small run).")
    var tileStatistics: String = "exact"

    static let defaultModel = "models/default.dcdm"

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        if let maxMemory, MemoryBudget(maxMemory) == nil {
            throw ValidationError("--max-memory must be a positive byte count with an optional K, M or G suffix, got '\(maxMemory)'")
        }
        guard TileStatisticsOption(rawValue: tileStatistics) != nil else {
            throw ValidationError("--tile-statistics must be exact or proxy, got '\(tileStatistics)'")
        }
        if bench {
            guard input == nil && output == nil else { throw ValidationError("--bench takes no input or output file") }
            guard runs >= 1 && runs <= 10_000 else { throw ValidationError("--runs must be between 1 and 10000, got \(runs)") }
            guard BenchSize(size) != nil else { throw ValidationError("--size must be WxH with sides 1...16384, got '\(size)'") }
            return
        }
        guard !json else { throw ValidationError("--json goes with --bench") }
        guard input != nil else { throw ValidationError("an input PNG is required (or --bench)") }
        guard let output else { throw ValidationError("an output file is required: -o out.png") }
        guard output.hasSuffix(".png") || output.hasSuffix(".npy") else {
            throw ValidationError("output '\(output)' must end in .png or .npy")
        }
    }

    func run() throws {
        let model: LoadedModel
        do {
            model = try LoadedModel(path: self.model)
        } catch {
            throw Failure("\(self.model): \(error)")
        }
        if bench {
            try Bench(model: model, modelPath: self.model, size: BenchSize(size)!, runs: runs, threads: threads, json: json, profile: profile,
                      budget: maxMemory.flatMap(MemoryBudget.init), statistics: TileStatisticsOption(rawValue: tileStatistics)!).run()
            return
        }
        let input = self.input!, output = self.output!
        let image: Image
        do {
            image = try PNGCodec.decode(try Files.read(input))
        } catch let e as Files.Failure {
            throw Failure("\(e)")
        } catch {
            throw Failure("\(input): \(error)")
        }
        // Output in pixel units (0...255), as float for .npy and as the image's samples for .png.
        let pixels: [Float]
        let result: Image
        do {
            switch model {
            case .float(let executor):
                if let budget = maxMemory.flatMap(MemoryBudget.init) {
                    let needed = try executor.workingBytes(height: image.height, width: image.width)
                    guard needed <= budget.bytes else {
                        throw Failure("a float model needs \(needed) bytes of working memory for this \(image.width)x\(image.height) image, over the --max-memory budget of \(budget.bytes) (float models run untiled; int8 models tile)")
                    }
                }
                let out = try executor.derain(pixels: image.pixelTensor(), parallel: ThreadPool.runner(threads: threads))
                pixels = out.storage
                result = image.replacingColor(withPixels: out)
            case .int8(let executor):
                let (out, _) = try LoadedModel.derainInt8(executor, image.byteTensor(), budget: maxMemory.flatMap(MemoryBudget.init),
                                                          statistics: TileStatisticsOption(rawValue: tileStatistics)!,
                                                          parallel: ThreadPool.runner(threads: threads))
                pixels = out.storage.map { Float($0) }
                result = image.replacingColor(withBytes: out)
            }
        } catch {
            throw Failure("\(input): \(error)")
        }
        let bytes: [UInt8]
        if output.hasSuffix(".npy") {
            // HxWx3, (y + 1) / 2, not clamped (int8 models: their bytes / 255).
            let plane = image.height * image.width
            var hwc = [Float](repeating: 0, count: plane * 3)
            for p in 0..<plane { for c in 0..<3 { hwc[p * 3 + c] = pixels[c * plane + p] / 255 } }
            bytes = NPY.encode(float32: hwc, shape: [image.height, image.width, 3])
        } else {
            do { bytes = try PNGCodec.encode(result) } catch { throw Failure("\(output): \(error)") }
        }
        do { try Files.writeAtomically(bytes, to: output) } catch { throw Failure("\(error)") }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
