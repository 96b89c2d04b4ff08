import ArgumentParser
import DCDCompiler
import DCDPlatform
import DCDRuntime
import DCDTrain

/// `dcd-train --rainy trainA --clean trainB --out runs/x`: DCD-GAN on the CPU from unpaired
/// folders. Prints a progress line per step. Every --save-every steps and at the end it writes a
/// numbered snapshot `<out>/snapshots/step_<N>/` (the six networks as `net_<name>.safetensors`
/// with the reference's state_dict keys, and `training_state.safetensors`: optimizer moments,
/// step, random state, configuration), then the same files as `<out>/latest_*`; each file is
/// written atomically. `--resume` continues from the latest files, or from the newest complete
/// snapshot when a kill left the latest files from different steps: a resumed run computes what
/// the uninterrupted run would have (tested byte for byte).
@main
struct DCDTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-train",
        abstract: "Train DCD-GAN (rainy -> clean) from unpaired PNG folders on the CPU.",
        discussion: """
            Checkpoints: <out>/latest_net_{G_A,G_B,D_A,D_B,F1,F2}.safetensors (the reference's \
            state_dict keys; dcd-compile and PyTorch's load_state_dict read them) and \
            latest_training_state.safetensors, plus numbered snapshots in <out>/snapshots/; \
            --resume continues exactly. Every --sample-every steps: <out>/samples/step_N.png, \
            losses.tsv and index.html (open it in a browser). Build with DCD_TARGET_CPU (see \
            README, "CPU targets") for the AVX2 or AVX-512 kernels.
            """)

    @Option(help: "Folder of rainy PNGs (domain A).") var rainy: String
    @Option(help: "Folder of clean PNGs (domain B).") var clean: String
    @Option(help: "Output folder for checkpoints.") var out: String
    @Option(help: "Generator width.") var ngf: Int = 16
    @Option(name: .customLong("n-blocks"), help: "Residual blocks.") var blocks: Int = 4
    @Option(help: "Discriminator width.") var ndf: Int = 16
    @Option(help: "Training crop side.") var crop: Int = 128
    @Option(name: .customLong("load-size"), help: "Images are resized to this square before cropping.") var loadSize: Int = 143
    @Option(name: .customLong("nce-layers"), help: "Generator modules PatchNCE compares (default 4,8,12,16: the two down convolutions, residual blocks 1 and 5; with fewer blocks the last one instead of 16).") var nceLayers: String?
    @Option(help: "Patches per NCE layer.") var patches: Int = 256
    @Option(help: "PatchSampleF MLP width.") var mlpWidth: Int = 256
    @Option(help: "Training steps.") var steps: Int = 100
    @Option(name: .customLong("stop-at"), help: "Stop after this step, with a checkpoint, as if interrupted there: --resume continues toward --steps on the same schedule.") var stopAt: Int?
    @Option(help: "Random seed: the same seed gives the same run.") var seed: UInt64 = 1
    @Option(name: .customLong("save-every"), help: "Checkpoint every N steps.") var saveEvery: Int = 50
    @Option(name: .customLong("lr"), help: "Adam learning rate of the generators and discriminators (default the reference's 1e-4, or with --resume the run's; given with --resume, a new peak rate, e.g. a lower one for a warm restart; the projection heads keep 1e-3).") var learningRate: Double?
    @Option(name: .customLong("lambda-cyc"), help: "Weight of the cycle loss (0: the reference's objective).") var lambdaCycle: Double = 0
    @Option(name: .customLong("init-gain"), help: "Standard deviation scale of the xavier-normal initialization (the reference's init_gain).") var initGain: Double = 0.02
    @Option(name: .customLong("lambda-idt"), help: "Weight of the identity losses (the reference's lambda_IDT).") var lambdaIdentity: Double = 1
    @Option(name: .customLong("lambda-nce"), help: "Weight of the PatchNCE losses (the reference's lambda_NCE).") var lambdaNCE: Double = 2
    @Option(name: .customLong("decay-steps"), help: "The last N of --steps decay the learning rates linearly (the reference's n_epochs_decay, in steps; default 0, or with --resume the run's).") var decaySteps: Int?
    @Option(name: .customLong("sample-every"), help: "A sample grid and the HTML report every N steps.") var sampleEvery: Int = 50
    @Option(help: "Worker threads (default: all cores).") var threads: Int = ThreadPool.availableCores
    @Flag(help: "The supervised baseline instead of DCD-GAN: G_A alone, trained with L1 on paired folders (--rainy, and --clean holding the clean image of each rainy one under the same name).") var supervised = false
    @Flag(name: .customLong("color-anchor"), help: "Not the reference's objective: every generator output is anchored to its input's brightness, contrast and colour cast (as dcd-run --color-anchor) before the losses see it, so the generators need not guess colours they cannot see. Compile the result with dcd-compile --color-anchor.") var colorAnchor = false
    @Flag(help: "Continue the run in --out (its saved configuration; --steps is the new total, and --decay-steps, if given, the new schedule's decay).") var resume = false
    @Option(name: .customLong("init-from"), help: "Start from the reference code's checkpoints in this folder: latest_net_{G_A,G_B,D_A,D_B}.pth (and F1, F2 if present); --ngf, --n-blocks and --ndf are taken from them.") var initFrom: String?

    /// The base learning rate: --lr, the resumed run's, or the reference's.
    var rate: Double { learningRate ?? 1e-4 }

    static let networks = ["G_A", "G_B", "D_A", "D_B", "F1", "F2"]

    func validate() throws {
        guard ngf >= 1, blocks >= 1, ndf >= 1, steps >= 1, saveEvery >= 1, sampleEvery >= 1, patches >= 1, mlpWidth >= 1, (1...256).contains(threads) else {
            throw ValidationError("--ngf, --n-blocks, --ndf, --steps, --save-every, --sample-every, --patches and --mlp-width must be positive, --threads 1...256")
        }
        guard rate > 0 && rate.isFinite else { throw ValidationError("--lr must be positive") }
        guard initGain > 0 && initGain.isFinite else { throw ValidationError("--init-gain must be positive") }
        for (flag, weight) in [("--lambda-cyc", lambdaCycle), ("--lambda-idt", lambdaIdentity), ("--lambda-nce", lambdaNCE)] {
            guard weight >= 0 && weight.isFinite else { throw ValidationError("\(flag) must be a finite weight, at least 0") }
        }
        if let decaySteps, !(0...steps).contains(decaySteps) { throw ValidationError("--decay-steps must be between 0 and --steps") }
        if let stopAt, !(1...steps).contains(stopAt) { throw ValidationError("--stop-at must be between 1 and --steps") }
        guard crop >= 32, crop % 4 == 0, loadSize >= crop else { throw ValidationError("--crop must be a multiple of 4, at least 32, and at most --load-size") }
        if let nceLayers, Self.layers(nceLayers) == nil { throw ValidationError("--nce-layers must be a comma-separated list of module indices, got '\(nceLayers)'") }
    }

    /// The NCE layers for this many blocks: the flag's, checked, or the default.
    func layers(blocks: Int) throws -> [Int] {
        let layers = nceLayers.flatMap(Self.layers) ?? [4, 8, 12, min(16, 11 + blocks)]
        guard layers.allSatisfy({ [4, 8].contains($0) || (12..<(12 + blocks)).contains($0) }) else {
            throw TrainingError("--nce-layers must list modules 4, 8 or 12...\(11 + blocks) (residual blocks), got \(layers)")
        }
        return layers
    }

    static func layers(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",").map { Int(String($0).trimmingSpaces()) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { $0! }
    }

    /// The run's configuration as saved in training states.
    var configuration: [(String, String)] {
        [("ngf", "\(ngf)"), ("n_blocks", "\(blocks)"), ("ndf", "\(ndf)"), ("crop", "\(crop)"), ("load_size", "\(loadSize)"),
         ("nce_layers", ((try? layers(blocks: blocks)) ?? []).map(String.init).joined(separator: ",")), ("patches", "\(patches)"), ("mlp_width", "\(mlpWidth)"), ("lambda_cyc", "\(lambdaCycle)"), ("lambda_idt", "\(lambdaIdentity)"), ("lambda_nce", "\(lambdaNCE)"), ("init_gain", "\(initGain)"), ("seed", "\(seed)"), ("supervised", "\(supervised)"),
         ("color_anchor", "\(colorAnchor)"), ("decay_steps", "\(decaySteps ?? 0)"), ("lr", "\(rate)")]
    }

    func run() throws {
        var command = self
        var saved: SavedRun?
        if resume {
            saved = try SavedRun.newest(in: out)
            // The saved configuration wins over the flags (the weights have its shapes).
            let c = saved!.configuration
            func int(_ k: String) throws -> Int {
                guard let v = c[k].flatMap({ Int($0) }) else { throw TrainingError("\(saved!.directory): training state lacks '\(k)'") }
                return v
            }
            command.ngf = try int("ngf"); command.blocks = try int("n_blocks"); command.ndf = try int("ndf")
            command.crop = try int("crop"); command.loadSize = try int("load_size"); command.patches = try int("patches")
            command.mlpWidth = try int("mlp_width"); command.nceLayers = c["nce_layers"] ?? nceLayers
            command.lambdaCycle = c["lambda_cyc"].flatMap { Double($0) } ?? lambdaCycle
            // Runs saved before these weights were options used the reference's.
            command.lambdaIdentity = c["lambda_idt"].flatMap { Double($0) } ?? 1
            command.lambdaNCE = c["lambda_nce"].flatMap { Double($0) } ?? 2
            command.initGain = c["init_gain"].flatMap { Double($0) } ?? 0.02  // recorded, no longer used
            command.supervised = c["supervised"] == "true"
            command.colorAnchor = c["color_anchor"] == "true"
            // The schedule is the run's unless --decay-steps gives a new one (runs saved before it
            // was recorded: the flag's).
            if decaySteps == nil { command.decaySteps = c["decay_steps"].flatMap { Int($0) } }
            if learningRate == nil, let rate = c["lr"].flatMap({ Double($0) }) { command.learningRate = rate }
            guard command.decaySteps ?? 0 <= command.steps else {
                throw ValidationError("--steps \(command.steps) is less than the run's --decay-steps \(command.decaySteps ?? 0)")
            }
        }
        var initial: [String: [String: (shape: [Int], values: [Float])]] = [:]
        if let initFrom, !resume {
            initial = try Self.referenceCheckpoints(in: initFrom)
            // The architecture is the checkpoints': infer it as dcd-compile does.
            let gA = try StateDict(checkpoint: try Checkpoint(bytes: try Files.read("\(initFrom)/latest_net_G_A.pth")), network: "G_A")
            let architecture = try GeneratorImporter.inferArchitecture(gA)
            guard !architecture.noAntialias && !architecture.noAntialiasUp else {
                throw TrainingError("\(initFrom)/latest_net_G_A.pth: \(architecture); the trainer builds the antialiased generator only")
            }
            command.ngf = architecture.ngf
            command.blocks = architecture.blockCount
            guard let d = initial["D_A"]?["model.0.weight"] else { throw TrainingError("\(initFrom)/latest_net_D_A.pth: no model.0.weight") }
            command.ndf = d.shape[0]
            Files.writeStandardError("starting from \(initFrom): \(architecture), ndf=\(command.ndf)\n")
        }
        try command.train(from: saved, initial: initial)
    }

    /// The reference's per-network checkpoints (plain state_dicts saved by torch.save): G_A, G_B,
    /// D_A and D_B required, F1 and F2 optional (fresh heads otherwise).
    static func referenceCheckpoints(in dir: String) throws -> [String: [String: (shape: [Int], values: [Float])]] {
        var out: [String: [String: (shape: [Int], values: [Float])]] = [:]
        for net in networks {
            let path = "\(dir)/latest_net_\(net).pth"
            guard Files.exists(path) else {
                if net.hasPrefix("F") { continue }
                throw TrainingError("\(path): missing (--init-from needs G_A, G_B, D_A and D_B)")
            }
            let checkpoint: Checkpoint
            do { checkpoint = try Checkpoint(bytes: try Files.read(path)) } catch { throw TrainingError("\(path): \(error)") }
            var values: [String: (shape: [Int], values: [Float])] = [:]
            for t in checkpoint.tensors {
                // DataParallel-saved files prefix every key with "module.".
                let name = t.name.hasPrefix("module.") ? String(t.name.dropFirst(7)) : t.name
                values[name] = (t.tensor.shape, t.tensor.values)
            }
            out[net] = values
        }
        return out
    }

    func train(from saved: SavedRun?, initial: [String: [String: (shape: [Int], values: [Float])]] = [:]) throws {
        // Workers spin through the serial gaps between ops (about 2 ms of polling).
        Ops.parallel = ThreadPool.runner(threads: threads, spins: ThreadPool.trainingSpins)
        HeapTuning.keepFreedMemory()
        var random = TrainingRandom(seed: seed)
        let data = try UnpairedImages(rainy: rainy, clean: clean, loadSize: loadSize, crop: crop)
        var options = ObjectiveOptions()
        options.nceLayers = try layers(blocks: blocks)
        options.patches = patches
        options.lambdaCycle = lambdaCycle
        options.lambdaIdentity = lambdaIdentity
        options.lambdaNCE = lambdaNCE
        options.colorAnchor = colorAnchor
        func values(_ net: String, _ fresh: () -> [String: (shape: [Int], values: [Float])]) -> [String: (shape: [Int], values: [Float])] {
            saved?.networks[net] ?? initial[net] ?? fresh()
        }
        let shapes = ResnetGenerator<Float>.parameterShapes(ngf: ngf, blocks: blocks)
        let gA = try ResnetGenerator<Float>(ngf: ngf, blocks: blocks, values: values("G_A") { Initialization.parameters(shapes, gain: initGain, &random) })
        let gB = try ResnetGenerator<Float>(ngf: ngf, blocks: blocks, values: values("G_B") { Initialization.parameters(shapes, gain: initGain, &random) })
        let dShapes = PatchDiscriminator<Float>.parameterShapes(ndf: ndf)
        let dA = try PatchDiscriminator<Float>(ndf: ndf, values: values("D_A") { Initialization.parameters(dShapes, gain: initGain, &random) })
        let dB = try PatchDiscriminator<Float>(ndf: ndf, values: values("D_B") { Initialization.parameters(dShapes, gain: initGain, &random) })
        // The MLPs take the NCE layers' channel counts (the reference creates them at the first batch).
        let probe = gA.forward(Variable(shape: [1, 3, crop, crop], values: [Float](repeating: 0, count: 3 * crop * crop)),
                               features: options.nceLayers, encodeOnly: true).features
        func mlps(_ net: String) throws -> [PatchMLP<Float>] {
            try probe.enumerated().map { l, f throws in
                if let saved = saved?.networks[net] ?? initial[net] { return try PatchMLP<Float>(prefix: "mlp_\(l).", values: saved) }
                let c = f.shape[1]
                return try PatchMLP<Float>(prefix: "", values: Initialization.parameters([("0.weight", [mlpWidth, c]), ("0.bias", [mlpWidth]),
                                                                                          ("2.weight", [mlpWidth, mlpWidth]), ("2.bias", [mlpWidth])], gain: initGain, &random))
            }
        }
        let model = DCDGAN(generatorA: gA, generatorB: gB, discriminatorA: dA, discriminatorB: dB, f1: try mlps("F1"), f2: try mlps("F2"), options: options,
                           learningRate: Float(rate))
        var first = 0
        if let saved {
            try model.restoreOptimizers(saved.state, steps: saved.optimizerSteps)
            random = TrainingRandom(seed: 0)
            random.state = saved.randomState
            first = saved.step
            Files.writeStandardError("resuming \(saved.directory) at step \(first)\n")
        }
        try Files.makeDirectory(out)
        var report = TrainingReport(out: out, resumingAt: saved?.step)
        if supervised { report.gridCaption = "rainy | G_A (derained) | clean" }
        if colorAnchor { report.gridCaption += " (generator outputs colour-anchored to their inputs)" }
        let start = ProcessClock.seconds()
        let end = min(steps, stopAt ?? steps)
        for step in first..<max(first, end) {
            model.scaleLearningRates(LearningRateSchedule(constantSteps: steps - (decaySteps ?? 0), decaySteps: decaySteps ?? 0).factor(step: step))
            let l: StepLosses, images: () -> [Variable<Float>]
            if supervised {
                let (rainyImage, cleanImage) = try data.pairedBatch(step: step, &random)
                l = model.supervisedStep(rainy: rainyImage, clean: cleanImage)
                images = { [rainyImage, model.translate(model.generatorA, rainyImage), cleanImage] }
            } else {
                let (realA, realB) = try data.batch(step: step, &random)
                func ids() -> [[Int]] { probe.map { random.permutationPrefix($0.shape[2] * $0.shape[3], count: patches) } }
                let ids1 = ids(), ids2 = ids()
                l = model.step(realA: realA, realB: realB, ids1: ids1, ids2: ids2)
                images = { [realA, model.translate(model.generatorA, realA), realB, model.translate(model.generatorB, realB)] }
            }
            let elapsed = ProcessClock.seconds() - start, rate = Double(step + 1 - first) / elapsed
            let eta = Int(Double(steps - step - 1) / rate)
            let losses = supervised ? "L1 \(f(l.supervised))"
                : "D_A \(f(l.discriminatorA)) D_B \(f(l.discriminatorB))  G_A \(f(l.ganA)) G_B \(f(l.ganB))  NCE \(f(l.nce1))/\(f(l.nce2))  idt \(f(l.identityA))/\(f(l.identityB))"
            Files.writeStandardError("step \(step + 1)/\(steps)  \(losses)  \(f(rate)) steps/s  ETA \(eta / 60):\(eta % 60 < 10 ? "0" : "")\(eta % 60)\n")
            report.record(step: step + 1, l)
            if (step + 1) % sampleEvery == 0 || step + 1 == end {
                // The images of this step's batch through the updated generators.
                try report.sample(step: step + 1, images: images())
            }
            if (step + 1) % saveEvery == 0 || step + 1 == end { try save(model, step: step + 1, random: random) }
        }
    }

    func f(_ v: Double) -> String { fixed(v, 3) }

    func save(_ model: DCDGAN<Float>, step: Int, random: TrainingRandom) throws {
        let meta = [("format", "pt"), ("dcd_step", "\(step)")]
        // dcd-compile reads this to record in the model that it runs anchored.
        let generatorMeta = meta + (colorAnchor ? [("dcd_color_anchor", "true")] : [])
        let (moments, optimizerSteps) = model.optimizerState()
        let stateMeta = meta + [("dcd_random_state", "\(random.state)")] + optimizerSteps.sorted { $0.key < $1.key }.map { ("dcd_\($0.key)_step", "\($0.value)") }
            + configuration.map { ("dcd_config_" + $0.0, $0.1) }
        let files: [(String, [UInt8])] = [
            ("net_G_A", SafetensorsWriter.encode(model.generatorA.stateDict(), metadata: generatorMeta)),
            ("net_G_B", SafetensorsWriter.encode(model.generatorB.stateDict(), metadata: generatorMeta)),
            ("net_D_A", SafetensorsWriter.encode(model.discriminatorA.stateDict(), metadata: meta)),
            ("net_D_B", SafetensorsWriter.encode(model.discriminatorB.stateDict(), metadata: meta)),
            ("net_F1", SafetensorsWriter.encode(model.f1.enumerated().flatMap { $1.stateDict(layer: $0) }, metadata: meta)),
            ("net_F2", SafetensorsWriter.encode(model.f2.enumerated().flatMap { $1.stateDict(layer: $0) }, metadata: meta)),
            ("training_state", SafetensorsWriter.encode(moments, metadata: stateMeta)),
        ]
        // The numbered snapshot first, complete; then the latest files.
        let snapshot = out + "/snapshots/" + SavedRun.snapshotName(step)
        try Files.makeDirectory(snapshot)
        for (name, bytes) in files { try Files.writeAtomically(bytes, to: "\(snapshot)/\(name).safetensors") }
        for (name, bytes) in files { try Files.writeAtomically(bytes, to: "\(out)/latest_\(name).safetensors") }
    }
}

/// A saved step: the networks, the optimizer moments, the step, the random state and the
/// configuration, from the latest files when they agree, else from the newest complete snapshot.
struct SavedRun {
    var directory: String
    var step: Int
    var randomState: UInt64
    var optimizerSteps: [String: Int]
    var configuration: [String: String]
    var networks: [String: [String: (shape: [Int], values: [Float])]]
    var state: [String: (shape: [Int], values: [Float])]

    static func snapshotName(_ step: Int) -> String {
        let digits = String(step)
        return "step_" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    static func newest(in out: String) throws -> SavedRun {
        if let latest = try? SavedRun(directory: out, prefix: "latest_") { return latest }
        let snapshots = ((try? Files.contents(of: out + "/snapshots")) ?? []).filter { $0.hasPrefix("step_") }.sorted(by: >)
        for name in snapshots {
            if let run = try? SavedRun(directory: out + "/snapshots/" + name, prefix: "") { return run }
        }
        throw TrainingError("\(out): no complete checkpoint to resume (latest_*.safetensors or snapshots/step_*)")
    }

    /// Reads `<directory>/<prefix>net_*.safetensors` and `<prefix>training_state.safetensors`;
    /// fails unless all seven exist and carry the same step.
    init(directory: String, prefix: String) throws {
        self.directory = directory
        func read(_ name: String) throws -> (tensors: [String: (shape: [Int], values: [Float])], meta: [String: String]) {
            let path = "\(directory)/\(prefix)\(name).safetensors"
            let checkpoint = try Checkpoint(bytes: try Files.read(path))
            var tensors: [String: (shape: [Int], values: [Float])] = [:]
            for t in checkpoint.tensors { tensors[t.name] = (t.tensor.shape, t.tensor.values) }
            var meta: [String: String] = [:]
            for (k, v) in checkpoint.metadata { meta[k] = v }
            return (tensors, meta)
        }
        let stateFile = try read("training_state")
        guard let step = stateFile.meta["dcd_step"].flatMap({ Int($0) }), let random = stateFile.meta["dcd_random_state"].flatMap({ UInt64($0) }) else {
            throw TrainingError("\(directory): training state without step or random state")
        }
        self.step = step
        randomState = random
        state = stateFile.tensors
        optimizerSteps = [:]
        configuration = [:]
        for (k, v) in stateFile.meta {
            if k.hasPrefix("dcd_optimizer_"), k.hasSuffix("_step") { optimizerSteps[String(k.dropFirst(4).dropLast(5))] = Int(v) }
            if k.hasPrefix("dcd_config_") { configuration[String(k.dropFirst(11))] = v }
        }
        networks = [:]
        for net in DCDTrainCommand.networks {
            let file = try read("net_" + net)
            guard file.meta["dcd_step"].flatMap({ Int($0) }) == step else {
                throw TrainingError("\(directory): \(prefix)net_\(net) is from another step than the training state")
            }
            networks[net] = file.tensors
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
