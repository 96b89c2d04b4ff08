/// PyTorch checkpoints: the zip container of torch.save (since PyTorch 1.6) and the legacy
/// stream format (`_use_new_zipfile_serialization=False`). Both hold one restricted pickle whose
/// tensors point at storages by persistent id; this file finds the storages and materialises the
/// tensors in row-major order.
enum TorchCheckpoint {
    /// Reads a zip checkpoint: `<archive>/data.pkl` plus `<archive>/data/<key>` storages.
    static func readZip(_ bytes: [UInt8]) throws -> [(String, CheckpointTensor)] {
        let zip = try ZipArchive(bytes)
        guard let pickleEntry = zip.entries.first(where: { $0.name == "data.pkl" || $0.name.hasSuffix("/data.pkl") }) else {
            throw CheckpointError("zip file has no data.pkl: not a PyTorch checkpoint")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let order = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.extract(order), as: UTF8.self)
            guard text == "little" else { throw CheckpointError("checkpoint byte order is '\(text)'; only little-endian is supported") }
        }
        let (root, _) = try Unpickler.load(try zip.extract(pickleEntry), context: "pickle \(pickleEntry.name)")
        var cache: [String: [UInt8]] = [:]
        return try flatten(root) { storage in
            if let b = cache[storage.key] { return b }
            guard let e = zip.entry(named: prefix + "data/" + storage.key) else {
                throw CheckpointError("storage '\(storage.key)' is missing from the archive (no \(prefix)data/\(storage.key))")
            }
            let b = try zip.extract(e)
            cache[storage.key] = b
            return b
        }
    }

    /// 0x1950a86a20f9469cfc6c, the legacy format's magic number, as little-endian LONG1 bytes.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    static func looksLikeLegacy(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x80 && bytes[1] >= 2
    }

    /// Reads the legacy stream: magic pickle, protocol pickle, sys_info pickle, the object pickle,
    /// the list of storage keys, then each storage as an int64 element count and raw data.
    static func readLegacy(_ bytes: [UInt8]) throws -> [(String, CheckpointTensor)] {
        let (magic, afterMagic) = try Unpickler.load(bytes, context: "legacy checkpoint header")
        guard case .bigInt(let m) = magic, m == legacyMagic else {
            throw CheckpointError("not a PyTorch checkpoint: a pickle without torch.save's magic number")
        }
        let (protocolVersion, afterProtocol) = try Unpickler.load(bytes, at: afterMagic, context: "legacy checkpoint header")
        guard case .int(1001) = protocolVersion else { throw CheckpointError("legacy checkpoint protocol \(protocolVersion.typeName) is not 1001") }
        let (_, afterInfo) = try Unpickler.load(bytes, at: afterProtocol, context: "legacy checkpoint sys_info")
        let (root, afterRoot) = try Unpickler.load(bytes, at: afterInfo, context: "legacy checkpoint pickle")
        let (keysValue, afterKeys) = try Unpickler.load(bytes, at: afterRoot, context: "legacy checkpoint storage list")
        guard case .list(let keyList) = keysValue else { throw CheckpointError("legacy checkpoint storage list is a \(keysValue.typeName)") }

        // Storage element types come from the persistent ids seen in the object pickle.
        var dtypes: [String: TensorDType] = [:]
        collectStorages(root, into: &dtypes)
        var storages: [String: [UInt8]] = [:]
        var cursor = ByteCursor(bytes, at: afterKeys, context: "legacy checkpoint storage data")
        for item in keyList.items {
            guard case .string(let key) = item, let dtype = dtypes[key] else {
                throw CheckpointError("legacy checkpoint lists a storage that no tensor uses")
            }
            let count = try cursor.u64()
            guard count <= UInt64(cursor.remaining / dtype.byteSize) else {
                throw CheckpointError("legacy checkpoint storage '\(key)' claims \(count) elements but the file ends first: truncated")
            }
            storages[key] = Array(try cursor.take(Int(count) * dtype.byteSize))
        }
        return try flatten(root) { storage in
            guard let b = storages[storage.key] else { throw CheckpointError("storage '\(storage.key)' is missing from the legacy checkpoint") }
            return b
        }
    }

    private static func collectStorages(_ v: PickleValue, into dtypes: inout [String: TensorDType], depth: Int = 0) {
        guard depth < 32 else { return }
        switch v {
        case .tensor(let t): dtypes[t.storage.key] = t.storage.dtype
        case .dict(let d): for e in d.entries { collectStorages(e.value, into: &dtypes, depth: depth + 1) }
        case .list(let l): for i in l.items { collectStorages(i, into: &dtypes, depth: depth + 1) }
        case .tuple(let t): for i in t { collectStorages(i, into: &dtypes, depth: depth + 1) }
        default: break
        }
    }

    /// Every tensor reachable through nested dicts, keyed by the dotted path of dict keys
    /// ("state_dict.netG_A.model.1.weight"). Lists, tuples and scalars (epochs, options) are
    /// skipped. Depth is bounded, so self-referencing dicts cannot loop.
    static func flatten(_ root: PickleValue, storage: (StorageReference) throws -> [UInt8]) throws -> [(String, CheckpointTensor)] {
        var out: [(String, CheckpointTensor)] = []
        func walk(_ v: PickleValue, _ path: String, _ depth: Int) throws {
            switch v {
            case .tensor(let t):
                out.append((path, try materialize(t, bytes: try storage(t.storage), name: path)))
            case .dict(let d):
                guard depth < 16 else { return }
                for e in d.entries {
                    let key: String
                    switch e.key {
                    case .string(let s): key = s
                    case .int(let n): key = String(n)
                    default: continue
                    }
                    try walk(e.value, path.isEmpty ? key : path + "." + key, depth + 1)
                }
            default:
                break
            }
        }
        try walk(root, "", 0)
        return out
    }

    /// Reads a strided view of a storage into contiguous row-major Float values.
    static func materialize(_ t: TensorReference, bytes: [UInt8], name: String) throws -> CheckpointTensor {
        let dtype = t.storage.dtype
        let available = bytes.count / dtype.byteSize
        if let declared = t.storage.elementCount, declared > available {
            throw CheckpointError("tensor '\(name)': its storage should hold \(declared) elements but has \(available): truncated")
        }
        var count = 1
        for s in t.size {
            let (p, overflow) = count.multipliedReportingOverflow(by: s)
            guard !overflow, p <= available else { throw CheckpointError("tensor '\(name)' of shape \(t.size) does not fit its storage of \(available) elements") }
            count = p
        }
        if count > 0 {
            var last = t.offset
            for (s, st) in zip(t.size, t.stride) {
                let (p, o1) = (s - 1).multipliedReportingOverflow(by: st)
                let (q, o2) = last.addingReportingOverflow(p)
                guard !o1, !o2 else { throw CheckpointError("tensor '\(name)' has impossible strides") }
                last = q
            }
            guard last < available else {
                throw CheckpointError("tensor '\(name)' (offset \(t.offset), shape \(t.size), strides \(t.stride)) reads past its storage of \(available) elements")
            }
        }
        var values = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            var index = [Int](repeating: 0, count: t.size.count)
            for i in 0..<count {
                var element = t.offset
                for d in 0..<index.count { element += index[d] * t.stride[d] }
                values[i] = dtype.decode(raw, element: element)
                var d = index.count - 1
                while d >= 0 {
                    index[d] += 1
                    if index[d] < t.size[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return CheckpointTensor(dtype: dtype, shape: t.size, values: values)
    }
}
