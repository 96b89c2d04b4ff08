/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), as zip and zlib compute it.
///
/// Used for the model file checksum and to verify zip entries of PyTorch checkpoints. The table is
/// built once per call of `CRC32.checksum` (1 KiB, 256 x 8 steps): cheaper than a global that
/// Embedded Swift would have to initialise lazily, and negligible next to checksumming megabytes.
public enum CRC32 {
    public static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        var table = [UInt32](repeating: 0, count: 256)
        for i in 0..<256 {
            var c = UInt32(i)
            for _ in 0..<8 { c = (c & 1) != 0 ? (0xEDB8_8320 ^ (c >> 1)) : (c >> 1) }
            table[i] = c
        }
        var crc = ~initial
        table.withUnsafeBufferPointer { t in
            for b in bytes {
                crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8)
            }
        }
        return ~crc
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }
}
