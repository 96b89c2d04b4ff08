import Testing
import DCDCompiler
import DCDRuntime
import DCDTestSupport

/// Each pass: the graph before and after as text, and both graphs computing the same output on
/// the same image. Graphs come from the antialiased ngf=8 fixture and the no_antialias ngf=4 one.
struct PassTests {
    static func imported(_ file: String = "aa_ngf8_b2.pth") throws -> Graph {
        Graph(try CompiledGenerator(checkpointBytes: try Fixtures.bytes(file), pipeline: PassPipeline([])).importedProgram)
    }

    /// Runs `passes` then returns the graph before and after `pass`.
    static func around(_ pass: any GraphPass, after passes: [any GraphPass], file: String = "aa_ngf8_b2.pth") throws -> (Graph, Graph) {
        let before = try PassPipeline(passes).run(try imported(file))
        let after = try pass.run(before)
        try after.verify()
        return (before, after)
    }

    /// Both graphs on the same 22x26 image (pixel units in and out).
    static func expectSameOutput(_ a: Graph, _ b: Graph, _ what: String) throws {
        var rng = SeededRandom(seed: 5)
        let image = FloatTensor(channels: 3, height: 22, width: 26, storage: (0..<(3 * 22 * 26)).map { _ in (rng.symmetric() + 1) * 127.5 })
        let x = try FloatReferenceExecutor(program: a.program).derain(pixels: image)
        let y = try FloatReferenceExecutor(program: b.program).derain(pixels: image)
        var worst: Float = 0
        for (u, v) in zip(x.storage, y.storage) { worst = max(worst, abs(u - v)) }
        #expect(worst <= Tolerance.equivalentGraphsInPixels, "\(what): outputs differ by \(worst) pixel levels")
    }

    static func lines(_ g: Graph) -> [String] { g.dump().split(separator: "\n").map(String.init) }

    @Test func foldPadIntoConvolution() throws {
        let (before, after) = try Self.around(FoldPadIntoConvolution(), after: [])
        #expect(Self.lines(before).contains("%1 = pad %0 reflect[t3 b3 l3 r3]"))
        #expect(Self.lines(before).contains("%2 = conv2d %1 w=model.1.weight[8x3x7x7] b=model.1.bias s1"))
        #expect(Self.lines(after).contains("%1 = conv2d %0 w=model.1.weight[8x3x7x7] b=model.1.bias s1 pad=reflect(3)"))
        #expect(Self.lines(after).contains("%7 = depthwise_conv2d %6 w=model.7.filt[16x1x3x3] s2 pad=reflect(1)"))
        // Every symmetric pad before a convolution went; the upsample's replicate pads stay
        // (a transposed convolution cannot take them).
        #expect(after.ops.filter { $0.kind == .pad }.allSatisfy { $0.padMode == .replicate })
        #expect(after.ops.count == before.ops.count - 8)
        try Self.expectSameOutput(before, after, "fold-pad-into-convolution")
    }

    @Test func fuseConvolutionNormRelu() throws {
        let (before, after) = try Self.around(FuseConvolutionNormRelu(), after: [FoldPadIntoConvolution()])
        #expect(Self.lines(before).contains("%2 = instance_norm %1 eps=1e-05"))
        #expect(Self.lines(before).contains("%3 = relu %2"))
        #expect(Self.lines(after).contains("%1 = conv2d %0 w=model.1.weight[8x3x7x7] b=model.1.bias s1 pad=reflect(3) -> instance_norm, relu"))
        // The second convolution of a residual block keeps no relu.
        #expect(Self.lines(after).contains("%7 = conv2d %6 w=model.12.conv_block.5.weight[32x32x3x3] b=model.12.conv_block.5.bias s1 pad=reflect(1) -> instance_norm"))
        #expect(!after.ops.contains { $0.kind == .instanceNorm || $0.kind == .relu })
        try Self.expectSameOutput(before, after, "fuse-convolution-norm-relu")
    }

    @Test func fuseResidualAdd() throws {
        let (before, after) = try Self.around(FuseResidualAdd(), after: [FoldPadIntoConvolution(), FuseConvolutionNormRelu()])
        #expect(Self.lines(before).contains("%8 = add %5 %7"))
        #expect(Self.lines(after).contains("%7 = conv2d %6 w=model.12.conv_block.5.weight[32x32x3x3] b=model.12.conv_block.5.bias s1 pad=reflect(1) -> instance_norm, +%5"))
        #expect(!after.ops.contains { $0.kind == .add })
        try Self.expectSameOutput(before, after, "fuse-residual-add")
    }

    @Test func foldPixelMapping() throws {
        let (before, after) = try Self.around(FoldPixelMapping(), after: [FoldPadIntoConvolution(), FuseConvolutionNormRelu(), FuseResidualAdd()])
        #expect(Self.lines(before).first == "%0 = input 3ch unit(-1..1)")
        #expect(Self.lines(before).last == "output %19 tanh(-1..1)")
        #expect(Self.lines(after).first == "%0 = input 3ch pixels(0..255)")
        #expect(Self.lines(after).contains("%18 = conv2d %17 w=model.23.weight[3x8x7x7] b=model.23.bias s1 pad=reflect(3) -> tanh, to_pixels"))
        #expect(Self.lines(after).last == "output %18 pixels(0..255)")
        try Self.expectSameOutput(before, after, "fold-pixel-mapping")
    }

    /// The no_antialias graph has strided and transposed convolutions: the standard pipeline
    /// fuses them too, and the result still computes the same.
    @Test func standardPipelineOnNoAntialias() throws {
        let before = try Self.imported("noaa_ngf4_b3.pth")
        let after = try PassPipeline.standard.run(before)
        #expect(Self.lines(after).contains("%3 = conv_transpose2d %2 w=model.13.weight[16x8x3x3] b=model.13.bias s2 p1 op1 -> instance_norm, relu") ||
                Self.lines(after).contains { $0.contains("conv_transpose2d") && $0.hasSuffix("-> instance_norm, relu") })
        #expect(after.ops.allSatisfy { [.conv2d, .convTranspose2d].contains($0.kind) })
        try Self.expectSameOutput(before, after, "standard pipeline, no_antialias")
    }

    @Test func verifierCatchesDeadOps() throws {
        var g = try Self.imported()
        g.ops.insert(.relu(0), at: 0)
        g.ops = g.ops.enumerated().map { i, op in
            guard i > 0 else { return op }
            // Values after the inserted op shift by one; the input (value 0) does not.
            var o = op
            if o.input > 0 { o.input += 1 }
            if o.secondInput > 0 { o.secondInput += 1 }
            return o
        }
        #expect(throws: (any Error).self) { try g.verify() }
    }
}
