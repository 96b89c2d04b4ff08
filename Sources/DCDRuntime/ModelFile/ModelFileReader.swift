/// Reads a compiled model file from bytes the host owns, validating every field.
///
/// The reader never traps on short or hostile input: every offset and count is checked against
/// the buffer before it is used, and every failure is a `RuntimeError(.invalidModelFile, ...)`
/// saying which field is wrong.
public enum ModelFileReader {
    public static func read(_ bytes: UnsafeRawBufferPointer) throws(RuntimeError) -> ModelProgram {
        typealias L = ModelFileLayout
        func fail(_ message: String) -> RuntimeError { RuntimeError(.invalidModelFile, message) }
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }
        func u64(_ at: Int) -> UInt64 { UInt64(u32(at)) | UInt64(u32(at + 4)) << 32 }
        func i32(_ at: Int) -> Int { Int(Int32(bitPattern: u32(at))) }

        guard bytes.count >= L.headerSize + L.checksumSize else {
            throw fail("file is \(bytes.count) bytes, shorter than a model file header; truncated or not a model")
        }
        for i in 0..<L.magic.count where bytes[i] != L.magic[i] {
            throw fail("not a dcd model file (bad magic)")
        }
        let version = u32(L.versionOffset)
        guard version >= L.oldestReadableVersion && version <= L.formatVersion else {
            throw fail("model file format version \(version); this runtime reads versions \(L.oldestReadableVersion) to \(L.formatVersion): recompile the checkpoint with this dcd-compile")
        }
        guard u32(L.headerSizeOffset) == UInt32(L.headerSize) else { throw fail("header size field is \(u32(L.headerSizeOffset)), expected \(L.headerSize)") }
        let declaredSize = u64(L.fileSizeOffset)
        guard declaredSize == UInt64(bytes.count) else {
            throw fail("file is \(bytes.count) bytes but its header says \(declaredSize): truncated or extended")
        }
        let stored = u32(bytes.count - L.checksumSize)
        let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - L.checksumSize)]))
        guard stored == computed else {
            throw fail("checksum mismatch (stored \(hex(stored)), computed \(hex(computed))): the file is corrupted")
        }
        for i in L.reservedRange where bytes[i] != 0 { throw fail("reserved header byte \(i) is not zero") }
        let encoding = PixelEncoding(rawValue: u32(L.encodingOffset))
        guard encoding.rawValue & ~(PixelEncoding.inputPixels.rawValue | PixelEncoding.outputPixels.rawValue) == 0 else {
            throw fail("unknown pixel encoding flags \(hex(encoding.rawValue))")
        }
        guard let precision = Precision(rawValue: u32(L.precisionOffset)), version >= 2 || precision == .float32 else {
            throw fail("precision \(u32(L.precisionOffset)) is not one a version \(version) file can hold (0 = float32, 1 = int8 from version 2)")
        }
        let sizeMultiple = Int(u32(L.sizeMultipleOffset))
        guard sizeMultiple >= 1 && sizeMultiple <= 64 else { throw fail("size multiple \(sizeMultiple) out of range 1...64") }
        let outputColor = u32(L.outputColorOffset)
        guard outputColor <= 2 && (version >= 3 || outputColor == 0) && (version >= 4 || outputColor <= 1) else {
            throw fail("output colour field \(outputColor) is not one a version \(version) file can hold (0 = the generator's, 1 = anchored to the input from version 3, 2 = anchored by a colour matrix from version 4)")
        }
        let flags = u32(L.flagsOffset)
        guard flags & ~(L.flagNoAntialias | L.flagNoAntialiasUp) == 0 else { throw fail("unknown architecture flags \(hex(flags))") }
        let architecture = GeneratorArchitecture(ngf: Int(u32(L.ngfOffset)), blockCount: Int(u32(L.blockCountOffset)),
                                                 noAntialias: flags & L.flagNoAntialias != 0,
                                                 noAntialiasUp: flags & L.flagNoAntialiasUp != 0)

        let opCount = Int(u32(L.opCountOffset)), tensorCount = Int(u32(L.tensorCountOffset))
        let opTable = u64(L.opTableOffsetOffset), tensorTable = u64(L.tensorTableOffsetOffset)
        let dataStart = u64(L.dataOffsetOffset)
        // Counts are bounded by the file size before any multiplication can overflow.
        guard opCount <= bytes.count / L.opRecordSize, tensorCount <= bytes.count / L.tensorRecordSize else {
            throw fail("op count \(opCount) or tensor count \(tensorCount) does not fit in the file")
        }
        let expectedTensorTable = L.headerSize + opCount * L.opRecordSize
        let expectedData = L.alignUp(expectedTensorTable + tensorCount * L.tensorRecordSize)
        guard opTable == UInt64(L.headerSize), tensorTable == UInt64(expectedTensorTable), dataStart == UInt64(expectedData),
              expectedData <= bytes.count - L.checksumSize else {
            throw fail("section offsets (ops \(opTable), tensors \(tensorTable), data \(dataStart)) are inconsistent with the counts")
        }
        for i in expectedTensorTable + tensorCount * L.tensorRecordSize..<expectedData where bytes[i] != 0 {
            throw fail("padding byte \(i) before the data section is not zero")
        }

        var tensors: [ModelTensor] = []
        var previousEnd = expectedData
        let dataEnd = bytes.count - L.checksumSize
        for t in 0..<tensorCount {
            let r = expectedTensorTable + t * L.tensorRecordSize
            var nameBytes: [UInt8] = []
            var ended = false
            for i in 0..<L.tensorNameCapacity {
                let b = bytes[r + i]
                if b == 0 { ended = true } else if ended { throw fail("tensor \(t): name has bytes after its terminator") } else { nameBytes.append(b) }
            }
            guard ended, !nameBytes.isEmpty else { throw fail("tensor \(t): name is empty or not terminated") }
            let name = String(decoding: nameBytes, as: UTF8.self)
            guard let type = TensorType(rawValue: u32(r + 64)), version >= 2 || type == .float32 else {
                throw fail("tensor '\(name)': dtype \(u32(r + 64)) is not one a version \(version) file can hold")
            }
            let rank = Int(u32(r + 68))
            guard rank >= 1 && rank <= 4 else { throw fail("tensor '\(name)': rank \(rank) is not 1...4") }
            var dims: [Int] = []
            var count = 1
            for d in 0..<4 {
                let n = Int(u32(r + 72 + 4 * d))
                if d < rank {
                    guard n >= 1 && n <= dataEnd else { throw fail("tensor '\(name)': dimension \(d) is \(n)") }
                    count *= n
                    guard count <= dataEnd else { throw fail("tensor '\(name)': shape does not fit in the file") }
                    dims.append(n)
                } else if n != 0 {
                    throw fail("tensor '\(name)': unused dimension \(d) is not zero")
                }
            }
            let offset = u64(r + 88)
            guard offset <= UInt64(dataEnd), Int(offset) >= previousEnd, Int(offset) % L.dataAlignment == 0,
                  Int(offset) + count * type.byteSize <= dataEnd else {
                throw fail("tensor '\(name)': data offset \(offset) (\(count * type.byteSize) bytes) is misaligned, overlapping or past the data section")
            }
            let o = Int(offset)
            switch type {
            case .float32:
                var values = [Float](repeating: 0, count: count)
                for i in 0..<count { values[i] = Float(bitPattern: u32(o + 4 * i)) }
                tensors.append(ModelTensor(name: name, dims: dims, values: values))
            case .int32, .int8, .uint8:
                var values = [Int32](repeating: 0, count: count)
                for i in 0..<count {
                    switch type {
                    case .int32: values[i] = Int32(bitPattern: u32(o + 4 * i))
                    case .int8: values[i] = Int32(Int8(bitPattern: bytes[o + i]))
                    default: values[i] = Int32(bytes[o + i])
                    }
                }
                tensors.append(ModelTensor(name: name, dims: dims, type: type, integers: values))
            }
            previousEnd = o + count * type.byteSize
        }

        var ops: [ModelOp] = []
        for i in 0..<opCount {
            let r = L.headerSize + i * L.opRecordSize
            guard let kind = OpKind(rawValue: u32(r)) else { throw fail("op \(i): unknown kind \(u32(r))") }
            guard let mode = PaddingMode(rawValue: u32(r + 32)) else { throw fail("op \(i): unknown padding mode \(u32(r + 32))") }
            var op = ModelOp(kind: kind, input: i32(r + 4))
            op.secondInput = i32(r + 8)
            op.weight = i32(r + 12)
            op.bias = i32(r + 16)
            op.stride = i32(r + 20)
            op.padding = i32(r + 24)
            op.outputPadding = i32(r + 28)
            op.padMode = mode
            op.top = i32(r + 36); op.bottom = i32(r + 40); op.left = i32(r + 44); op.right = i32(r + 48)
            op.epsilon = Float(bitPattern: u32(r + 52))
            op.epilogue = Epilogue(rawValue: u32(r + 56))
            guard op.epilogue.isSubset(of: .all) else { throw fail("op \(i): unknown epilogue flags \(hex(op.epilogue.rawValue))") }
            if version >= 2 {
                op.parameters = i32(r + 60)
                guard op.parameters >= -1 && op.parameters < tensorCount else { throw fail("op \(i): parameter tensor \(op.parameters) does not exist") }
            } else {
                guard u32(r + 60) == 0 else { throw fail("op \(i): reserved field is not zero") }
            }
            guard op == canonical(op) else { throw fail("op \(i) (\(kind)): sets fields that a \(kind) op does not use") }
            ops.append(op)
        }
        var program = ModelProgram(architecture: architecture, sizeMultiple: sizeMultiple, ops: ops, tensors: tensors, encoding: encoding, precision: precision)
        program.colorAnchor = ColorAnchor.Fit.fromCode(outputColor)
        do throws(RuntimeError) {
            try program.validate()
        } catch {
            throw fail("inconsistent program: \(error.message)")
        }
        return program
    }

    /// The op with every field its kind does not use reset, so that a reader can insist on it.
    public static func canonical(_ op: ModelOp) -> ModelOp {
        var c = ModelOp(kind: op.kind, input: op.input)
        c.parameters = op.parameters
        switch op.kind {
        case .pad:
            c.padMode = op.padMode
            c.top = op.top; c.bottom = op.bottom; c.left = op.left; c.right = op.right
        case .crop:
            c.top = op.top; c.bottom = op.bottom; c.left = op.left; c.right = op.right
        case .conv2d, .convTranspose2d:
            c.weight = op.weight; c.bias = op.bias; c.stride = op.stride; c.padding = op.padding
            c.epilogue = op.epilogue
            if op.kind == .conv2d { c.padMode = op.padMode } else { c.outputPadding = op.outputPadding }
            if op.epilogue.contains(.instanceNorm) { c.epsilon = op.epsilon }
            if op.epilogue.contains(.residual) { c.secondInput = op.secondInput }
        case .depthwiseConv2d:
            c.weight = op.weight; c.stride = op.stride; c.padding = op.padding; c.padMode = op.padMode
        case .depthwiseConvTranspose2d:
            c.weight = op.weight; c.stride = op.stride; c.padding = op.padding
        case .instanceNorm:
            c.epsilon = op.epsilon
        case .add:
            c.secondInput = op.secondInput
        case .relu, .tanh:
            break
        }
        return c
    }

    static func hex(_ v: UInt32) -> String {
        let digits: [Character] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "a", "b", "c", "d", "e", "f"]
        var s = "0x"
        for shift in stride(from: 28, through: 0, by: -4) { s.append(digits[Int((v >> UInt32(shift)) & 0xF)]) }
        return s
    }
}
