import Testing
import DCDCompiler
import DCDRuntime
import DCDTestSupport

/// The optimized int8 executor against the int8 reference executor: equal bytes, for every
/// generator variant, odd frame sizes and any thread split.
struct Int8ExecutorTests {
    /// An int8 program of a fixture checkpoint, calibrated on the photo fixtures (one crop per
    /// image keeps this quick; the ranges only have to be realistic, not good).
    static func quantized(_ file: String) throws -> ModelProgram {
        let compiled = try CompiledGenerator(checkpointBytes: try Fixtures.bytes(file))
        let crops = Calibration.crops(of: try Fixtures.pixelImages(["photo_calibration_a.png"]), perImage: 1)
        let stats = try Calibration.statistics(of: compiled.program, crops: crops)
        return try Quantizer.quantize(compiled.program, statistics: stats, method: .mse).program
    }

    /// Runs tasks serially in reverse order: a split over "workers" whose order differs from the
    /// serial one, so any dependence on task order shows up as a different output.
    static let reversed = ParallelRunner(workerCount: 3) { count, body in
        for i in (0..<count).reversed() { body(i) }
    }

    static func bytes(_ seed: UInt64, _ h: Int, _ w: Int) -> ByteTensor {
        var rng = SeededRandom(seed: seed)
        return ByteTensor(channels: 3, height: h, width: w, storage: (0..<(3 * h * w)).map { _ in UInt8((rng.symmetric() + 1) * 127.5) })
    }

    @Test(arguments: ["trained_ngf8_b2.pth", "aa_ngf8_b2.pth", "noaa_ngf4_b3.pth", "noaadown_ngf6_b1.pth", "noaaup_ngf6_b1.pth"])
    func matchesTheReferenceBitForBit(file: String) throws {
        let program = try Self.quantized(file)
        let reference = try Int8ReferenceExecutor(program: program)
        let fast = try Int8Executor(program: program)
        #expect(fast.referenceReason == nil)
        // Sizes: not multiples of 4 (reflect padding), a 5-pixel side (the smallest), a tall thin
        // frame, and the same size twice (buffers reused across frames).
        for (i, (h, w)) in [(19, 23), (24, 20), (5, 9), (33, 6), (19, 23)].enumerated() {
            let image = Self.bytes(UInt64(i + 1), h, w)
            let expected = try reference.derain(pixels: image)
            #expect(try fast.derain(pixels: image) == expected, "\(file) \(w)x\(h), serial")
            #expect(try fast.derain(pixels: image, parallel: Self.reversed) == expected, "\(file) \(w)x\(h), reversed split")
        }
    }
}
