import Testing
import DCDCompiler
import DCDRuntime
import DCDTestSupport

struct ModelFileTests {
    static func program() throws -> ModelProgram {
        try CompiledGenerator(checkpointBytes: try Fixtures.bytes("noaaup_ngf6_b1.pth")).program
    }

    static func read(_ bytes: [UInt8]) throws(RuntimeError) -> ModelProgram {
        let result = bytes.withUnsafeBytes { raw in Result { () throws(RuntimeError) in try ModelFileReader.read(raw) } }
        return try result.get()
    }

    /// Rewrites the checksum so that a deliberate edit reaches the field checks behind it.
    static func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes
        let crc = CRC32.checksum(Array(b[0..<(b.count - 4)]))
        for i in 0..<4 { b[b.count - 4 + i] = UInt8((crc >> (8 * UInt32(i))) & 0xFF) }
        return b
    }

    static func u32(_ v: UInt32, into b: inout [UInt8], at: Int) {
        for i in 0..<4 { b[at + i] = UInt8((v >> (8 * UInt32(i))) & 0xFF) }
    }

    @Test func roundTripsExactlyAndDeterministically() throws {
        let p = try Self.program()
        let bytes = try ModelFileWriter.write(p)
        #expect(try Self.read(bytes) == p)
        #expect(try ModelFileWriter.write(p) == bytes)
        // Tensor data is 64-byte aligned (the format's promise to in-place users).
        #expect(bytes.count % 4 == 0)
    }

    @Test func truncatedFilesAreRejected() throws {
        let bytes = try ModelFileWriter.write(try Self.program())
        for n in Array(stride(from: 0, to: bytes.count, by: 97)) + [bytes.count - 1, bytes.count - 4] {
            #expect(throws: RuntimeError.self, "cut to \(n)") { _ = try Self.read(Array(bytes[0..<n])) }
        }
    }

    @Test func everyBitFlipIsCaught() throws {
        let bytes = try ModelFileWriter.write(try Self.program())
        var rng = SeededRandom(seed: 11)
        for _ in 0..<300 {
            var b = bytes
            let at = Int(rng.next() % UInt64(b.count))
            b[at] ^= UInt8(1 << (rng.next() % 8))
            #expect(throws: RuntimeError.self, "flip at \(at)") { _ = try Self.read(b) }
        }
    }

    @Test func otherVersionsAreRejectedByName() throws {
        var b = try ModelFileWriter.write(try Self.program())
        Self.u32(5, into: &b, at: 8)
        do {
            _ = try Self.read(Self.resealed(b))
            Issue.record("version 5 accepted")
        } catch {
            #expect(error.message.contains("format version 5"))
        }
    }

    /// The output colour field: a per-channel anchor makes the file version 3, a colour matrix
    /// version 4, and each reads back; a float model without one stays version 1 (older
    /// readers load it); a version 1 file that sets it, a version 3 file with the matrix, or
    /// any value above 2 is rejected by name.
    @Test func anchoredColourNeedsVersionThreeOrFour() throws {
        var p = try Self.program()
        let plain = try ModelFileWriter.write(p)
        #expect(plain[8] == 1 && plain[80] == 0)
        p.colorAnchor = .perChannel
        let anchored = try ModelFileWriter.write(p)
        #expect(anchored[8] == 3 && anchored[80] == 1)
        let back = try Self.read(anchored)
        #expect(back.colorAnchor == .perChannel && back == p)
        #expect(try Self.read(plain).colorAnchor == nil)
        p.colorAnchor = .matrix
        let matrix = try ModelFileWriter.write(p)
        #expect(matrix[8] == 4 && matrix[80] == 2)
        #expect(try Self.read(matrix) == p)
        var old = plain
        Self.u32(1, into: &old, at: 80)
        var early = anchored
        Self.u32(2, into: &early, at: 80)
        var odd = matrix
        Self.u32(3, into: &odd, at: 80)
        for (name, b) in [("version 1 with the field", old), ("version 3 with value 2", early), ("value 3", odd)] {
            do {
                _ = try Self.read(Self.resealed(b))
                Issue.record("\(name) accepted")
            } catch {
                #expect(error.message.contains("output colour field"), "\(name): \(error.message)")
            }
        }
    }

    @Test func inconsistentButSealedFilesAreRejected() throws {
        let good = try ModelFileWriter.write(try Self.program())
        // Op 0 reading value 5 (defined later).
        var b = good
        Self.u32(5, into: &b, at: 128 + 4)
        #expect(throws: RuntimeError.self) { _ = try Self.read(Self.resealed(b)) }
        // A depthwise convolution with an output padding (a field it does not use).
        b = good
        let dwIndex = try Self.program().ops.firstIndex { $0.kind == .depthwiseConv2d }!
        Self.u32(2, into: &b, at: 128 + dwIndex * 64 + 28)
        #expect(throws: RuntimeError.self) { _ = try Self.read(Self.resealed(b)) }
        // A tensor offset past the end.
        b = good
        let tensorTable = 128 + (try Self.program().ops.count) * 64
        Self.u32(UInt32(good.count), into: &b, at: tensorTable + 88)
        #expect(throws: RuntimeError.self) { _ = try Self.read(Self.resealed(b)) }
        // An unknown op kind.
        b = good
        Self.u32(99, into: &b, at: 128)
        #expect(throws: RuntimeError.self) { _ = try Self.read(Self.resealed(b)) }
    }

    @Test func otherFilesAreNotModels() {
        #expect(throws: RuntimeError.self) { _ = try Self.read([]) }
        #expect(throws: RuntimeError.self) { _ = try Self.read([UInt8](repeating: 0, count: 4096)) }
    }
}

extension ModelFileTests {
    /// Float model files with op-table words changed and the checksum recomputed: refused at
    /// load or run to the end on a small image, never a trap.
    @Test func sealedMutationsOfFloatModelsNeverCrash() throws {
        let p = try Self.program()
        let good = try ModelFileWriter.write(p)
        var rng = SeededRandom(seed: 99)
        let interesting: [UInt32] = [0, 1, 2, 3, 7, 64, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF]
        let image = FloatTensor(channels: 3, height: 12, width: 12, repeating: 100)
        for _ in 0..<150 {
            var b = good
            let word = 128 / 4 + Int(rng.next() % UInt64(p.ops.count * 16))
            Self.u32(interesting[Int(rng.next() % UInt64(interesting.count))], into: &b, at: word * 4)
            do {
                let program = try Self.read(Self.resealed(b))
                _ = try FloatReferenceExecutor(program: program).derain(pixels: image)
            } catch {}
        }
    }
}
