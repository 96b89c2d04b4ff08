/// safetensors: an 8-byte little-endian header length, a JSON header mapping each tensor name to
/// {dtype, shape, data_offsets: [begin, end]} (offsets relative to the data after the header),
/// an optional "__metadata__" map of strings, then the data. Also the format of dcd-train's
/// checkpoints, which put the architecture in the metadata.
enum Safetensors {
    static func looksLikeSafetensors(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 10 else { return false }
        var n: UInt64 = 0
        for i in 0..<8 { n |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        return n >= 2 && n <= UInt64(bytes.count - 8) && bytes[8] == UInt8(ascii: "{")
    }

    static func read(_ bytes: [UInt8]) throws -> (tensors: [(String, CheckpointTensor)], metadata: [(String, String)]) {
        var c = ByteCursor(bytes, context: "safetensors header")
        let headerLength = try c.u64()
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw CheckpointError("safetensors header claims \(headerLength) bytes but the file has \(bytes.count - 8) after the length: truncated")
        }
        let dataStart = 8 + Int(headerLength)
        let header = try JSONValue.parse(bytes[8..<dataStart], context: "safetensors header")
        guard case .object(let members) = header else { throw CheckpointError("safetensors header is not a JSON object") }
        let dataLength = bytes.count - dataStart
        var tensors: [(String, CheckpointTensor, Int)] = []
        var metadata: [(String, String)] = []
        for (name, v) in members {
            if name == "__metadata__" {
                guard case .object(let m) = v else { throw CheckpointError("safetensors __metadata__ is not an object") }
                for (k, value) in m {
                    guard case .string(let s) = value else { throw CheckpointError("safetensors metadata '\(k)' is not a string") }
                    metadata.append((k, s))
                }
                continue
            }
            guard case .object(let fields) = v,
                  case .string(let dtypeName)? = fields.first(where: { $0.0 == "dtype" })?.1,
                  case .array(let shapeItems)? = fields.first(where: { $0.0 == "shape" })?.1,
                  case .array(let offsetItems)? = fields.first(where: { $0.0 == "data_offsets" })?.1,
                  offsetItems.count == 2 else {
                throw CheckpointError("safetensors entry '\(name)' lacks dtype, shape or data_offsets")
            }
            guard let dtype = TensorDType(safetensors: dtypeName) else {
                throw CheckpointError("safetensors tensor '\(name)' has unsupported dtype \(dtypeName)")
            }
            func integer(_ j: JSONValue) throws -> Int {
                guard case .number(let d) = j, d >= 0, d <= Double(1 << 52), d == d.rounded() else {
                    throw CheckpointError("safetensors tensor '\(name)': \(j) is not a non-negative integer")
                }
                return Int(d)
            }
            let shape = try shapeItems.map(integer)
            let begin = try integer(offsetItems[0]), end = try integer(offsetItems[1])
            var count = 1
            for s in shape {
                let (p, o) = count.multipliedReportingOverflow(by: s)
                guard !o, p <= dataLength else { throw CheckpointError("safetensors tensor '\(name)' of shape \(shape) is larger than the file") }
                count = p
            }
            guard begin <= end, end <= dataLength else {
                throw CheckpointError("safetensors tensor '\(name)': data offsets [\(begin), \(end)] lie outside the \(dataLength)-byte data section: truncated")
            }
            guard end - begin == count * dtype.byteSize else {
                throw CheckpointError("safetensors tensor '\(name)': \(end - begin) bytes for shape \(shape) of \(dtypeName)")
            }
            var values = [Float](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                let slice = UnsafeRawBufferPointer(rebasing: raw[(dataStart + begin)..<(dataStart + end)])
                for i in 0..<count { values[i] = dtype.decode(slice, element: i) }
            }
            tensors.append((name, CheckpointTensor(dtype: dtype, shape: shape, values: values), begin))
        }
        // Safetensors writers sort names; keep file order by data offset for readable reports.
        tensors.sort { $0.2 < $1.2 }
        return (tensors.map { ($0.0, $0.1) }, metadata)
    }
}
