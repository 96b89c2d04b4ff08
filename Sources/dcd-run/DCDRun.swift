import ArgumentParser
import DCDImage
import DCDPlatform
import DCDRuntime

/// The command line over the runtime: one PNG, a folder of PNGs, or a raw frame stream; or a
/// benchmark. Every failure is one line on standard error naming the file and what is wrong,
/// with an exit status of its kind (`ExitStatus`); outputs are written to a temporary name and
/// renamed, never half-written.
@main
struct DCDRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-run",
        abstract: "Derain PNG images, folders of them, or raw camera frame streams with a compiled dcd model.",
        usage: """
            dcd-run [--model M] in.png -o out.png
            dcd-run [--model M] in_dir/ -o out_dir/ [-r] [--force]
            dcd-run [--model M] --raw WxH --pix-fmt rgb24|nv12|yuv420p [in.raw|-] [-o out.raw|-]
            dcd-run [--model M] --bench [--size WxH] [--runs N] [--threads T] [--json]
            """,
        discussion: """
            A PNG output keeps the input's size, bit depth, colour type and alpha; --side-by-side \
            writes input and output next to each other. An output path ending in .npy gets \
            float32 values (y+1)/2, HxWx3, unclamped, for numerical checks.

            Folders: every PNG (sub-folders too with -r) is written under the same relative \
            name in the output folder; outputs newer than their inputs are skipped unless \
            --force; a bad file is reported and the run goes on.

            Raw streams: headerless frames on standard input (or IN) to standard output (or \
            OUT), e.g. ffmpeg -i in.mp4 -f rawvideo -pix_fmt nv12 - | dcd-run --raw 1280x720 \
            --pix-fmt nv12 | ffmpeg -f rawvideo -pix_fmt nv12 -s 1280x720 -i - out.mp4. \
            YUV formats convert with --color-matrix (default bt709 from 720 lines up, bt601 \
            below) and --color-range (default limited).

            Exit status:
            \(ExitStatus.table)
            """)

    @Option(name: .shortAndLong, help: "Compiled model file (.dcdm).")
    var model: String = DCDRun.defaultModel

    @Argument(help: "Input PNG file or folder; with --raw, a raw stream file (default: standard input).")
    var input: String?

    @Option(name: .shortAndLong, help: "Output file (.png, or .npy for float values) or folder; with --raw, a file (default: standard output).")
    var output: String?

    @Flag(name: .shortAndLong, help: "Folders: include sub-folders.")
    var recursive = false

    @Flag(help: "Folders: redo outputs that are newer than their inputs.")
    var force = false

    @Flag(help: "PNG outputs: the input and the derained image side by side.")
    var sideBySide = false

    @Option(help: "Raw frame stream of this size, WxH.")
    var raw: String?

    @Option(help: "Raw frames' pixel format: rgb24, nv12 or yuv420p.")
    var pixFmt: String = "rgb24"

    @Option(help: "YUV matrix: bt601 or bt709 (default: bt709 for frames 720 lines or taller, else bt601).")
    var colorMatrix: String?

    @Option(help: "YUV range: limited (16-235) or full (0-255).")
    var colorRange: String = "limited"

    @Option(help: "Raw streams, int8 models: reuse the last key frame's InstanceNorm statistics while the mean luma change of 8x8 blocks stays below this many levels (e.g. 2).")
    var reuseStatistics: Double?

    @Flag(inversion: .prefixedNo, help: "Give each output the input's brightness, contrast and colour cast (a per-channel gain and offset fitted to the rainy input, robust to its streaks): the generator cannot see them. Default: as the model was compiled (dcd-compile --color-anchor).")
    var colorAnchor: Bool?

    @Option(help: "The colour anchor's model: channel (a gain and offset per channel) or matrix (a 3x3 colour matrix and offset per pixel); implies --color-anchor. Default: the model's, else channel.")
    var anchorFit: String?

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
        if let problem = ColorAnchor.Fit.flagProblem(name: anchorFit, enabled: colorAnchor) { throw ValidationError(problem) }
        guard TileStatisticsOption(rawValue: tileStatistics) != nil else {
            throw ValidationError("--tile-statistics must be exact or proxy, got '\(tileStatistics)'")
        }
        let rawOnly = [(pixFmt != "rgb24", "--pix-fmt"), (colorMatrix != nil, "--color-matrix"), (colorRange != "limited", "--color-range"),
                       (reuseStatistics != nil, "--reuse-statistics")]
        if raw == nil, let (_, flag) = rawOnly.first(where: { $0.0 }) { throw ValidationError("\(flag) goes with --raw") }
        if bench {
            guard input == nil && output == nil && raw == nil else { throw ValidationError("--bench takes no input, output or --raw") }
            guard !recursive && !force && !sideBySide else { throw ValidationError("--bench takes no -r, --force or --side-by-side") }
            guard runs >= 1 && runs <= 10_000 else { throw ValidationError("--runs must be between 1 and 10000, got \(runs)") }
            guard BenchSize(size) != nil else { throw ValidationError("--size must be WxH with sides 1...16384, got '\(size)'") }
            return
        }
        guard !json && !profile else { throw ValidationError("--json and --profile go with --bench") }
        if let raw {
            guard BenchSize(raw) != nil else { throw ValidationError("--raw must be WxH with sides 1...16384, got '\(raw)'") }
            guard RawFrameFormat.PixelFormat(rawValue: pixFmt) != nil else { throw ValidationError("--pix-fmt must be rgb24, nv12 or yuv420p, got '\(pixFmt)'") }
            guard colorMatrix.map({ RawFrameFormat.Matrix(rawValue: $0) != nil }) ?? true else {
                throw ValidationError("--color-matrix must be bt601 or bt709, got '\(colorMatrix!)'")
            }
            guard RawFrameFormat.Range(rawValue: colorRange) != nil else { throw ValidationError("--color-range must be limited or full, got '\(colorRange)'") }
            guard !recursive && !force && !sideBySide else { throw ValidationError("-r, --force and --side-by-side are for PNG files, not --raw streams") }
            if let r = reuseStatistics { guard r >= 0 && r.isFinite else { throw ValidationError("--reuse-statistics must be a level difference >= 0, got \(r)") } }
            guard reuseStatistics == nil || maxMemory == nil else { throw ValidationError("--reuse-statistics runs frames untiled: it does not go with --max-memory") }
            return
        }
        guard input != nil else { throw ValidationError("an input PNG or folder is required (or --raw, or --bench)") }
        guard let output else { throw ValidationError("an output is required: -o out.png, or -o out_dir/ for a folder") }
        if sideBySide && output.hasSuffix(".npy") { throw ValidationError("--side-by-side writes PNG images, not .npy") }
    }

    func run() throws {
        do {
            let status = try execute()
            if status != .success { throw ExitCode(status.rawValue) }
        } catch let failure as RunFailure {
            Files.writeStandardError("dcd-run: \(failure.message)\n")
            throw ExitCode(failure.status.rawValue)
        }
    }

    private func execute() throws(RunFailure) -> ExitStatus {
        let model: LoadedModel
        do {
            model = try LoadedModel(path: self.model)
        } catch let e as Files.Failure {
            throw RunFailure(.modelUnreadable, "\(e)")
        } catch {
            throw RunFailure(.modelInvalid, "\(self.model): \(error)")
        }
        let statistics = TileStatisticsOption(rawValue: tileStatistics)!
        let budget = maxMemory.flatMap(MemoryBudget.init)
        if bench {
            do {
                try Bench(model: model, modelPath: self.model, size: BenchSize(size)!, runs: runs, threads: threads, json: json, profile: profile,
                          budget: budget, statistics: statistics).run()
            } catch let failure as RunFailure {
                throw failure
            } catch {
                throw RunFailure(.inputUnsupported, "\(self.model): \(error)")
            }
            return .success
        }
        let deraining = Deraining(model: model, parallel: ThreadPool.runner(threads: threads), budget: budget, statistics: statistics,
                                  colorAnchor: ColorAnchor.Fit.chosen(enabled: colorAnchor, requested: anchorFit.flatMap { ColorAnchor.Fit(name: $0) },
                                                                      model: model.program.colorAnchor))
        if let raw {
            let size = BenchSize(raw)!
            if reuseStatistics != nil, case .float = model {
                throw RunFailure(.usage, "\(self.model): --reuse-statistics needs an int8 model (this one is float32)")
            }
            let format: RawFrameFormat
            do {
                format = try RawFrameFormat(width: size.width, height: size.height, pixelFormat: RawFrameFormat.PixelFormat(rawValue: pixFmt)!,
                                            matrix: colorMatrix.flatMap(RawFrameFormat.Matrix.init) ?? (size.height >= 720 ? .bt709 : .bt601),
                                            range: RawFrameFormat.Range(rawValue: colorRange)!)
            } catch {
                throw RunFailure(.usage, "--raw \(raw) --pix-fmt \(pixFmt): \(error)")
            }
            return try RawStreamRun(format: format, input: input, output: output, deraining: deraining, reuseThreshold: reuseStatistics).run()
        }
        let input = self.input!, output = self.output!
        if Files.isDirectory(input) {
            guard !output.hasSuffix(".png") && !output.hasSuffix(".npy") else {
                throw RunFailure(.usage, "\(input) is a folder: the output must be a folder too, not '\(output)'")
            }
            return try FolderRun(input: input, output: output, recursive: recursive, force: force, sideBySide: sideBySide, deraining: deraining).run()
        }
        guard !recursive && !force else { throw RunFailure(.usage, "-r and --force are for folders; \(input) is not one") }
        guard output.hasSuffix(".png") || output.hasSuffix(".npy") || Files.isSpecialFile(output) else {
            throw RunFailure(.usage, "output '\(output)' must end in .png or .npy")
        }
        let image = try ImageFiles.read(input)
        let (result, pixels) = try deraining.derain(image, name: input)
        try ImageFiles.write(result, pixels: pixels, input: image, to: output, sideBySide: sideBySide)
        return .success
    }
}
