/// Element types a checkpoint tensor can have, with their decoding to Float.
public enum TensorDType: String, CaseIterable, Sendable {
    case float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float16, .bfloat16, .float64: return true
        default: return false
        }
    }

    /// PyTorch's legacy storage class names (torch.FloatStorage, ...), as pickles name them.
    init?(storageClass: String) {
        switch storageClass {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// safetensors dtype names.
    init?(safetensors name: String) {
        switch name {
        case "F32": self = .float32
        case "F16": self = .float16
        case "BF16": self = .bfloat16
        case "F64": self = .float64
        case "I64": self = .int64
        case "I32": self = .int32
        case "I16": self = .int16
        case "I8": self = .int8
        case "U8": self = .uint8
        case "BOOL": self = .bool
        default: return nil
        }
    }

    /// Decodes element `index` of little-endian `bytes` starting at `base`. The caller has
    /// checked the range.
    @inline(__always)
    func decode(_ bytes: UnsafeRawBufferPointer, element index: Int) -> Float {
        let at = index * byteSize
        switch self {
        case .float32: return Float(bitPattern: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian)
        case .float64: return Float(Double(bitPattern: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian))
        case .float16: return Self.halfToFloat(bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian)
        case .bfloat16: return Float(bitPattern: UInt32(bytes.loadUnaligned(fromByteOffset: at, as: UInt16.self).littleEndian) << 16)
        case .int64: return Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int64.self)))
        case .int32: return Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int32.self)))
        case .int16: return Float(Int16(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: Int16.self)))
        case .int8: return Float(bytes.load(fromByteOffset: at, as: Int8.self))
        case .uint8, .bool: return Float(bytes[at])
        }
    }

    /// IEEE binary16 to binary32, exact (every half is a float), subnormals and specials included.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        if exponent == 0 {
            // Subnormal (or zero): mantissa * 2^-24.
            let magnitude = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign != 0 ? -magnitude : magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}

/// A tensor read from a checkpoint: its stored type, its shape, and its values as Float in
/// row-major (contiguous) order whatever the strides were in the file.
public struct CheckpointTensor: Sendable {
    public var dtype: TensorDType
    public var shape: [Int]
    public var values: [Float]

    public var elementCount: Int { shape.reduce(1, *) }
}
