/// A bounds-checked little-endian reader over a byte array. Every read that would leave the
/// buffer throws instead of trapping: checkpoints can be truncated or hostile.
struct ByteCursor {
    let bytes: [UInt8]
    var position: Int
    /// What is being read, for error messages ("zip central directory", "pickle").
    let context: String

    init(_ bytes: [UInt8], at position: Int = 0, context: String) {
        self.bytes = bytes
        self.position = position
        self.context = context
    }

    var remaining: Int { bytes.count - position }
    var atEnd: Bool { position >= bytes.count }

    func truncated(_ need: Int) -> CheckpointError {
        CheckpointError("\(context) is truncated: needs \(need) bytes at offset \(position), \(max(0, remaining)) left")
    }

    mutating func take(_ n: Int) throws -> ArraySlice<UInt8> {
        guard n >= 0, position >= 0, n <= remaining else { throw truncated(n) }
        defer { position += n }
        return bytes[position..<(position + n)]
    }

    mutating func u8() throws -> UInt8 {
        guard remaining >= 1 else { throw truncated(1) }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u16() throws -> UInt16 {
        let s = try take(2)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }

    mutating func u32() throws -> UInt32 {
        let s = try take(4)
        var v: UInt32 = 0
        for (i, b) in s.enumerated() { v |= UInt32(b) << (8 * UInt32(i)) }
        return v
    }

    mutating func u64() throws -> UInt64 {
        let s = try take(8)
        var v: UInt64 = 0
        for (i, b) in s.enumerated() { v |= UInt64(b) << (8 * UInt64(i)) }
        return v
    }
}
