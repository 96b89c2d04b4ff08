import Testing
import DCDCompiler
import DCDPlatform
import DCDTestSupport

/// dcd-train as a user runs it, on a tiny configuration: checkpoints the compiler reads, and the
/// same seed giving the same bytes.
struct TrainCommandTests {
    @Test func tinyRunWritesReadableCheckpointsAndIsDeterministic() throws {
        let dir = TestProcess.temporaryDirectory()
        try Files.makeDirectory(dir + "/A")
        try Files.makeDirectory(dir + "/B")
        try Files.writeAtomically(try Fixtures.bytes("photo_calibration_a.png"), to: dir + "/A/a.png")
        try Files.writeAtomically(try Fixtures.bytes("img_24x20.png"), to: dir + "/A/b.png")
        try Files.writeAtomically(try Fixtures.bytes("photo_calibration_b.png"), to: dir + "/B/c.png")
        let common = ["--rainy", dir + "/A", "--clean", dir + "/B", "--ngf", "2", "--n-blocks", "1", "--ndf", "2", "--crop", "32",
                      "--load-size", "36", "--nce-layers", "4,8,12", "--patches", "8", "--mlp-width", "8", "--steps", "2", "--seed", "7"]
        let first = TestProcess.run("dcd-train", common + ["--out", dir + "/run1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("step 2/2") && first.stderr.contains("steps/s"), "\(first.stderr)")
        for net in ["G_A", "G_B", "D_A", "D_B", "F1", "F2"] { #expect(Files.exists(dir + "/run1/latest_net_\(net).safetensors")) }
        // The generator checkpoint compiles like any PyTorch one.
        let compiled = try CompiledGenerator(checkpointBytes: try Files.read(dir + "/run1/latest_net_G_A.safetensors"))
        #expect(compiled.architecture.ngf == 2 && compiled.architecture.blockCount == 1)
        // Same seed, same run.
        let second = TestProcess.run("dcd-train", common + ["--out", dir + "/run2"])
        #expect(second.status == 0)
        for net in ["G_A", "D_B", "F2"] {
            #expect(try Files.read(dir + "/run1/latest_net_\(net).safetensors") == (try Files.read(dir + "/run2/latest_net_\(net).safetensors")))
        }
        // Bad flags: one line, status 64.
        let bad = TestProcess.run("dcd-train", common + ["--out", dir + "/x", "--nce-layers", "4,99"])
        #expect(bad.status == 64 && bad.stderr.contains("--nce-layers"))
    }
}
