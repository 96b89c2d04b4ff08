/// NumPy .npy (format 1.0) for float32 arrays: magic, version, a Python-literal header padded to a
/// multiple of 64 bytes, then little-endian data in C order.
public enum NPY {
    public static func encode(float32 values: [Float], shape: [Int]) -> [UInt8] {
        precondition(values.count == shape.reduce(1, *), "values do not match the shape")
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let prefix = 10  // magic (6) + version (2) + header length (2)
        while (prefix + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + values.count * 4)
        for v in values {
            let b = v.bitPattern
            out += [UInt8(b & 0xFF), UInt8((b >> 8) & 0xFF), UInt8((b >> 16) & 0xFF), UInt8(b >> 24)]
        }
        return out
    }
}
