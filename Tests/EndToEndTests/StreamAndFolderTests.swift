import Testing
import DCDImage
import DCDPlatform
import DCDTestSupport

/// dcd-run as camera pipelines and batch jobs use it, through the real executable: folders with
/// good and bad files, raw frame streams through files and pipes, video-rate statistics reuse,
/// and every documented exit status.
struct StreamAndFolderTests {
    static func model(_ dir: String, precision: String = "float") -> String {
        let model = dir + "/m-\(precision).dcdm"
        let r = TestProcess.run("dcd-compile", [Fixtures.path("aa_ngf8_b2.pth"), "-o", model, "--precision", precision])
        #expect(r.status == 0, "\(r.stderr)")
        return model
    }

    /// Frames of the 24x20 fixture photo, each shifted by one more pixel (wrapping), as rgb24.
    static func rgbFrames(_ count: Int) throws -> [Image] {
        let photo = try PNGCodec.decode(try Fixtures.bytes("img_24x20.png"))
        return (0..<count).map { shift in
            var rgb = [UInt16](repeating: 0, count: photo.rgb.count)
            for y in 0..<photo.height {
                for x in 0..<photo.width {
                    for c in 0..<3 { rgb[(y * photo.width + x) * 3 + c] = photo.rgb[(y * photo.width + (x + shift) % photo.width) * 3 + c] }
                }
            }
            return Image(width: photo.width, height: photo.height, bitDepth: 8, colorType: .rgb, rgb: rgb)
        }
    }

    static func stream(_ frames: [Image], _ format: RawFrameFormat) -> [UInt8] {
        var bytes: [UInt8] = []
        for f in frames { format.encode(f, into: &bytes) }
        return bytes
    }

    @Test func folderRunContinuesPastBadFilesAndSkipsUpToDateOutputs() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.model(dir)
        try Files.makeDirectory(dir + "/in/sub")
        try Files.writeAtomically(try Fixtures.bytes("img_19x23.png"), to: dir + "/in/a.png")
        try Files.writeAtomically(try Fixtures.bytes("png_rgba8.png"), to: dir + "/in/sub/b.png")
        try Files.writeAtomically(Array("not a png".utf8), to: dir + "/in/bad.png")
        try Files.writeAtomically(Array("notes".utf8), to: dir + "/in/notes.txt")

        // Without -r: a.png derained, bad.png reported, the run goes on; status 7 (some failed).
        let first = TestProcess.run("dcd-run", ["-m", model, dir + "/in", "-o", dir + "/out"])
        #expect(first.status == 7, "\(first.stderr)")
        #expect(first.stderr.contains("in/bad.png") && first.stderr.contains("1 derained") && first.stderr.contains("1 failed"), "\(first.stderr)")
        #expect(Files.exists(dir + "/out/a.png") && !Files.exists(dir + "/out/sub/b.png") && !Files.exists(dir + "/out/bad.png"))
        let a = try PNGCodec.decode(try Files.read(dir + "/out/a.png"))
        #expect(a.width == 19 && a.height == 23)
        let aTime = Files.modificationTime(dir + "/out/a.png")

        // With -r: the sub-folder's RGBA image keeps its name and format; a.png is up to date.
        let second = TestProcess.run("dcd-run", ["-m", model, dir + "/in", "-o", dir + "/out", "-r"])
        #expect(second.status == 7)
        #expect(second.stderr.contains("a.png: skipped") && second.stderr.contains("1 skipped"), "\(second.stderr)")
        let b = try PNGCodec.decode(try Files.read(dir + "/out/sub/b.png"))
        #expect(b.colorType == .rgba)
        #expect(Files.modificationTime(dir + "/out/a.png") == aTime)

        // --force redoes a.png; without the bad file every image succeeds: status 0.
        try Files.writeAtomically(try Fixtures.bytes("img_24x20.png"), to: dir + "/in/bad.png")
        let third = TestProcess.run("dcd-run", ["-m", model, dir + "/in", "-o", dir + "/out", "-r", "--force"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("3 derained") && third.stderr.contains("0 failed"), "\(third.stderr)")
        #expect(try Files.contents(of: dir + "/out").filter { $0.contains(".tmp-") }.isEmpty)
    }

    /// A raw stream equals its frames derained one by one as PNG files (the image path, which
    /// raw streams took before they ran in a prepared workspace), converted from and to the
    /// stream's format by `RawFrameFormat`: for both precisions, without the colour anchor and
    /// with both fits, rgb24 and nv12 (the prepared-workspace path, nv12 in BT.709 full range
    /// unlike the golden frames) and yuv420p (the image path still).
    @Test(arguments: ["int8", "float"], [RawFrameFormat.PixelFormat.rgb24, .nv12, .yuv420p])
    func rawStreamEqualsDerainingEachFrameAsPNG(precision: String, pixelFormat: RawFrameFormat.PixelFormat) throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.model(dir, precision: precision)
        let format = try RawFrameFormat(width: 24, height: 20, pixelFormat: pixelFormat, matrix: .bt709, range: .full)
        let frames = try Self.rgbFrames(3)
        try Files.writeAtomically(Self.stream(frames, format), to: dir + "/in.raw")
        // The frames as the stream carries them (4:2:0 formats lose chroma detail on the way).
        let carried = try Files.read(dir + "/in.raw")
        for anchor in [[], ["--color-anchor"], ["--anchor-fit", "matrix"]] {
            let r = TestProcess.run("dcd-run", ["-m", model, "--raw", "24x20", "--pix-fmt", pixelFormat.rawValue, "--color-matrix", "bt709",
                                                "--color-range", "full"] + anchor, stdin: dir + "/in.raw")
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stderr.contains("3 frames of 24x20 \(pixelFormat.rawValue)") && r.stderr.contains("fps"), "\(r.stderr)")
            var expected: [UInt8] = []
            for i in 0..<frames.count {
                let frame = carried[(i * format.frameBytes)..<((i + 1) * format.frameBytes)].withUnsafeBufferPointer { format.decode($0) }
                try Files.writeAtomically(try PNGCodec.encode(frame), to: dir + "/f\(i).png")
                let one = TestProcess.run("dcd-run", ["-m", model, dir + "/f\(i).png", "-o", dir + "/o\(i).png"] + anchor)
                #expect(one.status == 0, "\(one.stderr)")
                format.encode(try PNGCodec.decode(try Files.read(dir + "/o\(i).png")), into: &expected)
            }
            #expect(try Files.read(r.stdoutPath) == expected, "\(precision) \(pixelFormat) \(anchor)")
        }
    }

    @Test func nv12StreamThroughPipes() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.model(dir)
        let run = TestProcess.binDirectory + "/dcd-run"
        let command: String
        if Files.exists("/usr/bin/ffmpeg") {
            // ffmpeg on both sides, as in the README's camera pipeline.
            command = "ffmpeg -loglevel error -f lavfi -i testsrc=size=64x48:rate=10 -frames:v 4 -f rawvideo -pix_fmt nv12 - | '\(run)' -m '\(model)' --raw 64x48 --pix-fmt nv12 | ffmpeg -loglevel error -y -f rawvideo -pix_fmt nv12 -s 64x48 -i - '\(dir)/frame%d.png'"
        } else {
            let format = try RawFrameFormat(width: 24, height: 20, pixelFormat: .nv12)
            try Files.writeAtomically(Self.stream(try Self.rgbFrames(4), format), to: dir + "/in.nv12")
            command = "cat '\(dir)/in.nv12' | '\(run)' -m '\(model)' --raw 24x20 --pix-fmt nv12 --color-range full | cat > '\(dir)/out.nv12'"
        }
        let r = TestProcess.run("/bin/sh", ["-c", command])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("4 frames"), "\(r.stderr)")
        if Files.exists("/usr/bin/ffmpeg") {
            let last = try PNGCodec.decode(try Files.read(dir + "/frame4.png"))
            #expect(last.width == 64 && last.height == 48)
        } else {
            #expect(try Files.read(dir + "/out.nv12").count == 4 * (24 * 20 * 3 / 2))
        }
    }

    @Test func videoRateModeReusesStatisticsOfUnchangedFrames() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.model(dir, precision: "int8")
        let frame = try Self.rgbFrames(1)[0]
        let format = try RawFrameFormat(width: 24, height: 20, pixelFormat: .rgb24)
        try Files.writeAtomically(Self.stream([frame, frame, frame], format), to: dir + "/same.rgb")
        let plain = TestProcess.run("dcd-run", ["-m", model, "--raw", "24x20", dir + "/same.rgb", "-o", dir + "/plain.rgb"])
        let reused = TestProcess.run("dcd-run", ["-m", model, "--raw", "24x20", dir + "/same.rgb", "-o", dir + "/reused.rgb", "--reuse-statistics", "1"])
        #expect(plain.status == 0 && reused.status == 0, "\(plain.stderr)\(reused.stderr)")
        #expect(reused.stderr.contains("reused on 2 of 3 frames"), "\(reused.stderr)")
        // Identical frames have identical statistics: reusing them changes no byte.
        #expect(try Files.read(dir + "/plain.rgb") == (try Files.read(dir + "/reused.rgb")))
        // A different frame is a new key frame.
        try Files.writeAtomically(Self.stream(try Self.rgbFrames(12).enumerated().filter { $0.offset % 6 == 0 }.map { $0.element } + [frame], format),
                                  to: dir + "/moving.rgb")
        let moving = TestProcess.run("dcd-run", ["-m", model, "--raw", "24x20", dir + "/moving.rgb", "-o", dir + "/m.rgb", "--reuse-statistics", "0.5"])
        #expect(moving.status == 0 && moving.stderr.contains("reused on 0 of 3 frames"), "\(moving.stderr)")
        // --color-anchor applies to reusing frames as to any other: the stream's frames are the
        // anchored PNG outputs of the same frames.
        let anchored = TestProcess.run("dcd-run", ["-m", model, "--raw", "24x20", dir + "/same.rgb", "-o", dir + "/anchored.rgb",
                                                   "--reuse-statistics", "1", "--color-anchor"])
        #expect(anchored.status == 0 && anchored.stderr.contains("reused on 2 of 3 frames"), "\(anchored.stderr)")
        try Files.writeAtomically(try PNGCodec.encode(frame), to: dir + "/frame.png")
        let one = TestProcess.run("dcd-run", ["-m", model, dir + "/frame.png", "-o", dir + "/frame-out.png", "--color-anchor"])
        #expect(one.status == 0, "\(one.stderr)")
        let bytes = try PNGCodec.decode(try Files.read(dir + "/frame-out.png")).rgb.map { UInt8($0) }
        #expect(try Files.read(dir + "/anchored.rgb") == bytes + bytes + bytes)
        #expect(try Files.read(dir + "/anchored.rgb") != (try Files.read(dir + "/plain.rgb")))
    }

    @Test func everyDocumentedExitStatus() throws {
        let dir = TestProcess.temporaryDirectory()
        let model = Self.model(dir)
        let good = Fixtures.path("img_19x23.png")
        try Files.writeAtomically(Array("junk".utf8), to: dir + "/junk.png")
        try Files.writeAtomically(Array("junk".utf8), to: dir + "/junk.dcdm")
        // A model file from a future format version (the u32 at byte 8).
        var future = try Files.read(model)
        future[8] = 99; future[9] = 0; future[10] = 0; future[11] = 0
        try Files.writeAtomically(future, to: dir + "/future.dcdm")
        let tiny = Image(width: 3, height: 3, bitDepth: 8, colorType: .rgb, rgb: [UInt16](repeating: 9, count: 27))
        try Files.writeAtomically(try PNGCodec.encode(tiny), to: dir + "/tiny.png")
        let format = try RawFrameFormat(width: 24, height: 20, pixelFormat: .nv12)
        var short = Self.stream(try Self.rgbFrames(2), format)
        short.removeLast(7)
        try Files.writeAtomically(short, to: dir + "/short.nv12")
        try Files.makeDirectory(dir + "/mixed")
        try Files.writeAtomically(try Fixtures.bytes("img_19x23.png"), to: dir + "/mixed/ok.png")
        try Files.writeAtomically(Array("junk".utf8), to: dir + "/mixed/junk.png")

        let cases: [(Int32, [String], String)] = [
            (2, ["-m", dir + "/none.dcdm", good, "-o", dir + "/o.png"], "none.dcdm"),
            (3, ["-m", dir + "/junk.dcdm", good, "-o", dir + "/o.png"], "junk.dcdm"),
            (3, ["-m", dir + "/future.dcdm", good, "-o", dir + "/o.png"], "format version 99"),
            (4, ["-m", model, dir + "/junk.png", "-o", dir + "/o.png"], "junk.png"),
            (4, ["-m", model, dir + "/absent.png", "-o", dir + "/o.png"], "absent.png"),
            (5, ["-m", model, dir + "/tiny.png", "-o", dir + "/o.png"], "too small"),
            (6, ["-m", model, good, "-o", "/dev/full"], "/dev/full"),
            (6, ["-m", model, "--raw", "24x20", "--pix-fmt", "nv12", dir + "/short.nv12", "-o", "/dev/full"], "/dev/full"),
            (7, ["-m", model, dir + "/mixed", "-o", dir + "/mixed-out"], "mixed/junk.png"),
            (8, ["-m", model, "--raw", "24x20", "--pix-fmt", "nv12", dir + "/short.nv12", "-o", dir + "/s.nv12"], "frame 2"),
            (64, ["-m", model, "--raw", "23x20", "--pix-fmt", "nv12", dir + "/short.nv12"], "even width"),
            (64, ["-m", model, "--raw", "24x20", "--pix-fmt", "bgr0"], "--pix-fmt"),
            (64, ["-m", model, good, "-o", dir + "/o.png", "--pix-fmt", "nv12"], "--pix-fmt goes with --raw"),
            (64, ["-m", model, "--raw", "24x20", "-r"], "-r"),
            (64, ["-m", model, "--raw", "24x20", "--reuse-statistics", "2"], "int8"),
            (64, ["-m", model, good, "-o", dir + "/o.npy", "--side-by-side"], "--side-by-side"),
        ]
        for (status, args, named) in cases {
            let r = TestProcess.run("dcd-run", args)
            #expect(r.status == status, "dcd-run \(args): status \(r.status)\n\(r.stderr)")
            #expect(r.stderr.contains(named), "dcd-run \(args):\n\(r.stderr)")
        }
        // The short stream's file output was never created, nor any temporary.
        #expect(!Files.exists(dir + "/s.nv12"))
        #expect(try Files.contents(of: dir).filter { $0.contains(".tmp-") }.isEmpty)
        // Every status is in --help.
        let help = TestProcess.run("dcd-run", ["--help"])
        for status in [2, 3, 4, 5, 6, 7, 8, 64] { #expect(help.stdout.contains("  \(status)  "), "status \(status) not in --help") }
    }
}
