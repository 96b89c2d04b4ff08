/// A restricted unpickler: it understands exactly what a PyTorch state_dict pickle contains and
/// refuses everything else, as torch.load(weights_only=True) does.
///
/// Security: no global outside `allowedGlobals` can even be named (the GLOBAL / STACK_GLOBAL
/// opcodes throw), so REDUCE can only call our own Swift implementations of OrderedDict and the
/// tensor rebuild functions. Every length is checked against the input, the stack and memo are
/// bounded by the input size, and nothing recurses over the input's structure, so a hostile
/// pickle is an error, never code execution or a crash.

/// A mutable Python list (pickles can append to a list after it is memoized).
final class PickleList {
    var items: [PickleValue] = []
}

/// A mutable Python dict, keeping insertion order (OrderedDict and, since 3.7, dict).
final class PickleDict {
    var entries: [(key: PickleValue, value: PickleValue)] = []

    func value(forKey key: String) -> PickleValue? {
        for e in entries { if case .string(key) = e.key { return e.value } }
        return nil
    }
}

/// A storage a tensor points into, named by its persistent id.
struct StorageReference {
    var dtype: TensorDType
    /// The key of the storage: zip entry `data/<key>`, or the legacy format's root key.
    var key: String
    /// Element count, where the persistent id says it.
    var elementCount: Int?
}

/// A tensor before its storage is read: `_rebuild_tensor_v2(storage, offset, size, stride, ...)`.
struct TensorReference {
    var storage: StorageReference
    var offset: Int
    var size: [Int]
    var stride: [Int]
}

indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer too large for Int (LONG1/LONG4), little-endian two's complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// One of the allowed globals (a callable or a storage class).
    case global(module: String, name: String)
    case storage(StorageReference)
    case tensor(TensorReference)

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .global(let m, let n): return "\(m).\(n)"
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

struct Unpickler {
    /// The only globals a pickle may name. Storage classes appear in persistent ids.
    static let allowedGlobals: Set<String> = [
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_parameter",
        "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage", "torch.DoubleStorage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
        "torch.ByteStorage", "torch.BoolStorage",
    ]

    private var cursor: ByteCursor
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    /// Parses one pickle starting at `offset` of `bytes`; `end` is where the STOP opcode left off.
    static func load(_ bytes: [UInt8], at offset: Int = 0, context: String) throws -> (value: PickleValue, end: Int) {
        var u = Unpickler(cursor: ByteCursor(bytes, at: offset, context: context))
        let v = try u.run()
        return (v, u.cursor.position)
    }

    private init(cursor: ByteCursor) { self.cursor = cursor }

    private func fail(_ message: String) -> CheckpointError {
        CheckpointError("\(cursor.context): \(message) (at byte \(cursor.position))")
    }

    private mutating func pop() throws -> PickleValue {
        guard let v = stack.popLast() else { throw fail("stack underflow: malformed pickle") }
        if let m = marks.last, stack.count < m { throw fail("stack underflow below a mark: malformed pickle") }
        return v
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let m = marks.popLast() else { throw fail("no mark on the stack: malformed pickle") }
        let items = Array(stack[m...])
        stack.removeSubrange(m...)
        return items
    }

    private mutating func top() throws -> PickleValue {
        guard let v = stack.last else { throw fail("stack underflow: malformed pickle") }
        return v
    }

    private mutating func memoize(_ index: Int) throws {
        memo[index] = try top()
    }

    private mutating func string(_ n: Int) throws -> String {
        guard n >= 0 else { throw fail("negative string length") }
        let s = try cursor.take(n)
        guard let text = String(validating: s, as: UTF8.self) else { throw fail("string is not valid UTF-8") }
        return text
    }

    private mutating func line() throws -> String {
        var out: [UInt8] = []
        while true {
            let b = try cursor.u8()
            if b == 0x0A { break }
            out.append(b)
            if out.count > 256 { throw fail("GLOBAL name longer than 256 bytes") }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func global(_ module: String, _ name: String) throws -> PickleValue {
        let full = "\(module).\(name)"
        guard Self.allowedGlobals.contains(full) else {
            throw fail("refusing global '\(full)': a state_dict never needs it (a hostile or non-weights pickle; PyTorch's weights_only=True refuses it too)")
        }
        return .global(module: module, name: name)
    }

    private mutating func run() throws -> PickleValue {
        while true {
            let op = try cursor.u8()
            switch op {
            case 0x80: _ = try cursor.u8()                                   // PROTO
            case 0x95: _ = try cursor.u64()                                  // FRAME
            case 0x2E:                                                       // STOP
                let v = try pop()
                return v
            case 0x28: marks.append(stack.count)                             // MARK
            case 0x7D: stack.append(.dict(PickleDict()))                     // EMPTY_DICT
            case 0x5D: stack.append(.list(PickleList()))                     // EMPTY_LIST
            case 0x29: stack.append(.tuple([]))                              // EMPTY_TUPLE
            case 0x74: stack.append(.tuple(try popMark()))                   // TUPLE
            case 0x85: let a = try pop(); stack.append(.tuple([a]))          // TUPLE1
            case 0x86: let b = try pop(), a = try pop(); stack.append(.tuple([a, b]))
            case 0x87: let c = try pop(), b = try pop(), a = try pop(); stack.append(.tuple([a, b, c]))
            case 0x6C:                                                       // LIST
                let l = PickleList(); l.items = try popMark(); stack.append(.list(l))
            case 0x64:                                                       // DICT
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("DICT with an odd number of items") }
                let d = PickleDict()
                for i in stride(from: 0, to: items.count, by: 2) { d.entries.append((items[i], items[i + 1])) }
                stack.append(.dict(d))
            case 0x61:                                                       // APPEND
                let v = try pop()
                guard case .list(let l) = try top() else { throw fail("APPEND to a \(try top().typeName)") }
                l.items.append(v)
            case 0x65:                                                       // APPENDS
                let items = try popMark()
                guard case .list(let l) = try top() else { throw fail("APPENDS to a \(try top().typeName)") }
                l.items.append(contentsOf: items)
            case 0x73:                                                       // SETITEM
                let v = try pop(), k = try pop()
                guard case .dict(let d) = try top() else { throw fail("SETITEM on a \(try top().typeName)") }
                d.entries.append((k, v))
            case 0x75:                                                       // SETITEMS
                let items = try popMark()
                guard items.count % 2 == 0 else { throw fail("SETITEMS with an odd number of items") }
                guard case .dict(let d) = try top() else { throw fail("SETITEMS on a \(try top().typeName)") }
                for i in stride(from: 0, to: items.count, by: 2) { d.entries.append((items[i], items[i + 1])) }
            case 0x71: try memoize(Int(try cursor.u8()))                     // BINPUT
            case 0x72: try memoize(Int(try cursor.u32()))                    // LONG_BINPUT
            case 0x94: try memoize(memo.count)                               // MEMOIZE
            case 0x68, 0x6A:                                                 // BINGET, LONG_BINGET
                let i = op == 0x68 ? Int(try cursor.u8()) : Int(try cursor.u32())
                guard let v = memo[i] else { throw fail("memo entry \(i) does not exist") }
                stack.append(v)
            case 0x58: stack.append(.string(try string(Int(try cursor.u32()))))        // BINUNICODE
            case 0x8C: stack.append(.string(try string(Int(try cursor.u8()))))         // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try string(Int(clamping: try cursor.u64())))) // BINUNICODE8
            case 0x55: stack.append(.string(try string(Int(try cursor.u8()))))         // SHORT_BINSTRING
            case 0x54:                                                                 // BINSTRING
                stack.append(.string(try string(Int(Int32(bitPattern: try cursor.u32())))))
            case 0x43: stack.append(.bytes(Array(try cursor.take(Int(try cursor.u8())))))  // SHORT_BINBYTES
            case 0x42: stack.append(.bytes(Array(try cursor.take(Int(try cursor.u32())))))  // BINBYTES
            case 0x4B: stack.append(.int(Int(try cursor.u8())))                        // BININT1
            case 0x4D: stack.append(.int(Int(try cursor.u16())))                       // BININT2
            case 0x4A: stack.append(.int(Int(Int32(bitPattern: try cursor.u32()))))    // BININT
            case 0x8A, 0x8B:                                                           // LONG1, LONG4
                let n = op == 0x8A ? Int(try cursor.u8()) : Int(Int32(bitPattern: try cursor.u32()))
                guard n >= 0 else { throw fail("negative LONG4 length") }
                let b = Array(try cursor.take(n))
                if n <= 8 {
                    var v: UInt64 = 0
                    for (i, x) in b.enumerated() { v |= UInt64(x) << (8 * UInt64(i)) }
                    // Sign-extend from n bytes.
                    if n > 0 && n < 8 && b[n - 1] & 0x80 != 0 { v |= ~0 << (8 * UInt64(n)) }
                    stack.append(.int(Int(Int64(bitPattern: v))))
                } else {
                    stack.append(.bigInt(b))
                }
            case 0x47:                                                                 // BINFLOAT (big-endian)
                var v: UInt64 = 0
                for b in try cursor.take(8) { v = v << 8 | UInt64(b) }
                stack.append(.float(Double(bitPattern: v)))
            case 0x4E: stack.append(.none)                                             // NONE
            case 0x88: stack.append(.bool(true))                                       // NEWTRUE
            case 0x89: stack.append(.bool(false))                                      // NEWFALSE
            case 0x63:                                                                 // GLOBAL
                let module = try line(), name = try line()
                stack.append(try global(module, name))
            case 0x93:                                                                 // STACK_GLOBAL
                let n = try pop(), m = try pop()
                guard case .string(let name) = n, case .string(let module) = m else { throw fail("STACK_GLOBAL with non-string names") }
                stack.append(try global(module, name))
            case 0x51:                                                                 // BINPERSID
                stack.append(try persistentLoad(try pop()))
            case 0x52:                                                                 // REDUCE
                let args = try pop(), callable = try pop()
                stack.append(try reduce(callable, args))
            case 0x62:                                                                 // BUILD
                let state = try pop()
                // The only BUILDs a state_dict has: OrderedDict's `_metadata` attribute and tensor
                // metadata. Neither affects the weights; anything else is refused.
                switch (try top(), state) {
                case (.dict, .dict), (.dict, .none), (.tensor, _): break
                default: throw fail("BUILD on a \(try top().typeName) with a \(state.typeName) state is not part of a state_dict")
                }
            case 0x30: _ = try pop()                                                   // POP
            case 0x31: _ = try popMark()                                               // POP_MARK
            case 0x32: stack.append(try top())                                         // DUP
            default:
                cursor.position -= 1
                throw fail("unsupported pickle opcode 0x\(String(op, radix: 16)) (not part of a PyTorch state_dict)")
            }
        }
    }

    /// Persistent ids name storages: ('storage', storage_class, key, location, numel[, view_metadata]).
    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        guard case .tuple(let t) = pid, t.count >= 5, case .string("storage") = t[0] else {
            throw fail("persistent id is not a ('storage', ...) tuple")
        }
        guard case .global("torch", let cls) = t[1], let dtype = TensorDType(storageClass: cls) else {
            throw fail("persistent id names an unknown storage type \(t[1].typeName)")
        }
        guard case .string(let key) = t[2] else { throw fail("storage key is not a string") }
        var count: Int? = nil
        if case .int(let n) = t[4] {
            guard n >= 0 else { throw fail("storage '\(key)' has a negative size") }
            count = n
        }
        if t.count > 5, case .none = t[5] {} else if t.count > 5 {
            throw fail("storage views (legacy view_metadata) are not supported")
        }
        return .storage(StorageReference(dtype: dtype, key: key, elementCount: count))
    }

    private func ints(_ v: PickleValue, _ what: String) throws -> [Int] {
        guard case .tuple(let items) = v else { throw fail("\(what) is a \(v.typeName), not a tuple") }
        return try items.map {
            guard case .int(let n) = $0, n >= 0 else { throw fail("\(what) holds a \($0.typeName) or a negative value") }
            return n
        }
    }

    private func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
        guard case .global(let module, let name) = callable else { throw fail("REDUCE on a \(callable.typeName), which is not callable") }
        guard case .tuple(let a) = args else { throw fail("REDUCE with \(args.typeName) arguments") }
        switch "\(module).\(name)" {
        case "collections.OrderedDict":
            let d = PickleDict()
            if a.count == 1, case .list(let pairs) = a[0] {
                for p in pairs.items {
                    guard case .tuple(let kv) = p, kv.count == 2 else { throw fail("OrderedDict item is not a pair") }
                    d.entries.append((kv[0], kv[1]))
                }
            } else if !a.isEmpty {
                throw fail("OrderedDict called with unexpected arguments")
            }
            return .dict(d)
        case "torch._utils._rebuild_tensor_v2":
            guard a.count >= 4, case .storage(let storage) = a[0], case .int(let offset) = a[1], offset >= 0 else {
                throw fail("_rebuild_tensor_v2 called with unexpected arguments")
            }
            let size = try ints(a[2], "tensor size"), stride = try ints(a[3], "tensor stride")
            guard size.count == stride.count, size.count <= 8 else { throw fail("tensor size and stride disagree") }
            return .tensor(TensorReference(storage: storage, offset: offset, size: size, stride: stride))
        case "torch._utils._rebuild_parameter":
            guard a.count >= 1, case .tensor = a[0] else { throw fail("_rebuild_parameter called without a tensor") }
            return a[0]
        default:
            throw fail("\(module).\(name) cannot be called")
        }
    }
}
