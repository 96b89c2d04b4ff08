import DCDRuntime

/// Serialises a program into the compiled model file format (see DCDRuntime/ModelFile/FORMAT.md).
/// The output is deterministic: the same program gives the same bytes.
public enum ModelFileWriter {
    public enum WriteError: Error, CustomStringConvertible {
        case nameTooLong(String)
        public var description: String {
            switch self {
            case .nameTooLong(let n): return "tensor name '\(n)' is longer than \(ModelFileLayout.tensorNameCapacity - 1) bytes"
            }
        }
    }

    public static func write(_ program: ModelProgram) throws -> [UInt8] {
        typealias L = ModelFileLayout
        let tensorTable = L.headerSize + program.ops.count * L.opRecordSize
        let dataStart = L.alignUp(tensorTable + program.tensors.count * L.tensorRecordSize)
        var offsets: [Int] = []
        var end = dataStart
        for t in program.tensors {
            offsets.append(end)
            end = L.alignUp(end + t.elementCount * t.type.byteSize)
        }
        // The checksum follows the last tensor directly (no alignment padding after it).
        let lastEnd = program.tensors.isEmpty ? dataStart
            : offsets[offsets.count - 1] + program.tensors[program.tensors.count - 1].elementCount * program.tensors[program.tensors.count - 1].type.byteSize
        // Float programs stay readable by version-1 readers, int8 ones by version-2 readers, unless
        // they ask for anchored colours (version 3; by a colour matrix, version 4).
        let version: UInt32 = program.colorAnchor == .matrix ? 4 : program.colorAnchor != nil ? 3
            : program.precision == .float32 && program.tensors.allSatisfy({ $0.type == .float32 })
                && program.ops.allSatisfy({ $0.parameters == -1 }) ? 1 : 2
        let fileSize = lastEnd + L.checksumSize
        var bytes = [UInt8](repeating: 0, count: fileSize)

        func put32(_ v: UInt32, _ at: Int) {
            bytes[at] = UInt8(v & 0xFF); bytes[at + 1] = UInt8((v >> 8) & 0xFF)
            bytes[at + 2] = UInt8((v >> 16) & 0xFF); bytes[at + 3] = UInt8(v >> 24)
        }
        func putInt(_ v: Int, _ at: Int) { put32(UInt32(bitPattern: Int32(truncatingIfNeeded: v)), at) }
        func put64(_ v: Int, _ at: Int) { put32(UInt32(v & 0xFFFF_FFFF), at); put32(UInt32(UInt64(v) >> 32), at + 4) }

        for (i, b) in L.magic.enumerated() { bytes[i] = b }
        put32(version, 8)
        put32(UInt32(L.headerSize), 12)
        put64(fileSize, 16)
        put32(program.precision.rawValue, 24)
        putInt(program.sizeMultiple, 28)
        putInt(program.architecture.ngf, 32)
        putInt(program.architecture.blockCount, 36)
        var flags: UInt32 = 0
        if program.architecture.noAntialias { flags |= L.flagNoAntialias }
        if program.architecture.noAntialiasUp { flags |= L.flagNoAntialiasUp }
        put32(flags, 40)
        putInt(program.ops.count, 44)
        putInt(program.tensors.count, 48)
        put32(program.encoding.rawValue, 52)
        put64(L.headerSize, 56)
        put64(tensorTable, 64)
        put64(dataStart, 72)
        put32(ColorAnchor.Fit.code(of: program.colorAnchor), L.outputColorOffset)

        for (i, op) in program.ops.enumerated() {
            let r = L.headerSize + i * L.opRecordSize
            put32(op.kind.rawValue, r)
            putInt(op.input, r + 4); putInt(op.secondInput, r + 8)
            putInt(op.weight, r + 12); putInt(op.bias, r + 16)
            putInt(op.stride, r + 20); putInt(op.padding, r + 24); putInt(op.outputPadding, r + 28)
            put32(op.padMode.rawValue, r + 32)
            putInt(op.top, r + 36); putInt(op.bottom, r + 40); putInt(op.left, r + 44); putInt(op.right, r + 48)
            put32(op.epsilon.bitPattern, r + 52)
            put32(op.epilogue.rawValue, r + 56)
            if version >= 2 { putInt(op.parameters, r + 60) }
        }
        for (t, tensor) in program.tensors.enumerated() {
            let r = tensorTable + t * L.tensorRecordSize
            let name = Array(tensor.name.utf8)
            guard name.count < L.tensorNameCapacity else { throw WriteError.nameTooLong(tensor.name) }
            for (i, b) in name.enumerated() { bytes[r + i] = b }
            put32(tensor.type.rawValue, r + 64)
            putInt(tensor.dims.count, r + 68)
            for (d, n) in tensor.dims.enumerated() { putInt(n, r + 72 + 4 * d) }
            put64(offsets[t], r + 88)
            switch tensor.type {
            case .float32: for (i, v) in tensor.values.enumerated() { put32(v.bitPattern, offsets[t] + 4 * i) }
            case .int32: for (i, v) in tensor.integers.enumerated() { put32(UInt32(bitPattern: v), offsets[t] + 4 * i) }
            case .int8, .uint8: for (i, v) in tensor.integers.enumerated() { bytes[offsets[t] + i] = UInt8(truncatingIfNeeded: v) }
            }
        }
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(fileSize - 4)])) }
        put32(crc, fileSize - 4)
        return bytes
    }
}
