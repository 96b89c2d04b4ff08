import Testing
import DCDCompiler
import DCDRuntime
import DCDTestSupport

struct CheckpointImportTests {
    static let architectures: [(String, GeneratorArchitecture, Checkpoint.Format)] = [
        ("aa_ngf8_b2.pth", .init(ngf: 8, blockCount: 2, noAntialias: false, noAntialiasUp: false), .torchZip),
        ("noaa_ngf4_b3.pth", .init(ngf: 4, blockCount: 3, noAntialias: true, noAntialiasUp: true), .torchZip),
        ("noaadown_ngf6_b1.pth", .init(ngf: 6, blockCount: 1, noAntialias: true, noAntialiasUp: false), .torchZip),
        ("noaaup_ngf6_b1.pth", .init(ngf: 6, blockCount: 1, noAntialias: false, noAntialiasUp: true), .torchZip),
        ("legacy.pth", .init(ngf: 4, blockCount: 3, noAntialias: true, noAntialiasUp: true), .torchLegacy),
        ("aa_ngf8_b2.safetensors", .init(ngf: 8, blockCount: 2, noAntialias: false, noAntialiasUp: false), .safetensors),
        ("deflated.pth", .init(ngf: 8, blockCount: 2, noAntialias: false, noAntialiasUp: false), .torchZip),
    ]

    @Test func infersArchitectureAndFormat() throws {
        for (file, arch, format) in Self.architectures {
            let c = try CompiledGenerator(checkpointBytes: try Fixtures.bytes(file))
            #expect(c.architecture == arch, "\(file)")
            #expect(c.format == format, "\(file)")
        }
    }

    @Test func float16CheckpointIsReadExactly() throws {
        let half = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("fp16.pth"))
        let full = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("aa_ngf8_b2.pth"))
        #expect(half.stateDict["model.1.weight"]?.dtype == .float16)
        // Every float16 value is within half an fp16 ulp (2^-11 relative) of the float32 original.
        for (h, f) in zip(half.stateDict.tensors, full.stateDict.tensors) {
            for (a, b) in zip(h.tensor.values, f.tensor.values) {
                #expect(abs(a - b) <= abs(b) * 0x1p-11 + 0x1p-25, "\(h.name)")
            }
        }
    }

    @Test func unwrapsNestedAndPrefixedCheckpoints() throws {
        let module = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("module_prefixed.pth"))
        #expect(module.stateDict.prefix == "module.")
        #expect(module.stateDict.notes.joined().contains("DataParallel"))

        let nested = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("nested.ckpt"))
        #expect(nested.stateDict.prefix == "state_dict.netG_A.")
        #expect(nested.stateDict.notes.joined(separator: " ").contains("G_B"))
        let b = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("nested.ckpt"), network: "G_B")
        #expect(b.stateDict.prefix == "state_dict.netG_B.")

        do {
            _ = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("nested.ckpt"), network: "G_C")
            Issue.record("G_C should not exist")
        } catch {
            #expect("\(error)".contains("G_A, G_B"))
        }
    }

    @Test func hostilePickleIsRefusedAndNeverRun() throws {
        let marker = "/tmp/dcd-hostile-pickle-ran"
        do {
            _ = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("hostile.pth"))
            Issue.record("hostile pickle was accepted")
        } catch {
            #expect("\(error)".contains("refusing global 'posix.system'") || "\(error)".contains("refusing global 'os.system'"), "\(error)")
        }
        #expect(!TestProcess.fileExists(marker))
    }

    static let formats = ["aa_ngf8_b2.pth", "legacy.pth", "aa_ngf8_b2.safetensors", "deflated.pth", "nested.ckpt"]

    @Test(arguments: formats)
    func truncatedCheckpointsAreErrors(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        var lengths = Array(stride(from: 0, to: bytes.count, by: max(1, bytes.count / 60)))
        lengths += [bytes.count - 1, bytes.count - 4, bytes.count - 22, 8, 9, 10]
        for n in lengths where n >= 0 && n < bytes.count {
            #expect(throws: (any Error).self, "\(file) cut to \(n) bytes") {
                _ = try CompiledGenerator(checkpointBytes: Array(bytes[0..<n]))
            }
        }
    }

    /// Zip entries carry CRC-32s: a flipped bit anywhere in a weight or in the pickle is caught.
    @Test func bitFlipsInZipEntriesAreCaught() throws {
        let bytes = try Fixtures.bytes("aa_ngf8_b2.pth")
        var rng = SeededRandom(seed: 3)
        // The local entries occupy the file up to the central directory (the last ~2 KB).
        for _ in 0..<40 {
            var corrupted = bytes
            let at = Int(rng.next() % UInt64(bytes.count - 4096)) + 2048
            corrupted[at] ^= UInt8(1 << (rng.next() % 8))
            do {
                _ = try CompiledGenerator(checkpointBytes: corrupted)
                // A flip inside a zip local header's name or padding is not covered by a CRC.
                let c = try CompiledGenerator(checkpointBytes: bytes)
                let d = try CompiledGenerator(checkpointBytes: corrupted)
                #expect(c.program == d.program, "flip at \(at) changed the model without an error")
            } catch {
                let text = "\(error)"
                #expect(!text.isEmpty)
            }
        }
    }

    /// Random mutations of every format: each must be an error or a valid import, never a crash.
    @Test(arguments: formats)
    func mutatedCheckpointsNeverCrash(_ file: String) throws {
        let bytes = try Fixtures.bytes(file)
        var rng = SeededRandom(seed: UInt64(bytes.count))
        for _ in 0..<25 {
            var m = bytes
            for _ in 0..<Int(1 + rng.next() % 8) {
                // Bias mutations to the start and the end, where headers and directories live.
                let region = Int(rng.next() % 3)
                let span = min(m.count, 4096)
                let at = region == 0 ? Int(rng.next() % UInt64(span)) : region == 1 ? m.count - 1 - Int(rng.next() % UInt64(span)) : Int(rng.next() % UInt64(m.count))
                m[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            _ = try? CompiledGenerator(checkpointBytes: m)
        }
    }

    @Test func garbageIsNotACheckpoint() {
        for bytes: [UInt8] in [[], [0x80], [0x80, 0x02, 0x2E], Array("PK\u{3}\u{4}garbage".utf8), [UInt8](repeating: 0xFF, count: 100)] {
            #expect(throws: (any Error).self) { _ = try CompiledGenerator(checkpointBytes: bytes) }
        }
    }
}
