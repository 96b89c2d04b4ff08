import DCDPlatform

/// safetensors bytes for float32 tensors: an 8-byte little-endian header length, a JSON header
/// {name: {dtype, shape, data_offsets}, "__metadata__": {...}} padded with spaces to a multiple
/// of 8, then the tensors' little-endian bytes in header order. Readable by
/// safetensors.torch.load_file and by dcd-compile.
public enum SafetensorsWriter {
    public static func encode(_ tensors: [(name: String, shape: [Int], values: [Float])], metadata: [(String, String)] = []) -> [UInt8] {
        var header = "{"
        var offset = 0
        for (i, t) in tensors.enumerated() {
            precondition(t.shape.reduce(1, *) == t.values.count, "\(t.name): shape \(t.shape) for \(t.values.count) values")
            let bytes = t.values.count * 4
            header += (i == 0 ? "" : ",") + "\(JSONText.quoted(t.name)):{\"dtype\":\"F32\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            offset += bytes
        }
        if !metadata.isEmpty {
            header += (tensors.isEmpty ? "" : ",") + "\"__metadata__\":{" + metadata.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }.joined(separator: ",") + "}"
        }
        header += "}"
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var out: [UInt8] = []
        out.reserveCapacity(8 + header.utf8.count + offset)
        let length = UInt64(header.utf8.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> (8 * i))) }
        out.append(contentsOf: header.utf8)
        for t in tensors {
            for v in t.values {
                let bits = v.bitPattern
                for i in 0..<4 { out.append(UInt8(truncatingIfNeeded: bits >> (8 * i))) }
            }
        }
        return out
    }
}
