import Testing
import DCDCompiler
import DCDRuntime
import DCDTestSupport

/// Missing, unexpected and mis-shaped keys and wrong blur filters are reported by name. The
/// checkpoints are safetensors files written here from the aa_ngf8_b2 fixture with one change.
struct KeyCheckTests {
    static func safetensors(_ tensors: [(String, [Int], [Float])]) -> [UInt8] {
        var header = "{"
        var data: [UInt8] = []
        for (i, (name, shape, values)) in tensors.enumerated() {
            let begin = data.count
            for v in values {
                let b = v.bitPattern
                data += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
            }
            header += (i > 0 ? "," : "") + "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(begin),\(data.count)]}"
        }
        header += "}"
        let h = Array(header.utf8)
        var out: [UInt8] = []
        for i in 0..<8 { out.append(UInt8((UInt64(h.count) >> (8 * UInt64(i))) & 0xFF)) }
        return out + h + data
    }

    static func base() throws -> [(String, [Int], [Float])] {
        let c = try CompiledGenerator(checkpointBytes: try Fixtures.bytes("aa_ngf8_b2.pth"))
        return c.stateDict.tensors.map { ($0.name, $0.tensor.shape, $0.tensor.values) }
    }

    static func error(_ tensors: [(String, [Int], [Float])]) -> String {
        do {
            _ = try CompiledGenerator(checkpointBytes: safetensors(tensors))
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func unchangedCheckpointImports() throws {
        #expect(Self.error(try Self.base()) == "")
    }

    @Test func missingKeyIsNamed() throws {
        let t = try Self.base().filter { $0.0 != "model.12.conv_block.5.bias" }
        #expect(Self.error(t).contains("missing keys: model.12.conv_block.5.bias"))
    }

    @Test func unexpectedKeyIsNamed() throws {
        let t = try Self.base() + [("model.99.weight", [2], [1, 2])]
        #expect(Self.error(t).contains("unexpected keys: model.99.weight"))
    }

    @Test func misshapenKeyIsNamed() throws {
        var t = try Self.base()
        let i = t.firstIndex { $0.0 == "model.8.bias" }!
        t[i] = ("model.8.bias", [16], [Float](repeating: 0, count: 16))
        #expect(Self.error(t).contains("model.8.bias has shape [16], expected [32]"))
    }

    @Test func wrongBlurFilterIsNamed() throws {
        var t = try Self.base()
        let i = t.firstIndex { $0.0 == "model.7.filt" }!
        t[i].2[4] += 0.01
        #expect(Self.error(t).contains("model.7.filt is not the fixed blur filter"))
    }

    @Test func nonFiniteWeightIsNamed() throws {
        var t = try Self.base()
        let i = t.firstIndex { $0.0 == "model.4.weight" }!
        t[i].2[3] = .nan
        #expect(Self.error(t).contains("model.4.weight holds a non-finite value"))
    }
}
