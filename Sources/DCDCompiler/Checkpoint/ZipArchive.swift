import CZlib
import DCDRuntime

/// A read-only zip archive, as PyTorch writes its checkpoints (torch.save since 1.6): a central
/// directory at the end, entries stored (PyTorch's default) or deflated (re-zipped files), zip64
/// records for large archives. Every entry's CRC-32 is verified when it is extracted, so a flipped
/// bit in a weight is an error and not a silently different model.
struct ZipArchive {
    struct Entry {
        var name: String
        var method: UInt16
        var compressedSize: Int
        var uncompressedSize: Int
        var crc32: UInt32
        var localHeaderOffset: Int
    }

    let bytes: [UInt8]
    private(set) var entries: [Entry] = []

    static func looksLikeZip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    init(_ bytes: [UInt8]) throws {
        self.bytes = bytes
        // End of central directory: 22 bytes plus a comment of up to 65535 bytes, at the end.
        let minEOCD = 22
        guard bytes.count >= minEOCD else { throw CheckpointError("zip archive is truncated (\(bytes.count) bytes)") }
        var eocd = -1
        var i = bytes.count - minEOCD
        let lowest = max(0, bytes.count - minEOCD - 65535)
        while i >= lowest {
            if bytes[i] == 0x50 && bytes[i + 1] == 0x4B && bytes[i + 2] == 0x05 && bytes[i + 3] == 0x06 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw CheckpointError("zip archive has no end-of-central-directory record: truncated or not a zip file") }
        var c = ByteCursor(bytes, at: eocd + 10, context: "zip end record")
        var count = Int(try c.u16())
        c.position = eocd + 12
        var directorySize = Int(try c.u32())
        var directoryOffset = Int(try c.u32())
        // Zip64: the locator sits 20 bytes before the end record and points at the zip64 end record.
        if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF || directorySize == 0xFFFF_FFFF, eocd >= 20 {
            var l = ByteCursor(bytes, at: eocd - 20, context: "zip64 locator")
            if try l.u32() == 0x0706_4B50 {
                _ = try l.u32()
                let recordOffset = try l.u64()
                guard recordOffset < UInt64(bytes.count) else { throw CheckpointError("zip64 locator points past the end of the file") }
                var r = ByteCursor(bytes, at: Int(recordOffset), context: "zip64 end record")
                guard try r.u32() == 0x0606_4B50 else { throw CheckpointError("zip64 end record has a bad signature") }
                r.position += 8 + 2 + 2 + 4 + 4 + 8
                let total = try r.u64(), size = try r.u64(), offset = try r.u64()
                guard total < UInt64(bytes.count), size <= UInt64(bytes.count), offset <= UInt64(bytes.count) else {
                    throw CheckpointError("zip64 end record has impossible sizes")
                }
                count = Int(total); directorySize = Int(size); directoryOffset = Int(offset)
            }
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset else {
            throw CheckpointError("zip central directory (offset \(directoryOffset), \(directorySize) bytes) lies outside the \(bytes.count)-byte file: truncated")
        }
        var d = ByteCursor(bytes, at: directoryOffset, context: "zip central directory")
        for n in 0..<count {
            guard try d.u32() == 0x0201_4B50 else { throw CheckpointError("zip central directory entry \(n) has a bad signature: corrupted") }
            d.position += 2 + 2 + 2  // versions, flags
            let method = try d.u16()
            d.position += 4  // time, date
            let crc = try d.u32()
            var compressed = Int(try d.u32())
            var uncompressed = Int(try d.u32())
            let nameLength = Int(try d.u16()), extraLength = Int(try d.u16()), commentLength = Int(try d.u16())
            d.position += 2 + 2 + 4  // disk, internal and external attributes
            var localOffset = Int(try d.u32())
            let name = String(decoding: try d.take(nameLength), as: UTF8.self)
            var extra = ByteCursor(Array(try d.take(extraLength)), context: "zip extra field of '\(name)'")
            _ = try d.take(commentLength)
            // Zip64 extended information: the fields that were 0xFFFFFFFF, in this order.
            while extra.remaining >= 4 {
                let tag = try extra.u16(), size = Int(try extra.u16())
                var field = ByteCursor(Array(try extra.take(size)), context: "zip64 field of '\(name)'")
                guard tag == 0x0001 else { continue }
                if uncompressed == 0xFFFF_FFFF { uncompressed = Int(clamping: try field.u64()) }
                if compressed == 0xFFFF_FFFF { compressed = Int(clamping: try field.u64()) }
                if localOffset == 0xFFFF_FFFF { localOffset = Int(clamping: try field.u64()) }
            }
            entries.append(Entry(name: name, method: method, compressedSize: compressed, uncompressedSize: uncompressed,
                                 crc32: crc, localHeaderOffset: localOffset))
        }
    }

    func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

    /// The entry's bytes, decompressed and CRC-checked.
    func extract(_ entry: Entry) throws -> [UInt8] {
        var l = ByteCursor(bytes, at: entry.localHeaderOffset, context: "zip entry '\(entry.name)'")
        guard entry.localHeaderOffset < bytes.count, try l.u32() == 0x0403_4B50 else {
            throw CheckpointError("zip entry '\(entry.name)' has a bad local header: corrupted or truncated")
        }
        l.position = entry.localHeaderOffset + 26
        let nameLength = Int(try l.u16()), extraLength = Int(try l.u16())
        let start = l.position + nameLength + extraLength
        guard entry.compressedSize >= 0, start <= bytes.count, entry.compressedSize <= bytes.count - start else {
            throw CheckpointError("zip entry '\(entry.name)' (\(entry.compressedSize) bytes) runs past the end of the file: truncated")
        }
        let data: [UInt8]
        switch entry.method {
        case 0:
            guard entry.compressedSize == entry.uncompressedSize else {
                throw CheckpointError("zip entry '\(entry.name)' is stored but its sizes differ: corrupted")
            }
            data = Array(bytes[start..<(start + entry.compressedSize)])
        case 8:
            data = try Self.inflate(bytes[start..<(start + entry.compressedSize)], expected: entry.uncompressedSize, name: entry.name)
        default:
            throw CheckpointError("zip entry '\(entry.name)' uses compression method \(entry.method); only stored (0) and deflate (8) are supported")
        }
        let crc = CRC32.checksum(data)
        guard crc == entry.crc32 else {
            throw CheckpointError("zip entry '\(entry.name)' fails its CRC-32 check: the file is corrupted")
        }
        return data
    }

    /// Raw deflate (no zlib header), as zip stores it.
    static func inflate(_ input: ArraySlice<UInt8>, expected: Int, name: String) throws -> [UInt8] {
        guard expected >= 0 && expected <= 1 << 34 else { throw CheckpointError("zip entry '\(name)' claims \(expected) bytes") }
        var output = [UInt8](repeating: 0, count: max(expected, 1))
        var stream = z_stream()
        guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw CheckpointError("zlib could not start inflating '\(name)'")
        }
        defer { inflateEnd(&stream) }
        var input = Array(input)
        let status: Int32 = input.withUnsafeMutableBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                stream.next_in = inp.baseAddress
                stream.avail_in = uInt(inp.count)
                stream.next_out = out.baseAddress
                stream.avail_out = uInt(expected)
                return CZlib.inflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(stream.total_out) == expected else {
            throw CheckpointError("zip entry '\(name)' does not inflate to its declared \(expected) bytes: corrupted")
        }
        return Array(output[0..<expected])
    }
}
