import Testing
import DCDCompiler
import DCDImage
import DCDPlatform
import DCDRuntime
import DCDTestSupport

/// The whole float path against PyTorch: checkpoint bytes -> compiler -> model file bytes ->
/// model file reader -> executor, on PNG input, compared with PyTorch's output of the same
/// checkpoint on the same image (tools/make_fixtures.py).
struct PyTorchReferenceTests {
    @Test(arguments: Fixtures.cases())
    func floatOutputMatchesPyTorch(_ c: Fixtures.Case) throws {
        let compiled = try CompiledGenerator(checkpointBytes: try Fixtures.bytes(c.checkpoint), network: c.network)
        let file = try compiled.modelFile()
        let program = try file.withUnsafeBytes { raw in try Result { () throws(RuntimeError) in try ModelFileReader.read(raw) }.get() }
        // Both float executors: the reference (CHW, plain kernels) and the optimized one.
        let reference = try FloatReferenceExecutor(program: program), fast = try FloatExecutor(program: program)
        #expect(fast.referenceReason == nil)
        let image = try PNGCodec.decode(try Fixtures.bytes(c.image))
        let expected = try NPYArray(bytes: try Fixtures.bytes(c.expected))
        #expect(expected.shape == [image.height, image.width, 3])
        for (name, threads) in [("reference", 1), ("reference", 2), ("fast", 1), ("fast", 2)] {
            let parallel = ThreadPool.runner(threads: threads)
            let out = name == "reference" ? try reference.derain(pixels: image.pixelTensor(), parallel: parallel)
                                          : try fast.derain(pixels: image.pixelTensor(), parallel: parallel)
            #expect(out.height == image.height && out.width == image.width)
            var worst: Float = 0
            var worstAt = (0, 0, 0)
            for y in 0..<out.height {
                for x in 0..<out.width {
                    for ch in 0..<3 {
                        let ours = out[ch, y, x] / 255
                        let theirs = expected.values[(y * out.width + x) * 3 + ch]
                        if abs(ours - theirs) > worst { worst = abs(ours - theirs); worstAt = (y, x, ch) }
                    }
                }
            }
            #expect(worst <= Tolerance.floatPathVersusPyTorch,
                    "\(c.name), \(name) executor, \(threads) threads: max |ours - PyTorch| = \(worst) at (y, x, c) = \(worstAt)")
        }
    }

    @Test func tooSmallImagesAreInputErrors() throws {
        let compiled = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("aa_ngf8_b2.pth"))
        let reference = try FloatReferenceExecutor(program: compiled.program), fast = try FloatExecutor(program: compiled.program)
        for (h, w) in [(1, 1), (3, 20), (20, 4), (4, 4)] {
            #expect(throws: RuntimeError.self, "\(w)x\(h)") { _ = try reference.derain(pixels: FloatTensor(channels: 3, height: h, width: w)) }
            #expect(throws: RuntimeError.self, "\(w)x\(h)") { _ = try fast.derain(pixels: FloatTensor(channels: 3, height: h, width: w)) }
        }
        // 5 pixels pads to 8 by reflection (3 < 5), and 8 / 4 = 2 leaves room for the blocks' pads.
        _ = try reference.derain(pixels: FloatTensor(channels: 3, height: 5, width: 5))
        _ = try fast.derain(pixels: FloatTensor(channels: 3, height: 5, width: 5))
    }
}
