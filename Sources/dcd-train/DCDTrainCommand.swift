import ArgumentParser
import DCDPlatform
import DCDTrain

/// `dcd-train --rainy trainA --clean trainB --out runs/x`: DCD-GAN on the CPU from unpaired
/// folders. Prints a progress line per step and writes the six networks as
/// `<out>/latest_net_{G_A,G_B,D_A,D_B,F1,F2}.safetensors` (the reference's state_dict keys)
/// every --save-every steps and at the end, each written atomically.
@main
struct DCDTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-train",
        abstract: "Train DCD-GAN (rainy -> clean) from unpaired PNG folders on the CPU.",
        discussion: "Work in progress (issue 5): no --resume, --init-from, sample grids or HTML report yet; the convolutions are the plain reference loops.")

    @Option(help: "Folder of rainy PNGs (domain A).") var rainy: String
    @Option(help: "Folder of clean PNGs (domain B).") var clean: String
    @Option(help: "Output folder for checkpoints.") var out: String
    @Option(help: "Generator width.") var ngf: Int = 16
    @Option(name: .customLong("n-blocks"), help: "Residual blocks.") var blocks: Int = 4
    @Option(help: "Discriminator width.") var ndf: Int = 16
    @Option(help: "Training crop side.") var crop: Int = 128
    @Option(name: .customLong("load-size"), help: "Images are resized to this square before cropping.") var loadSize: Int = 143
    @Option(name: .customLong("nce-layers"), help: "Generator modules PatchNCE compares.") var nceLayers: String = "4,8,12,16"
    @Option(help: "Patches per NCE layer.") var patches: Int = 256
    @Option(help: "PatchSampleF MLP width.") var mlpWidth: Int = 256
    @Option(help: "Training steps.") var steps: Int = 100
    @Option(help: "Random seed: the same seed gives the same run.") var seed: UInt64 = 1
    @Option(name: .customLong("save-every"), help: "Checkpoint every N steps.") var saveEvery: Int = 50
    @Option(name: .customLong("lambda-cyc"), help: "Weight of the cycle loss (0: the reference's objective).") var lambdaCycle: Double = 0

    func validate() throws {
        guard ngf >= 1, blocks >= 1, ndf >= 1, steps >= 1, saveEvery >= 1, patches >= 1, mlpWidth >= 1 else {
            throw ValidationError("--ngf, --n-blocks, --ndf, --steps, --save-every, --patches and --mlp-width must be positive")
        }
        guard crop >= 32, crop % 4 == 0, loadSize >= crop else { throw ValidationError("--crop must be a multiple of 4, at least 32, and at most --load-size") }
        guard let layers = Self.layers(nceLayers), layers.allSatisfy({ [4, 8].contains($0) || (12..<(12 + blocks)).contains($0) }) else {
            throw ValidationError("--nce-layers must list modules 4, 8 or 12...\(11 + blocks) (residual blocks), got '\(nceLayers)'")
        }
        _ = layers
    }

    static func layers(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",").map { Int(String($0).trimmingSpaces()) }
        guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
        return parts.map { $0! }
    }

    func run() throws {
        var random = TrainingRandom(seed: seed)
        let data = try UnpairedImages(rainy: rainy, clean: clean, loadSize: loadSize, crop: crop)
        var options = ObjectiveOptions()
        options.nceLayers = Self.layers(nceLayers)!
        options.patches = patches
        options.lambdaCycle = lambdaCycle
        let shapes = ResnetGenerator<Float>.parameterShapes(ngf: ngf, blocks: blocks)
        let gA = try ResnetGenerator<Float>(ngf: ngf, blocks: blocks, values: Initialization.parameters(shapes, &random))
        let gB = try ResnetGenerator<Float>(ngf: ngf, blocks: blocks, values: Initialization.parameters(shapes, &random))
        let dShapes = PatchDiscriminator<Float>.parameterShapes(ndf: ndf)
        let dA = try PatchDiscriminator<Float>(ndf: ndf, values: Initialization.parameters(dShapes, &random))
        let dB = try PatchDiscriminator<Float>(ndf: ndf, values: Initialization.parameters(dShapes, &random))
        // The MLPs take the NCE layers' channel counts (the reference creates them at the first batch).
        let probe = gA.forward(Variable(shape: [1, 3, crop, crop], values: [Float](repeating: 0, count: 3 * crop * crop)),
                               features: options.nceLayers, encodeOnly: true).features
        func mlps() throws -> [PatchMLP<Float>] {
            try probe.map { f throws in
                let c = f.shape[1]
                return try PatchMLP<Float>(prefix: "", values: Initialization.parameters([("0.weight", [mlpWidth, c]), ("0.bias", [mlpWidth]),
                                                                                          ("2.weight", [mlpWidth, mlpWidth]), ("2.bias", [mlpWidth])], &random))
            }
        }
        let model = DCDGAN(generatorA: gA, generatorB: gB, discriminatorA: dA, discriminatorB: dB, f1: try mlps(), f2: try mlps(), options: options)
        try Files.makeDirectory(out)
        let start = ProcessClock.seconds()
        for step in 0..<steps {
            let (realA, realB) = try data.batch(step: step, &random)
            func ids() -> [[Int]] { probe.map { random.permutationPrefix($0.shape[2] * $0.shape[3], count: patches) } }
            let ids1 = ids(), ids2 = ids()
            let l = model.step(realA: realA, realB: realB, ids1: ids1, ids2: ids2)
            let elapsed = ProcessClock.seconds() - start, rate = Double(step + 1) / elapsed
            let eta = Int(Double(steps - step - 1) / rate)
            Files.writeStandardError("step \(step + 1)/\(steps)  D_A \(f(l.discriminatorA)) D_B \(f(l.discriminatorB))  G_A \(f(l.ganA)) G_B \(f(l.ganB))  NCE \(f(l.nce1))/\(f(l.nce2))  idt \(f(l.identityA))/\(f(l.identityB))  \(f(rate)) steps/s  ETA \(eta / 60):\(eta % 60 < 10 ? "0" : "")\(eta % 60)\n")
            if (step + 1) % saveEvery == 0 || step + 1 == steps { try save(model, step: step + 1) }
        }
    }

    func f(_ v: Double) -> String {
        let n = Int((v * 1000).rounded())
        let sign = n < 0 ? "-" : "", a = abs(n)
        return "\(sign)\(a / 1000)." + String(repeating: "0", count: 3 - String(a % 1000).count) + "\(a % 1000)"
    }

    func save(_ model: DCDGAN<Float>, step: Int) throws {
        let meta = [("format", "pt"), ("dcd_step", "\(step)"), ("dcd_ngf", "\(ngf)"), ("dcd_n_blocks", "\(blocks)")]
        let nets: [(String, [NamedTensor])] = [
            ("G_A", model.generatorA.stateDict()), ("G_B", model.generatorB.stateDict()),
            ("D_A", model.discriminatorA.stateDict()), ("D_B", model.discriminatorB.stateDict()),
            ("F1", model.f1.enumerated().flatMap { $1.stateDict(layer: $0) }), ("F2", model.f2.enumerated().flatMap { $1.stateDict(layer: $0) }),
        ]
        for (name, tensors) in nets {
            try Files.writeAtomically(SafetensorsWriter.encode(tensors, metadata: meta), to: "\(out)/latest_net_\(name).safetensors")
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
