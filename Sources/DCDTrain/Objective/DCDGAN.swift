/// The DCD-GAN objective and one training step as the reference code runs it
/// (../shared/design/dcd-gan.md, "Objective actually optimised by the reference code"):
/// forward, update D_A and D_B (one Adam), then G_A and G_B (one Adam) and F1 and F2 (one Adam)
/// on the generator objective evaluated with the updated discriminators.
public struct ObjectiveOptions: Sendable {
    public var lambdaNCE: Double = 2
    public var lambdaIdentity: Double = 1
    /// The paper's cycle term (the reference code computes it but does not optimise it): 0.
    public var lambdaCycle: Double = 0
    /// Generator modules whose outputs PatchNCE compares (4, 8: the two down convolutions before
    /// their norm; 12, 16: residual blocks 1 and 5).
    public var nceLayers: [Int] = [4, 8, 12, 16]
    public var patches: Int = 256
    public var temperature: Double = 0.07
    /// Not the reference's: every generator output is colour-anchored to the generator's input
    /// (`Ops.colorAnchor`) before any loss or discriminator sees it, as dcd-run --color-anchor
    /// anchors it at inference.
    public var colorAnchor = false
    public init() {}
}

/// Losses of one step, as the reference logs them.
public struct StepLosses: Sendable, Equatable {
    public var discriminatorA = 0.0, discriminatorB = 0.0
    public var ganA = 0.0, ganB = 0.0, nce1 = 0.0, nce2 = 0.0, identityA = 0.0, identityB = 0.0, cycle = 0.0
    public var generator = 0.0
    /// The supervised baseline's L1 (`supervisedStep`).
    public var supervised = 0.0
}

public final class DCDGAN<T: BinaryFloatingPoint> {
    public let generatorA: ResnetGenerator<T>, generatorB: ResnetGenerator<T>
    public let discriminatorA: PatchDiscriminator<T>, discriminatorB: PatchDiscriminator<T>
    /// PatchSampleF MLPs, one per NCE layer: F1 projects G_A's features, F2 G_B's.
    public let f1: [PatchMLP<T>], f2: [PatchMLP<T>]
    public let options: ObjectiveOptions
    public let optimizerD: Adam<T>, optimizerG: Adam<T>, optimizerF: Adam<T>
    /// The optimizers' base rates (the schedule scales them).
    public let baseRates: (d: T, g: T, f: T)

    /// Sets the three learning rates to their base rates times `factor` (the schedule's).
    public func scaleLearningRates(_ factor: Double) {
        optimizerD.learningRate = baseRates.d * T(factor)
        optimizerG.learningRate = baseRates.g * T(factor)
        optimizerF.learningRate = baseRates.f * T(factor)
    }

    public init(generatorA: ResnetGenerator<T>, generatorB: ResnetGenerator<T>, discriminatorA: PatchDiscriminator<T>,
                discriminatorB: PatchDiscriminator<T>, f1: [PatchMLP<T>], f2: [PatchMLP<T>], options: ObjectiveOptions,
                learningRate: T = 1e-4, learningRateF: T = 1e-3) {
        precondition(f1.count == options.nceLayers.count && f2.count == options.nceLayers.count, "one MLP per NCE layer")
        self.generatorA = generatorA; self.generatorB = generatorB
        self.discriminatorA = discriminatorA; self.discriminatorB = discriminatorB
        self.f1 = f1; self.f2 = f2
        self.options = options
        optimizerD = Adam(discriminatorA.parameterOrder.map { discriminatorA.parameters[$0]! } + discriminatorB.parameterOrder.map { discriminatorB.parameters[$0]! },
                          learningRate: learningRate, beta1: 0.5, beta2: 0.999)
        optimizerG = Adam(generatorA.parameterOrder.map { generatorA.parameters[$0]! } + generatorB.parameterOrder.map { generatorB.parameters[$0]! },
                          learningRate: learningRate, beta1: 0.5, beta2: 0.999)
        optimizerF = Adam((f1 + f2).flatMap { $0.parameters }, learningRate: learningRateF, beta1: 0.9, beta2: 0.999)
        baseRates = (learningRate, learningRate, learningRateF)
    }

    /// When set, `step` keeps every parameter's gradient as it was used by its optimizer, under
    /// "D_A.<key>", "D_B.<key>", "G_A.<key>", "G_B.<key>", "F1.<layer>.<key>", "F2.<layer>.<key>"
    /// (the reference's names inside each network; MLP keys "0.weight" etc.).
    public var recordGradients = false
    public private(set) var gradients: [String: [T]] = [:]

    /// Every parameter with its recorded name, per network group.
    public var namedDiscriminatorParameters: [(String, Variable<T>)] {
        discriminatorA.parameterOrder.map { ("D_A." + $0, discriminatorA.parameters[$0]!) }
            + discriminatorB.parameterOrder.map { ("D_B." + $0, discriminatorB.parameters[$0]!) }
    }
    public var namedGeneratorParameters: [(String, Variable<T>)] {
        generatorA.parameterOrder.map { ("G_A." + $0, generatorA.parameters[$0]!) }
            + generatorB.parameterOrder.map { ("G_B." + $0, generatorB.parameters[$0]!) }
    }
    public var namedProjectionParameters: [(String, Variable<T>)] {
        func named(_ name: String, _ mlps: [PatchMLP<T>]) -> [(String, Variable<T>)] {
            mlps.enumerated().flatMap { l, m in zip(["0.weight", "0.bias", "2.weight", "2.bias"], m.parameters).map { ("\(name).\(l).\($0)", $1) } }
        }
        return named("F1", f1) + named("F2", f2)
    }

    private func record(_ group: [(String, Variable<T>)]) {
        guard recordGradients else { return }
        for (name, p) in group { gradients[name] = p.gradient }
    }

    static func scalar(_ v: Variable<T>) -> Double { Double(v.values[0]) }

    /// `generator`'s image of `x`, as every loss sees it: anchored to x under
    /// `options.colorAnchor`.
    public func translate(_ generator: ResnetGenerator<T>, _ x: Variable<T>) -> Variable<T> {
        let y = generator.forward(x).output!
        return options.colorAnchor ? Ops.colorAnchor(y, to: x) : y
    }

    /// Hinge loss of a discriminator: 0.5 * (mean(relu(1 - D(real))) + mean(relu(1 + D(fake)))).
    static func discriminatorLoss(_ d: PatchDiscriminator<T>, real: Variable<T>, fake: Variable<T>) -> Variable<T> {
        let onReal = Ops.mean(Ops.relu(Ops.affine(d.forward(real), scale: -1, shift: 1)))
        let onFake = Ops.mean(Ops.relu(Ops.affine(d.forward(Ops.detach(fake)), scale: 1, shift: 1)))
        return Ops.affine(Ops.add(onReal, onFake), scale: 0.5)
    }

    /// Mean over the NCE layers of PatchNCE(q = queryMLP(queryNet.encode(query)), k =
    /// keyMLP(keyNet.encode(key))), at the positions `ids` (one list per layer, drawn on the key
    /// side and reused for the queries).
    func nce(query: Variable<T>, queryNet: ResnetGenerator<T>, queryMLPs: [PatchMLP<T>],
             key: Variable<T>, keyNet: ResnetGenerator<T>, keyMLPs: [PatchMLP<T>], ids: [[Int]]) -> Variable<T> {
        let layers = options.nceLayers
        let q = queryNet.forward(query, features: layers, encodeOnly: true).features
        let k = keyNet.forward(key, features: layers, encodeOnly: true).features
        var total: Variable<T>?
        for l in 0..<layers.count {
            let loss = PatchNCE.loss(query: queryMLPs[l].sample(q[l], ids: ids[l]), key: keyMLPs[l].sample(k[l], ids: ids[l]),
                                     temperature: T(options.temperature))
            total = total.map { Ops.add($0, loss) } ?? loss
        }
        return Ops.affine(total!, scale: 1 / T(layers.count))
    }

    /// One step on a batch of one image per domain (N = 1); `ids1` and `ids2` are the patch
    /// positions of NCE1 and NCE2 per layer.
    public func step(realA: Variable<T>, realB: Variable<T>, ids1: [[Int]], ids2: [[Int]]) -> StepLosses {
        var losses = StepLosses()
        let fakeB = translate(generatorA, realA), fakeA = translate(generatorB, realB)

        // Discriminators.
        optimizerD.zeroGradients()
        let lossDA = Self.discriminatorLoss(discriminatorA, real: realB, fake: fakeB)
        let lossDB = Self.discriminatorLoss(discriminatorB, real: realA, fake: fakeA)
        Ops.add(lossDA, lossDB).backward()
        record(namedDiscriminatorParameters)
        optimizerD.update()
        losses.discriminatorA = Self.scalar(lossDA)
        losses.discriminatorB = Self.scalar(lossDB)

        // Generators and projection heads, against the updated discriminators.
        optimizerG.zeroGradients()
        optimizerF.zeroGradients()
        let ganA = Ops.affine(Ops.mean(discriminatorA.forward(fakeB, frozen: true)), scale: -1)
        let ganB = Ops.affine(Ops.mean(discriminatorB.forward(fakeA, frozen: true)), scale: -1)
        let nce1 = nce(query: fakeB, queryNet: generatorB, queryMLPs: f2, key: realA, keyNet: generatorA, keyMLPs: f1, ids: ids1)
        let nce2 = nce(query: fakeA, queryNet: generatorA, queryMLPs: f1, key: realB, keyNet: generatorB, keyMLPs: f2, ids: ids2)
        let identityA = Ops.l1(translate(generatorA, realB), realB)
        let identityB = Ops.l1(translate(generatorB, realA), realA)
        var total = Ops.add(Ops.affine(Ops.add(ganA, ganB), scale: 0.5),
                            Ops.affine(Ops.add(nce1, nce2), scale: T(0.5 * options.lambdaNCE)))
        total = Ops.add(total, Ops.affine(Ops.add(identityA, identityB), scale: T(0.5 * options.lambdaIdentity)))
        if options.lambdaCycle > 0 {
            let cycle = Ops.add(Ops.l1(translate(generatorB, fakeB), realA), Ops.l1(translate(generatorA, fakeA), realB))
            total = Ops.add(total, Ops.affine(cycle, scale: T(options.lambdaCycle)))
            losses.cycle = Self.scalar(cycle)
        }
        total.backward()
        record(namedGeneratorParameters)
        record(namedProjectionParameters)
        optimizerG.update()
        optimizerF.update()
        losses.ganA = Self.scalar(ganA); losses.ganB = Self.scalar(ganB)
        losses.nce1 = Self.scalar(nce1); losses.nce2 = Self.scalar(nce2)
        losses.identityA = Self.scalar(identityA); losses.identityB = Self.scalar(identityB)
        losses.generator = Self.scalar(total)
        return losses
    }

    /// The supervised baseline's step: G_A alone, L1 between G_A(rainy) and the clean image of
    /// the same scene (paired data), G_A's Adam as in the unpaired objective. The upper bound
    /// the unpaired objective is measured against; the other networks stay as they are.
    public func supervisedStep(rainy: Variable<T>, clean: Variable<T>) -> StepLosses {
        optimizerG.zeroGradients()
        let loss = Ops.l1(translate(generatorA, rainy), clean)
        loss.backward()
        record(namedGeneratorParameters)
        optimizerG.update()
        var losses = StepLosses()
        losses.supervised = Self.scalar(loss)
        losses.generator = losses.supervised
        return losses
    }
}
