import Testing
import DCDCompiler
import DCDImage
import DCDPlatform
import DCDTestSupport

/// dcd-train as a user runs it, on a tiny configuration: checkpoints the compiler reads, and the
/// same seed giving the same bytes.
struct TrainCommandTests {
    /// A fresh directory with folders A (rainy) and B (clean) holding the given fixture photos.
    static func folders(rainy: [String], clean: [String]) throws -> String {
        let dir = TestProcess.temporaryDirectory()
        for (folder, names) in [("A", rainy), ("B", clean)] {
            try Files.makeDirectory(dir + "/" + folder)
            for name in names { try Files.writeAtomically(try Fixtures.bytes(name), to: "\(dir)/\(folder)/\(name)") }
        }
        return dir
    }

    @Test func tinyRunWritesReadableCheckpointsAndIsDeterministic() throws {
        let dir = try Self.folders(rainy: ["photo_calibration_a.png", "img_24x20.png"], clean: ["photo_calibration_b.png"])
        let common = ["--rainy", dir + "/A", "--clean", dir + "/B", "--ngf", "2", "--n-blocks", "1", "--ndf", "2", "--crop", "32",
                      "--load-size", "36", "--nce-layers", "4,8,12", "--patches", "8", "--mlp-width", "8", "--steps", "2", "--seed", "7"]
        let first = TestProcess.run("dcd-train", common + ["--out", dir + "/run1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("step 2/2") && first.stderr.contains("steps/s"), "\(first.stderr)")
        for net in ["G_A", "G_B", "D_A", "D_B", "F1", "F2"] { #expect(Files.exists(dir + "/run1/latest_net_\(net).safetensors")) }
        // The report: a 4-image sample grid per sample step, the losses, the HTML page.
        let grid = try DCDImage.PNGCodec.decode(try Files.read(dir + "/run1/samples/step_00000002.png"))
        #expect(grid.width == 4 * 32 && grid.height == 32)
        let page = String(decoding: try Files.read(dir + "/run1/index.html"), as: UTF8.self)
        #expect(page.contains("<svg") && page.contains("samples/step_00000002.png") && page.contains("NCE1"))
        #expect(String(decoding: try Files.read(dir + "/run1/losses.tsv"), as: UTF8.self).split(separator: "\n").count == 3)
        // The generator checkpoint compiles like any PyTorch one.
        let compiled = try CompiledGenerator(checkpointBytes: try Files.read(dir + "/run1/latest_net_G_A.safetensors"))
        #expect(compiled.architecture.ngf == 2 && compiled.architecture.blockCount == 1)
        // Same seed, same run.
        let second = TestProcess.run("dcd-train", common + ["--out", dir + "/run2"])
        #expect(second.status == 0)
        for net in ["G_A", "D_B", "F2"] {
            #expect(try Files.read(dir + "/run1/latest_net_\(net).safetensors") == (try Files.read(dir + "/run2/latest_net_\(net).safetensors")))
        }
        // Any number of threads, the same bytes (tasks write disjoint outputs in a fixed order).
        let serial = TestProcess.run("dcd-train", common + ["--out", dir + "/serial", "--threads", "1"])
        let threaded = TestProcess.run("dcd-train", common + ["--out", dir + "/threaded", "--threads", "3"])
        #expect(serial.status == 0 && threaded.status == 0)
        for net in ["G_A", "D_A", "F1"] {
            #expect(try Files.read(dir + "/serial/latest_net_\(net).safetensors") == (try Files.read(dir + "/threaded/latest_net_\(net).safetensors")))
        }
        // Resume: 2 steps (a 4-step run stopped there), then --resume to 4, equals 4 steps in one
        // run, byte for byte; the decay makes the step's place in the schedule matter.
        var fourSteps = common.map { $0 } + ["--save-every", "3", "--decay-steps", "3"]
        fourSteps[fourSteps.firstIndex(of: "--steps")! + 1] = "4"
        #expect(TestProcess.run("dcd-train", fourSteps + ["--out", dir + "/whole"]).status == 0)
        let stopped = TestProcess.run("dcd-train", fourSteps + ["--out", dir + "/parts", "--stop-at", "2"])
        #expect(stopped.status == 0 && stopped.stderr.contains("step 2/4") && !stopped.stderr.contains("step 3/4"), "\(stopped.stderr)")
        #expect(Files.exists(dir + "/parts/snapshots/step_00000002/net_G_A.safetensors"))
        let resumed = TestProcess.run("dcd-train", fourSteps + ["--out", dir + "/parts", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("at step 2"), "\(resumed.stderr)")
        for file in ["latest_net_G_A", "latest_net_G_B", "latest_net_D_A", "latest_net_D_B", "latest_net_F1", "latest_net_F2", "latest_training_state"] {
            #expect(try Files.read(dir + "/whole/\(file).safetensors") == (try Files.read(dir + "/parts/\(file).safetensors")), "\(file)")
        }
        // A schedule cut short: a run without decay stopped at step 2 and resumed with
        // --decay-steps 2 is the run that had them from the start (steps 0 and 1 at the full
        // rate either way); resumed without the flag it keeps its own schedule (no decay).
        var noDecay = fourSteps
        noDecay.removeSubrange(noDecay.firstIndex(of: "--decay-steps")!...(noDecay.firstIndex(of: "--decay-steps")! + 1))
        #expect(TestProcess.run("dcd-train", noDecay + ["--out", dir + "/decayed", "--decay-steps", "2"]).status == 0)
        for run in ["cut", "kept"] {
            #expect(TestProcess.run("dcd-train", noDecay + ["--out", "\(dir)/\(run)", "--stop-at", "2"]).status == 0)
        }
        #expect(TestProcess.run("dcd-train", noDecay + ["--out", dir + "/cut", "--resume", "--decay-steps", "2"]).status == 0)
        #expect(TestProcess.run("dcd-train", noDecay + ["--out", dir + "/kept", "--resume"]).status == 0)
        for file in ["latest_net_G_A", "latest_net_D_A", "latest_net_F1", "latest_training_state"] {
            #expect(try Files.read(dir + "/decayed/\(file).safetensors") == (try Files.read(dir + "/cut/\(file).safetensors")), "\(file)")
        }
        #expect(try Files.read(dir + "/decayed/latest_net_G_A.safetensors") != (try Files.read(dir + "/kept/latest_net_G_A.safetensors")))

        // A kill between the latest files (here: one from step 2) falls back to the newest
        // complete snapshot (step 4).
        try Files.writeAtomically(try Files.read(dir + "/parts/snapshots/step_00000002/net_G_A.safetensors"), to: dir + "/parts/latest_net_G_A.safetensors")
        var more = fourSteps
        more[more.firstIndex(of: "--steps")! + 1] = "5"
        let fallback = TestProcess.run("dcd-train", more + ["--out", dir + "/parts", "--resume"])
        #expect(fallback.status == 0 && fallback.stderr.contains("snapshots/step_00000004") && fallback.stderr.contains("at step 4"), "\(fallback.stderr)")

        // Bad flags: one line, status 64.
        let bad = TestProcess.run("dcd-train", common + ["--out", dir + "/x", "--nce-layers", "4,99"])
        #expect(bad.status != 0 && bad.stderr.contains("--nce-layers"), "\(bad.stderr)")
        let late = TestProcess.run("dcd-train", common + ["--out", dir + "/x", "--stop-at", "3"])
        #expect(late.status == 64 && late.stderr.contains("--stop-at"), "\(late.stderr)")
    }

    /// The supervised baseline: paired folders (the same names), L1 falling on a fixed pair, a
    /// 3-image grid, a missing partner named, and resume continuing in the same mode.
    @Test func supervisedBaseline() throws {
        let dir = try Self.folders(rainy: ["photo_calibration_a.png"], clean: ["photo_calibration_a.png"])
        let common = ["--rainy", dir + "/A", "--clean", dir + "/B", "--supervised", "--ngf", "2", "--n-blocks", "1", "--crop", "32",
                      "--load-size", "36", "--seed", "3", "--save-every", "3", "--sample-every", "3", "--lr", "0.0005"]
        let run = TestProcess.run("dcd-train", common + ["--steps", "3", "--out", dir + "/run"])
        #expect(run.status == 0 && run.stderr.contains("L1 "), "\(run.stderr)")
        let grid = try DCDImage.PNGCodec.decode(try Files.read(dir + "/run/samples/step_00000003.png"))
        #expect(grid.width == 3 * 32)
        // Identical pairs: G_A learns the identity, so L1 falls from its initial ~|x| level.
        let rows = String(decoding: try Files.read(dir + "/run/losses.tsv"), as: UTF8.self).split(separator: "\n").dropFirst()
        let l1 = rows.map { Double($0.split(separator: "\t").last!)! }
        #expect(l1.count == 3 && l1.allSatisfy { $0 > 0 } && l1[2] < l1[0], "\(l1)")
        let resumed = TestProcess.run("dcd-train", ["--rainy", dir + "/A", "--clean", dir + "/B", "--out", dir + "/run", "--steps", "4", "--resume"])
        #expect(resumed.status == 0 && resumed.stderr.contains("step 4/4  L1 "), "\(resumed.stderr)")
        // The run's settings (mode, learning rate) travel with it: the resumed state still says 5e-4.
        let state = String(decoding: try Files.read(dir + "/run/latest_training_state.safetensors"), as: UTF8.self)
        #expect(state.contains("\"dcd_config_lr\":\"0.0005\"") && state.contains("\"dcd_config_supervised\":\"true\""), "training state metadata")
        // --lr given with --resume is the new peak rate (a warm restart's), saved with the run;
        // and a step trained at another rate gives other weights than the run's own rate would.
        #expect(TestProcess.run("/bin/cp", ["-r", dir + "/run", dir + "/same"]).status == 0)
        let restarted = TestProcess.run("dcd-train", ["--rainy", dir + "/A", "--clean", dir + "/B", "--out", dir + "/run", "--steps", "5", "--resume", "--lr", "0.002"])
        let same = TestProcess.run("dcd-train", ["--rainy", dir + "/A", "--clean", dir + "/B", "--out", dir + "/same", "--steps", "5", "--resume"])
        #expect(restarted.status == 0 && same.status == 0, "\(restarted.stderr) \(same.stderr)")
        let restartedState = String(decoding: try Files.read(dir + "/run/latest_training_state.safetensors"), as: UTF8.self)
        #expect(restartedState.contains("\"dcd_config_lr\":\"0.002\""), "the new rate is not saved")
        #expect(try Files.read(dir + "/run/latest_net_G_A.safetensors") != Files.read(dir + "/same/latest_net_G_A.safetensors"))
        try Files.writeAtomically(try Fixtures.bytes("img_24x20.png"), to: dir + "/A/img_24x20.png")
        let unpaired = TestProcess.run("dcd-train", common + ["--steps", "2", "--out", dir + "/bad"])
        #expect(unpaired.status != 0 && unpaired.stderr.contains("img_24x20.png: no image of the same name"), "\(unpaired.stderr)")
    }

    /// The objective's weights (and the initialization's gain) are options that reach the loss and
    /// travel with the run: with
    /// --lambda-nce 0 the projection heads get no gradient, so Adam leaves F1 exactly where step 1
    /// left it (with the default weight it moves); --resume keeps the weights the run started with.
    @Test func objectiveWeightsReachTheLossAndTravelWithTheRun() throws {
        let dir = try Self.folders(rainy: ["photo_calibration_a.png"], clean: ["photo_calibration_b.png"])
        let common = ["--rainy", dir + "/A", "--clean", dir + "/B", "--ngf", "2", "--n-blocks", "1", "--ndf", "2", "--crop", "32",
                      "--load-size", "36", "--nce-layers", "4,8,12", "--patches", "8", "--mlp-width", "8", "--seed", "5",
                      "--save-every", "1"]
        for (name, extra) in [("plain", [String]()), ("nonce", ["--lambda-nce", "0", "--lambda-idt", "3", "--lambda-cyc", "2", "--init-gain", "0.5"])] {
            let first = TestProcess.run("dcd-train", common + extra + ["--steps", "1", "--out", "\(dir)/\(name)"])
            #expect(first.status == 0, "\(first.stderr)")
            // Resumed without the flags: the run's own weights apply.
            let second = TestProcess.run("dcd-train", common + ["--steps", "2", "--out", "\(dir)/\(name)", "--resume"])
            #expect(second.status == 0, "\(second.stderr)")
        }
        // The weights, not the bytes: each file's metadata names its step.
        let f1 = { (run: String, step: Int) in
            try Checkpoint(bytes: try Files.read("\(dir)/\(run)/snapshots/step_0000000\(step)/net_F1.safetensors")).tensors.map { $0.tensor.values }
        }
        #expect(try f1("nonce", 1) == f1("nonce", 2), "F1 moved without an NCE loss")
        #expect(try f1("plain", 1) != f1("plain", 2), "F1 did not move with the NCE loss")
        // The same seed draws the same normals: --init-gain 0.5 scales them 25x the default 0.02
        // (one Adam step of at most 1e-4 moves these ~2e-3-sized weights by a few percent).
        func spread(_ run: String) throws -> Float {
            let t = try Checkpoint(bytes: try Files.read("\(dir)/\(run)/snapshots/step_00000001/net_G_A.safetensors")).tensors
            return t.first { $0.name == "model.12.conv_block.1.weight" }!.tensor.values.map(abs).reduce(0, +)
        }
        let ratio = try spread("nonce") / spread("plain")
        #expect(ratio > 22 && ratio < 28, "init gain ratio \(ratio)")
        let state = String(decoding: try Files.read(dir + "/nonce/latest_training_state.safetensors"), as: UTF8.self)
        #expect(state.contains("\"dcd_config_lambda_nce\":\"0.0\"") && state.contains("\"dcd_config_lambda_idt\":\"3.0\"")
                && state.contains("\"dcd_config_lambda_cyc\":\"2.0\"") && state.contains("\"dcd_config_init_gain\":\"0.5\""),
                "training state metadata")
        let bad = TestProcess.run("dcd-train", common + ["--steps", "1", "--out", dir + "/bad", "--lambda-idt", "-1"])
        #expect(bad.status == 64 && bad.stderr.contains("--lambda-idt"), "\(bad.stderr)")
    }

    /// --color-anchor changes the losses (the same seed, init and batch otherwise), travels with
    /// --resume, and marks the generators' checkpoints, so that dcd-compile records in the model
    /// that it runs anchored unless told --no-color-anchor; a plain run's model does not.
    @Test func colorAnchoredRunCompilesAnchored() throws {
        let dir = try Self.folders(rainy: ["photo_calibration_a.png"], clean: ["photo_calibration_b.png"])
        let common = ["--rainy", dir + "/A", "--clean", dir + "/B", "--ngf", "2", "--n-blocks", "1", "--ndf", "2", "--crop", "32",
                      "--load-size", "36", "--nce-layers", "4,8,12", "--patches", "8", "--mlp-width", "8", "--seed", "5", "--save-every", "1"]
        let plain = TestProcess.run("dcd-train", common + ["--steps", "1", "--out", dir + "/plain"])
        let anchored = TestProcess.run("dcd-train", common + ["--steps", "1", "--out", dir + "/anchored", "--color-anchor"])
        #expect(plain.status == 0 && anchored.status == 0, "\(plain.stderr)\(anchored.stderr)")
        // losses.tsv's step-1 row holds every loss: the anchored generators' differ.
        let losses = { (run: String) in String(decoding: try Files.read("\(dir)/\(run)/losses.tsv"), as: UTF8.self).split(separator: "\n")[1] }
        let (plainLosses, anchoredLosses) = (try losses("plain"), try losses("anchored"))
        #expect(plainLosses.hasPrefix("1\t") && plainLosses != anchoredLosses, "\(plainLosses) vs \(anchoredLosses)")
        let resumed = TestProcess.run("dcd-train", common + ["--steps", "2", "--out", dir + "/anchored", "--resume"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let gA = try Checkpoint(bytes: try Files.read(dir + "/anchored/latest_net_G_A.safetensors"))
        #expect(gA.metadata.contains { $0 == ("dcd_step", "2") } && gA.metadata.contains { $0 == ("dcd_color_anchor", "true") }, "\(gA.metadata)")
        let state = String(decoding: try Files.read(dir + "/anchored/latest_training_state.safetensors"), as: UTF8.self)
        #expect(state.contains("\"dcd_config_color_anchor\":\"true\""))
        for (run, extra, expected) in [("anchored", [String](), true), ("anchored", ["--no-color-anchor"], false), ("plain", [], false), ("plain", ["--color-anchor"], true)] {
            let compiled = TestProcess.run("dcd-compile", ["\(dir)/\(run)/latest_net_G_A.safetensors", "--precision", "float", "--json",
                                                           "-o", "\(dir)/\(run).dcdm"] + extra)
            #expect(compiled.status == 0, "\(compiled.stderr)")
            #expect(compiled.stdout.contains("\"color_anchor\": \"true\"") == expected, "\(run) \(extra): \(compiled.stdout)")
        }
    }

    @Test func initFromReferenceCheckpoints() throws {
        let dir = try Self.folders(rainy: ["photo_calibration_a.png"], clean: ["photo_calibration_b.png"])
        let reference = Fixtures.path("train/reference")
        let r = TestProcess.run("dcd-train", ["--rainy", dir + "/A", "--clean", dir + "/B", "--out", dir + "/run", "--init-from", reference,
                                              "--crop", "32", "--load-size", "36", "--nce-layers", "4,8,12", "--patches", "8", "--mlp-width", "8",
                                              "--steps", "1"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("ngf=2") && r.stderr.contains("ndf=2"), "\(r.stderr)")
        // One Adam step moves every weight by at most the learning rate (1e-4) from the
        // reference checkpoint's value: the run started from those weights.
        for net in ["G_A", "D_B"] {
            let start = try Checkpoint(bytes: try Files.read(reference + "/latest_net_\(net).pth"))
            let after = try Checkpoint(bytes: try Files.read(dir + "/run/latest_net_\(net).safetensors"))
            var byName: [String: [Float]] = [:]
            for t in after.tensors { byName[t.name] = t.tensor.values }
            for t in start.tensors {
                let moved = zip(t.tensor.values, byName[t.name]!).map { abs($0 - $1) }.max()!
                #expect(moved <= 1.001e-4, "\(net) \(t.name) moved \(moved)")
            }
        }
        let missing = TestProcess.run("dcd-train", ["--rainy", dir + "/A", "--clean", dir + "/B", "--out", dir + "/x", "--init-from", dir + "/A"])
        #expect(missing.status != 0 && missing.stderr.contains("latest_net_G_A.pth"), "\(missing.stderr)")
    }
}
