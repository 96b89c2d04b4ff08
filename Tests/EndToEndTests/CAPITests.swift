import Testing
import DCDRuntime
import DCDPlatform
import DCDTestSupport

/// The C API (include/dcd.h) from Swift, in this build: host-owned model bytes and workspace,
/// RGB24 and NV12 frames, statuses and messages. The golden outputs are dcd-run's raw streams on
/// x86 (tools/embedded/make_golden.sh; made through its image path, which its raw streams still
/// equal: StreamAndFolderTests), so this build must reproduce them exactly; the ARM64 and
/// Embedded builds are held to the same files by tools/embedded/test-arm64.sh.
struct CAPITests {
    static func load(_ name: String) throws -> OpaquePointer {
        let bytes = try Fixtures.bytes("golden/" + name)
        var model: OpaquePointer?
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBytes { b in dcd_model_load(b.baseAddress, b.count, &model, &message, message.count) }
        #expect(status == 0, "\(String(cString: message))")
        return model!
    }

    @Test(arguments: ["int8", "float"], ["rgb24", "nv12"])
    func goldenFramesInHostMemory(precision: String, format: String) throws {
        let model = try Self.load("trained8.\(precision).dcdm")
        defer { dcd_model_free(model) }
        #expect(dcd_model_is_int8(model) == (precision == "int8" ? 1 : 0))
        let input = try Fixtures.bytes("golden/in.\(format)"), expected = try Fixtures.bytes("golden/out.\(precision).\(format)")
        let code: Int32 = format == "rgb24" ? 0 : 1
        var output = [UInt8](repeating: 0, count: expected.count)
        // Before prepare: DCD_NOT_PREPARED.
        #expect(dcd_model_run(model, code, input, &output, 24, 20, 0) == 5)
        let bytes = dcd_model_workspace_bytes(model, 24, 20)
        #expect(bytes > 0)
        let workspace = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { workspace.deallocate() }
        #expect(dcd_model_prepare(model, 24, 20, workspace, bytes - 1) == 4)
        #expect(dcd_model_prepare(model, 24, 20, workspace, bytes) == 0, "\(String(cString: dcd_model_error(model)!))")
        for _ in 0..<2 {
            #expect(dcd_model_run(model, code, input, &output, 24, 20, 0) == 0, "\(String(cString: dcd_model_error(model)!))")
            #expect(output == expected)
        }
        // A thread hook that runs the tasks in reverse order: the same bytes.
        let reversed: @convention(c) (UnsafeMutableRawPointer?, Int, (@convention(c) (UnsafeMutableRawPointer?, Int) -> Void)?, UnsafeMutableRawPointer?) -> Void = { _, count, task, context in
            for i in (0..<count).reversed() { task!(context, i) }
        }
        #expect(dcd_model_set_threads(model, 3, reversed, nil) == 0)
        output = [UInt8](repeating: 0, count: expected.count)
        #expect(dcd_model_run(model, code, input, &output, 24, 20, 0) == 0)
        #expect(output == expected)
        // Errors: odd NV12 sides, a frame too small, unknown format.
        #expect(dcd_model_run(model, 1, input, &output, 23, 20, 0) == 2)
        #expect(dcd_model_workspace_bytes(model, 3, 3) == 0)
        #expect(String(cString: dcd_model_error(model)!).contains("too small"))
        #expect(dcd_model_run(model, 9, input, &output, 24, 20, 0) == 3)
    }

    @Test func badModelBytesGiveAStatusAndAMessage() {
        var model: OpaquePointer? = OpaquePointer(bitPattern: 1)
        var message = [CChar](repeating: 0, count: 64)
        let junk = [UInt8](repeating: 7, count: 100)
        #expect(dcd_model_load(junk, junk.count, &model, &message, message.count) == 1)
        #expect(model == nil && !String(cString: message).isEmpty)
        #expect(String(cString: dcd_status_name(5)) == "DCD_NOT_PREPARED")
        #expect(String(cString: dcd_status_name(99)) == "DCD_UNKNOWN_STATUS")
    }

    /// dcd_model_set_color_anchor: the frame's output equals what dcd-run --color-anchor
    /// (--anchor-fit channel, matrix) made of the same raw frame (the golden out.anchored.* and
    /// out.matrix.* files; the anchors are tested against the NumPy reference), for both
    /// precisions and formats; a model compiled with --color-anchor starts
    /// anchored, one compiled with --anchor-fit matrix by the matrix.
    @Test(arguments: ["int8", "float"], ["rgb24", "nv12"])
    func colorAnchorMatchesDcdRun(precision: String, format: String) throws {
        let dir = TestProcess.temporaryDirectory()
        let expected = [try Fixtures.bytes("golden/out.anchored.\(precision).\(format)"), try Fixtures.bytes("golden/out.matrix.\(precision).\(format)")]
        let plain = try Fixtures.bytes("golden/out.\(precision).\(format)")
        #expect(expected[0] != plain && expected[1] != plain && expected[0] != expected[1])
        let model = try Self.load("trained8.\(precision).dcdm")
        defer { dcd_model_free(model) }
        #expect(dcd_model_color_anchor(model) == 0)
        let input = try Fixtures.bytes("golden/in.\(format)")
        let bytes = dcd_model_workspace_bytes(model, 24, 20)
        let workspace = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        defer { workspace.deallocate() }
        #expect(dcd_model_prepare(model, 24, 20, workspace, bytes) == 0)
        var output = [UInt8](repeating: 0, count: plain.count)
        for mode in [1, 2] as [Int32] {
            #expect(dcd_model_set_color_anchor(model, mode) == 0 && dcd_model_color_anchor(model) == mode)
            #expect(dcd_model_run(model, format == "rgb24" ? 0 : 1, input, &output, 24, 20, 0) == 0, "\(String(cString: dcd_model_error(model)!))")
            #expect(output == expected[Int(mode) - 1], "mode \(mode)")
        }
        #expect(dcd_model_set_color_anchor(model, 3) == 3 && dcd_model_color_anchor(model) == 2)
        #expect(String(cString: dcd_model_error(model)!).contains("colour anchor mode 3"))
        #expect(dcd_model_set_color_anchor(model, 0) == 0)
        #expect(dcd_model_run(model, format == "rgb24" ? 0 : 1, input, &output, 24, 20, 0) == 0)
        #expect(output == plain)
        if precision == "float" && format == "rgb24" {
            let compiled = TestProcess.run("dcd-compile", [Fixtures.path("trained_ngf8_b2.pth"), "--precision", "float", "--color-anchor", "-o", dir + "/a.dcdm"])
            #expect(compiled.status == 0, "\(compiled.stderr)")
            let file = try Files.read(dir + "/a.dcdm")
            var anchored: OpaquePointer?
            #expect(file.withUnsafeBytes { dcd_model_load($0.baseAddress, $0.count, &anchored, nil, 0) } == 0)
            #expect(dcd_model_color_anchor(anchored) == 1)
            dcd_model_free(anchored)
            let matrix = TestProcess.run("dcd-compile", [Fixtures.path("trained_ngf8_b2.pth"), "--precision", "float", "--anchor-fit", "matrix",
                                                         "-o", dir + "/m.dcdm"])
            #expect(matrix.status == 0, "\(matrix.stderr)")
            let matrixFile = try Files.read(dir + "/m.dcdm")
            #expect(matrixFile.withUnsafeBytes { dcd_model_load($0.baseAddress, $0.count, &anchored, nil, 0) } == 0)
            #expect(dcd_model_color_anchor(anchored) == 2)
            dcd_model_free(anchored)
        }
    }
}
