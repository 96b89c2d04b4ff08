import DCDPlatform

/// Locations and readers for the committed fixtures (Tests/Fixtures, made by
/// tools/make_fixtures.py with PyTorch). Paths come from #filePath so tests need no bundle
/// resources and no Foundation.
public enum Fixtures {
    public static var directory: String {
        // #filePath is .../Tests/DCDTestSupport/Fixtures.swift.
        parent(parent("\(#filePath)")) + "/Fixtures"
    }

    /// The package root (for the built executables and models/).
    public static var packageRoot: String {
        parent(parent(directory))
    }

    static func parent(_ path: String) -> String {
        String(path[..<path.lastIndex(of: "/")!])
    }

    public static func path(_ name: String) -> String { directory + "/" + name }

    public static func bytes(_ name: String) throws -> [UInt8] { try Files.read(path(name)) }

    /// One reference case: a checkpoint, a network, an image, and PyTorch's output on it.
    public struct Case: Sendable, CustomStringConvertible {
        public var name: String
        public var checkpoint: String
        public var network: String
        public var image: String
        public var expected: String
        public var description: String { name }
    }

    public static func cases() -> [Case] {
        let text = String(decoding: (try? bytes("cases.txt")) ?? [], as: UTF8.self)
        return text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: " ").map(String.init)
            guard f.count == 5, !f[0].hasPrefix("#") else { return nil }
            return Case(name: f[0], checkpoint: f[1], network: f[2], image: f[3], expected: f[4])
        }
    }
}

/// A minimal .npy reader for the fixtures: little-endian float32 ('<f4') or uint16 ('<u2'), C order.
public struct NPYArray {
    public var shape: [Int]
    public var values: [Float]

    public init(bytes: [UInt8]) throws {
        struct Bad: Error {}
        guard bytes.count > 10, bytes[0] == 0x93, bytes[6] == 1 else { throw Bad() }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        let isFloat = header.contains("'<f4'")
        guard isFloat || header.contains("'<u2'"), header.contains("'fortran_order': False") else { throw Bad() }
        let shapeText = header.split(separator: "(", maxSplits: 1)[1].prefix { $0 != ")" }
        shape = shapeText.split(separator: ",").compactMap { Int($0.trimmingCharacters()) }
        let count = shape.reduce(1, *)
        let start = 10 + headerLength
        let size = isFloat ? 4 : 2
        guard bytes.count == start + count * size else { throw Bad() }
        values = (0..<count).map { i in
            let o = start + i * size
            if isFloat {
                return Float(bitPattern: UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24)
            }
            return Float(UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8)
        }
    }
}

extension Substring {
    func trimmingCharacters() -> String { String(self.filter { $0 != " " }) }
}

/// A small deterministic generator (SplitMix64) so that random tests repeat exactly.
public struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    public mutating func symmetric() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}

import DCDImage
import DCDRuntime

extension Fixtures {
    /// PNG fixtures as pixel-unit tensors.
    public static func pixelImages(_ names: [String]) throws -> [FloatTensor] {
        try names.map { try PNGCodec.decode(try bytes($0)).pixelTensor() }
    }
}
