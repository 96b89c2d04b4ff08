import Testing
import DCDImage
import DCDPlatform
import DCDRuntime
import DCDTestSupport

/// The real executables, as a user runs them: success paths, and every failure giving one line
/// that names the file, a non-zero exit, and no output file.
@Suite(.serialized)
struct CommandLineTests {
    static func compileFixture(_ name: String = "aa_ngf8_b2.pth", in dir: String) -> String {
        let model = dir + "/m.dcdm"
        let r = TestProcess.run("dcd-compile", [Fixtures.path(name), "-o", model, "--precision", "float"])
        #expect(r.status == 0, "\(r.stderr)")
        return model
    }

    @Test func compileThenRunWritesPNGAndNPY() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.compileFixture(in: dir)
        let png = TestProcess.run("dcd-run", ["--model", model, Fixtures.path("img_19x23.png"), "-o", dir + "/out.png", "--threads", "2"])
        #expect(png.status == 0, "\(png.stderr)")
        #expect(Files.exists(dir + "/out.png"))
        let npy = TestProcess.run("dcd-run", ["-m", model, Fixtures.path("img_19x23.png"), "-o", dir + "/out.npy"])
        #expect(npy.status == 0, "\(npy.stderr)")
        let array = try NPYArray(bytes: try Files.read(dir + "/out.npy"))
        #expect(array.shape == [23, 19, 3])
        // The temporary files of the atomic writes are gone.
        #expect(try Files.contents(of: dir).sorted() == ["m.dcdm", "out.npy", "out.png"])
    }

    /// --color-anchor (--anchor-fit channel, matrix): the output is the plain output mapped by
    /// the ColorAnchor fitted to the input (the fit itself is checked against NumPy in
    /// ColorAnchorTests), and it moves the output's colours towards the input's.
    @Test(arguments: [ColorAnchor.Fit.perChannel, .matrix])
    func colorAnchorMapsTheOutputToTheInputsColors(_ fit: ColorAnchor.Fit) throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.compileFixture("trained_ngf8_b2.pth", in: dir)
        let input = Fixtures.path("photo_heldout.png")
        for (name, extra) in [("plain", [String]()), ("anchored", ["--color-anchor", "--anchor-fit", fit.name])] {
            let r = TestProcess.run("dcd-run", ["-m", model, input, "-o", "\(dir)/\(name).npy"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let image = try PNGCodec.decode(try Fixtures.bytes("photo_heldout.png"))
        let plane = image.width * image.height
        let plainHWC = try NPYArray(bytes: try Files.read(dir + "/plain.npy")).values
        let anchoredHWC = try NPYArray(bytes: try Files.read(dir + "/anchored.npy")).values
        var plain = [Float](repeating: 0, count: 3 * plane), rainy = plain
        for p in 0..<plane {
            for c in 0..<3 {
                plain[c * plane + p] = plainHWC[p * 3 + c] * 255
                rainy[c * plane + p] = Float(image.rgb[p * 3 + c])
            }
        }
        let anchor = plain.withUnsafeBufferPointer { o in
            rainy.withUnsafeBufferPointer { i in ColorAnchor.fit(output: o, input: i, width: image.width, height: image.height, fit) }
        }
        // The .npy holds pixel / 255 in float32: the round trip costs ~1e-5 of a level, so 1e-3
        // of a level is agreement, and the fit must see the same numbers as dcd-run did.
        var worst: Double = 0, plainError = 0.0, anchoredError = 0.0
        for p in 0..<plane {
            let expected = anchor.apply(SIMD3(Double(plain[p]), Double(plain[plane + p]), Double(plain[2 * plane + p])))
            for c in 0..<3 {
                worst = max(worst, abs(Double(anchoredHWC[p * 3 + c]) * 255 - expected[c]))
                plainError += abs(Double(plain[c * plane + p] - rainy[c * plane + p]))
                anchoredError += abs(Double(anchoredHWC[p * 3 + c]) * 255 - Double(rainy[c * plane + p]))
            }
        }
        #expect(worst <= 1e-3, "max |dcd-run --anchor-fit \(fit.name) - anchored plain output| = \(worst) levels")
        #expect(anchoredError < plainError, "anchored output is no closer to the input: \(anchoredError) vs \(plainError)")
    }

    /// --anchor-fit takes channel or matrix, and not with --no-color-anchor (dcd-run and
    /// dcd-compile alike): a usage error that names the flag.
    @Test func anchorFitFlagsAreChecked() {
        for tool in ["dcd-run", "dcd-compile"] {
            for (flags, words) in [(["--anchor-fit", "diagonal"], "channel or matrix"), (["--no-color-anchor", "--anchor-fit", "matrix"], "--no-color-anchor")] {
                let r = TestProcess.run(tool, [Fixtures.path("trained_ngf8_b2.pth")] + flags)
                #expect(r.status == 64 && r.stderr.contains("--anchor-fit") && r.stderr.contains(words), "\(tool) \(flags): \(r.status) \(r.stderr)")
            }
        }
    }

    /// dcd-compile --color-anchor makes anchoring the model's default; --no-color-anchor undoes it.
    @Test func compiledColorAnchorIsTheRunsDefault() throws {
        let dir = TestProcess.temporaryDirectory()
        let compiled = TestProcess.run("dcd-compile", [Fixtures.path("trained_ngf8_b2.pth"), "--precision", "float", "--color-anchor",
                                                       "-o", dir + "/anchored.dcdm"])
        #expect(compiled.status == 0, "\(compiled.stderr)")
        let plainModel = Self.compileFixture("trained_ngf8_b2.pth", in: dir)
        let input = Fixtures.path("photo_heldout.png")
        for (name, model, extra) in [("default", dir + "/anchored.dcdm", [String]()), ("off", dir + "/anchored.dcdm", ["--no-color-anchor"]),
                                     ("plain", plainModel, []), ("asked", plainModel, ["--color-anchor"])] {
            let r = TestProcess.run("dcd-run", ["-m", model, input, "-o", "\(dir)/\(name).png"] + extra)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let png = { (name: String) in try Files.read("\(dir)/\(name).png") }
        #expect(try png("default") == png("asked"))
        #expect(try png("off") == png("plain"))
        #expect(try png("default") != png("plain"))
    }

    /// The default precision: int8, calibrated on a folder of photos, with a JSON report, then
    /// run by dcd-run (the optimized int8 executor) into 8-bit PNG; --max-memory and --bench.
    @Test func int8CompileReportAndRun() throws {
        let dir = TestProcess.temporaryDirectory()
        let photos = dir + "/photos"
        try Files.makeDirectory(photos)
        for name in ["photo_calibration_a.png", "photo_calibration_b.png", "img_24x20.png", "photo_heldout.png"] {
            try Files.writeAtomically(try Fixtures.bytes(name), to: photos + "/" + name)
        }
        let model = dir + "/m8.dcdm"
        let c = TestProcess.run("dcd-compile", [Fixtures.path("trained_ngf8_b2.pth"), "-o", model, "--calibrate", photos, "--json"])
        #expect(c.status == 0, "\(c.stderr)")
        for key in ["\"precision\": \"int8\"", "\"held_out_psnr_db\": ", "\"planned_peak_bytes_640x480\": ", "\"sqnr_db.model.1.weight\": "] {
            #expect(c.stdout.contains(key), "missing \(key) in \(c.stdout)")
        }
        let r = TestProcess.run("dcd-run", ["-m", model, Fixtures.path("img_19x23.png"), "-o", dir + "/out.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try PNGCodec.decode(try Files.read(dir + "/out.png"))
        #expect(out.width == 19 && out.height == 23 && out.bitDepth == 8)
        // A budget too small for any tile is a one-line error (tiled runs themselves: Int8TiledTests).
        let tiled = TestProcess.run("dcd-run", ["-m", model, Fixtures.path("img_19x23.png"), "-o", dir + "/tiled.png", "--max-memory", "1K"])
        #expect(tiled.status != 0 && tiled.stderr.contains("budget"), "a 1 KB budget cannot hold any tile: \(tiled.stderr)")
        // The benchmark: JSON with the documented keys.
        let bench = TestProcess.run("dcd-run", ["-m", model, "--bench", "--size", "24x20", "--runs", "2", "--threads", "2", "--json"])
        #expect(bench.status == 0, "\(bench.stderr)")
        for key in ["median_ms", "min_ms", "max_ms", "gmacs_per_s", "peak_rss_bytes", "threads", "width", "height", "precision"] {
            #expect(bench.stdout.contains("\"\(key)\": "), "missing \(key) in \(bench.stdout)")
        }
        #expect(bench.stdout.contains("\"precision\": \"int8\"") && bench.stdout.contains("\"width\": 24"))
        for bad in [["--bench", "--size", "0x5"], ["--bench", "--runs", "0"], ["--bench", "--max-memory", "lots"], ["--bench", "--tile-statistics", "guess"]] {
            let r = TestProcess.run("dcd-run", ["-m", model] + bad)
            #expect(r.status == 64, "\(bad): \(r.status) \(r.stderr)")
        }
        // Without a folder: synthetic calibration and a warning on stderr.
        let s = TestProcess.run("dcd-compile", [Fixtures.path("aa_ngf8_b2.pth"), "-o", dir + "/s.dcdm"])
        #expect(s.status == 0 && s.stderr.contains("warning: no --calibrate folder"), "\(s.stderr)")
    }

    @Test func inspectDescribesTheCheckpoint() {
        let r = TestProcess.run("dcd-compile", ["--inspect", Fixtures.path("nested.ckpt")])
        #expect(r.status == 0)
        for text in ["format: PyTorch zip", "ngf=8 n_blocks=2", "parameters: 50,947", "MACs at 256x256", "model.1.weight  float32  [8, 3, 7, 7]", "G_B"] {
            #expect(r.stdout.contains(text), "missing '\(text)' in:\n\(r.stdout)")
        }
    }

    /// Each failure: exit status, the file named in a single line, no output left behind, and a
    /// pre-existing output untouched.
    @Test func badInputsFailCleanly() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.compileFixture(in: dir)
        let keep: [UInt8] = Array("previous good output".utf8)
        try Files.writeAtomically(keep, to: dir + "/existing.png")
        var truncatedModel = try Files.read(model)
        truncatedModel.removeLast(100)
        try Files.writeAtomically(truncatedModel, to: dir + "/truncated.dcdm")
        try Files.writeAtomically(Array(try Fixtures.bytes("img_19x23.png").prefix(200)), to: dir + "/truncated.png")
        try Files.writeAtomically(Array(try Fixtures.bytes("aa_ngf8_b2.pth").prefix(5000)), to: dir + "/truncated.pth")

        let cases: [(String, [String], String)] = [
            ("dcd-run", ["-m", dir + "/missing.dcdm", Fixtures.path("img_19x23.png"), "-o", dir + "/existing.png"], "missing.dcdm"),
            ("dcd-run", ["-m", dir + "/truncated.dcdm", Fixtures.path("img_19x23.png"), "-o", dir + "/existing.png"], "truncated.dcdm"),
            ("dcd-run", ["-m", model, dir + "/truncated.png", "-o", dir + "/existing.png"], "truncated.png"),
            ("dcd-run", ["-m", model, dir + "/nothing.png", "-o", dir + "/existing.png"], "nothing.png"),
            ("dcd-run", ["-m", model, Fixtures.path("img_19x23.png"), "-o", dir + "/out.jpg"], "out.jpg"),
            ("dcd-run", ["-m", model, Fixtures.path("img_19x23.png"), "-o", dir + "/existing.png", "--threads", "0"], "--threads"),
            ("dcd-compile", [dir + "/truncated.pth", "-o", dir + "/existing.png"], "truncated.pth"),
            ("dcd-compile", [Fixtures.path("hostile.pth"), "-o", dir + "/existing.png"], "hostile.pth"),
            ("dcd-compile", [Fixtures.path("img_19x23.png"), "-o", dir + "/existing.png"], "img_19x23.png"),
            ("dcd-compile", [Fixtures.path("aa_ngf8_b2.pth"), "--precision", "int4"], "int4"),
        ]
        for (tool, args, named) in cases {
            let r = TestProcess.run(tool, args)
            #expect(r.status != 0, "\(tool) \(args) succeeded")
            // One message line; a usage block (its first line "Usage:", the others indented) may follow.
            let lines = r.stderr.split(separator: "\n").filter { !$0.isEmpty && !$0.hasPrefix("Usage") && !$0.hasPrefix(" ") && !$0.hasPrefix("Help:") }
            #expect(lines.count == 1 && lines[0].contains(named), "\(tool) \(args):\n\(r.stderr)")
        }
        #expect(try Files.read(dir + "/existing.png") == keep)
        #expect(try Files.contents(of: dir).filter { $0.contains(".tmp-") }.isEmpty)
    }

    @Test func grayAndTooSmallImages() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.compileFixture(in: dir)
        // Gray 16-bit in gives gray 16-bit out.
        let r = TestProcess.run("dcd-run", ["-m", model, Fixtures.path("png_gray16.png"), "-o", dir + "/gray.png"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try PNGCodec.decode(try Files.read(dir + "/gray.png"))
        #expect(out.colorType == .gray && out.bitDepth == 16 && out.width == 13 && out.height == 9)
        // A 3x3 image cannot be reflect-padded to 4x4: a one-line error naming the file.
        let tiny = Image(width: 3, height: 3, bitDepth: 8, colorType: .rgb, rgb: [UInt16](repeating: 100, count: 27))
        try Files.writeAtomically(try PNGCodec.encode(tiny), to: dir + "/tiny.png")
        let t = TestProcess.run("dcd-run", ["-m", model, dir + "/tiny.png", "-o", dir + "/tiny-out.png"])
        #expect(t.status != 0)
        #expect(t.stderr.contains("tiny.png") && t.stderr.contains("too small"), "\(t.stderr)")
        #expect(!Files.exists(dir + "/tiny-out.png"))
    }
}
