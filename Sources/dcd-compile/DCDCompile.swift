import ArgumentParser
import DCDCompiler
import DCDImage
import DCDPlatform
import DCDRuntime

/// Thin command line over DCDCompiler: parse, call the library, write atomically.
@main
struct DCDCompile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-compile",
        abstract: "Compile a DCD-GAN generator checkpoint into a dcd model file.",
        discussion: """
            Reads PyTorch checkpoints (.pth/.pt/.ckpt, zip or legacy format) and safetensors, \
            including nested ('state_dict', 'netG_A.') and DataParallel ('module.') files. \
            The architecture (ngf, n_blocks, no_antialias, no_antialias_up) is inferred from the keys. \
            int8 models are calibrated on crops of the PNG images in --calibrate DIR (every fourth \
            image is held out to measure the result), or on built-in synthetic images.
            """)

    enum PrecisionChoice: String, ExpressibleByArgument, CaseIterable { case int8, float, mixed }

    @Argument(help: "Checkpoint file (.pth, .pt, .ckpt, .safetensors).")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "Output model file (default: the checkpoint's name with .dcdm).")
    var output: String?

    @Option(help: "Numeric precision: int8 (default), float, or mixed (int8 with chosen layers at int16 activations or float).")
    var precision: PrecisionChoice = .int8

    @Option(help: "Mixed precision: keep the most sensitive layers in float until the held-out PSNR against float reaches DB.")
    var targetPsnr: Double?

    @Option(help: ArgumentHelp("Mixed precision: one layer's precision, e.g. model.12.conv_block.5=int16 (int8, int16 or float). Repeatable.", valueName: "layer=precision"))
    var layerPrecision: [String] = []

    @Option(help: "Folder of PNG photos to calibrate int8 activation ranges on.")
    var calibrate: String?

    @Option(help: "How activation ranges are chosen: mse (default), minmax or percentile.")
    var calibrationMethod: String = CalibrationMethod.mse.rawValue

    @Option(help: "Which generator of a multi-network checkpoint to compile (G_A derains, G_B adds rain).")
    var network: String = "G_A"

    @Flag(inversion: .prefixedNo, help: "Record in the model that its outputs take the input's brightness, contrast and colour cast: dcd-run then anchors them unless given --no-color-anchor (for models whose colours drift: the generator cannot see them). Default: on for checkpoints dcd-train --color-anchor trained, off otherwise.")
    var colorAnchor: Bool?

    @Option(help: "The recorded colour anchor's model: channel (a gain and offset per channel) or matrix (a 3x3 colour matrix and offset); implies --color-anchor. Default: channel.")
    var anchorFit: String?

    @Flag(help: "Print what the checkpoint holds (format, architecture, parameters, MACs, tensors) and exit.")
    var inspect = false

    @Flag(help: "Print the graph as imported and after each pass, as text.")
    var dumpGraph = false

    @Flag(help: "Print a report: per-layer SQNR, held-out PSNR against float, size, MACs.")
    var report = false

    @Flag(help: "Print the report as JSON.")
    var json = false

    func validate() throws {
        if let problem = ColorAnchor.Fit.flagProblem(name: anchorFit, enabled: colorAnchor) { throw ValidationError(problem) }
        guard precision != .mixed || targetPsnr != nil || !layerPrecision.isEmpty else {
            throw ValidationError("--precision mixed needs --target-psnr or --layer-precision")
        }
        guard precision == .mixed || (targetPsnr == nil && layerPrecision.isEmpty) else {
            throw ValidationError("--target-psnr and --layer-precision apply to --precision mixed only")
        }
        for item in layerPrecision {
            let parts = item.split(separator: "=")
            guard parts.count == 2, LayerPrecision(rawValue: String(parts[1])) != nil else {
                throw ValidationError("--layer-precision \(item): expected layer=int8|int16|float")
            }
        }
        guard CalibrationMethod(rawValue: calibrationMethod) != nil else {
            throw ValidationError("--calibration-method \(calibrationMethod): choose minmax, percentile or mse")
        }
        guard calibrate == nil || precision != .float else {
            throw ValidationError("--calibrate applies to --precision int8 and mixed only")
        }
    }

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try Files.read(checkpoint) } catch { throw CommandFailure("\(error)") }
        let compiled: CompiledGenerator
        do {
            compiled = try CompiledGenerator(checkpointBytes: bytes, network: network) { pass, graph in
                if dumpGraph { print("== \(pass)\n\(graph.dump())\n") }
            }
        } catch {
            throw CommandFailure("\(checkpoint): \(error)")
        }
        if inspect {
            print(compiled.report(file: checkpoint))
            return
        }
        let destination = output ?? Self.defaultOutput(for: checkpoint)
        var program = compiled.program
        var summary: [(String, String)] = []
        if precision != .float {
            let (calibration, heldOut) = try calibrationImages()
            let crops = Array(Calibration.crops(of: calibration).prefix(32))
            let method = CalibrationMethod(rawValue: calibrationMethod)!
            do {
                let stats = try Calibration.statistics(of: compiled.program, crops: crops, parallel: ThreadPool.runner(threads: ThreadPool.availableCores))
                let overrides = try layerOverrides(compiled.program)
                var quantized: Quantizer.Result
                if let target = targetPsnr {
                    let outcome = try MixedPrecisionSearch.search(float: compiled.program, statistics: stats, method: method,
                                                                  heldOut: heldOut, target: target, fixed: overrides)
                    quantized = outcome.result
                    summary.append(("all_int8_psnr_db", fixed(outcome.basePSNR, 2)))
                    for (op, psnr) in outcome.promotions {
                        let name = compiled.program.tensors[compiled.program.ops[op].weight].name
                        summary.append(("promoted_to_\(outcome.layers[op]!.rawValue).\(name)", fixed(psnr, 2)))
                    }
                    summary.append(("target_psnr_db", fixed(target, 2)))
                    summary.append(("search_psnr_db", fixed(outcome.finalPSNR, 2)))
                } else {
                    quantized = try Quantizer.quantize(compiled.program, statistics: stats, method: method, layers: overrides)
                }
                program = quantized.program
                if report || json {
                    let r = try QuantizationReport.measure(float: compiled.program, int8: quantized,
                                                           layerImages: Array(crops.prefix(4)), heldOut: heldOut)
                    summary += r.layers.map { ("sqnr_db." + $0.description, fixed($0.sqnr, 2)) }
                    summary.append(("held_out_psnr_db", fixed(r.meanPSNR, 2)))
                    summary.append(("held_out_images", String(heldOut.count)))
                }
                summary.append(("calibration_crops", String(crops.count)))
                summary.append(("calibration_method", method.rawValue))
            } catch {
                throw CommandFailure("\(checkpoint): \(error)")
            }
        }
        // A checkpoint trained with the anchor asks for the per-channel one (the trainer's).
        program.colorAnchor = ColorAnchor.Fit.chosen(enabled: colorAnchor, requested: anchorFit.flatMap { ColorAnchor.Fit(name: $0) },
                                                     model: compiled.trainedWithColorAnchor ? .perChannel : nil)
        if let anchor = program.colorAnchor { summary += [("color_anchor", "true"), ("anchor_fit", anchor.name)] }
        let file: [UInt8]
        do {
            file = try ModelFileWriter.write(program)
            try Files.writeAtomically(file, to: destination)
        } catch {
            throw CommandFailure("\(error)")
        }
        if !json { for note in compiled.stateDict.notes { print("note: \(note)") } }
        let macs = (try? program.multiplyAccumulates(height: 256, width: 256)) ?? 0
        let plan = try? MemoryPlan.plan(program, height: 480, width: 640)
        summary = [("precision", precision.rawValue), ("model_bytes", String(file.count)),
                   ("macs_256x256", String(macs)), ("planned_peak_bytes_640x480", String(plan?.peakBytes ?? 0)),
                   ("architecture", "\(compiled.architecture)")] + summary
        if json {
            print("{" + summary.map { "\"\($0.0)\": " + (Double($0.1) != nil ? $0.1 : "\"\($0.1)\"") }.joined(separator: ", ") + "}")
        } else {
            print("\(checkpoint): \(compiled.architecture), \(grouped(compiled.parameterCount)) parameters -> \(destination) (\(precision.rawValue), \(grouped(file.count)) bytes)")
            if report { for (k, v) in summary { print("  \(k): \(v)") } }
        }
    }

    /// --layer-precision items as op index -> precision, by the layer's weight name.
    func layerOverrides(_ program: ModelProgram) throws -> [Int: LayerPrecision] {
        var out: [Int: LayerPrecision] = [:]
        for item in layerPrecision {
            let parts = item.split(separator: "=").map(String.init)
            guard let op = program.ops.indices.first(where: {
                let w = program.ops[$0].weight
                return (program.ops[$0].kind == .conv2d || program.ops[$0].kind == .convTranspose2d) && w >= 0
                    && (program.tensors[w].name == parts[0] || program.tensors[w].name == parts[0] + ".weight")
            }) else {
                throw CommandFailure("--layer-precision: no convolution named '\(parts[0])' (see dcd-compile --inspect)")
            }
            out[op] = LayerPrecision(rawValue: parts[1])!
        }
        return out
    }

    /// Calibration and held-out images (pixel units): from --calibrate (every fourth image held
    /// out), or built-in synthetic ones with a warning.
    func calibrationImages() throws -> ([FloatTensor], [FloatTensor]) {
        guard let dir = calibrate else {
            printError("warning: no --calibrate folder: calibrating on built-in synthetic images; real photos calibrate better")
            let all = Calibration.syntheticImages()
            return (Array(all.prefix(6)), Array(all.suffix(2)))
        }
        let names: [String]
        do { names = try Files.contents(of: dir).filter { $0.lowercased().hasSuffix(".png") } } catch { throw CommandFailure("\(error)") }
        guard !names.isEmpty else { throw CommandFailure("\(dir): no PNG images to calibrate on") }
        var calibration: [FloatTensor] = [], heldOut: [FloatTensor] = []
        for (i, name) in names.enumerated() {
            let path = dir + "/" + name
            let image: Image
            do { image = try PNGCodec.decode(try Files.read(path)) } catch { throw CommandFailure("\(path): \(error)") }
            // Held-out photos: 128x128 centre crops (every candidate of --target-psnr runs the int8
            // reference executor over all of them).
            if names.count >= 2 && i % 4 == 3 { heldOut.append(Self.centerCrop(image.pixelTensor(), 128)) } else { calibration.append(image.pixelTensor()) }
        }
        if heldOut.isEmpty { heldOut = Array(Calibration.syntheticImages().suffix(2)) }
        return (calibration, heldOut)
    }

    static func centerCrop(_ t: FloatTensor, _ size: Int) -> FloatTensor {
        let h = min(size, t.height), w = min(size, t.width)
        let y0 = (t.height - h) / 2, x0 = (t.width - w) / 2
        return FloatReference.crop(t, top: y0, bottom: t.height - h - y0, left: x0, right: t.width - w - x0)
    }

    static func defaultOutput(for path: String) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[slash...].lastIndex(of: "."), dot > slash { return String(path[..<dot]) + ".dcdm" }
        return path + ".dcdm"
    }
}

func printError(_ s: String) {
    var e = StandardError()
    print(s, to: &e)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) { Files.writeStandardError(string) }
}

/// A failure reported as one line, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
