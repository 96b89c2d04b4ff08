extension SIMD8 {
    /// Lane i = lane(i), without building an array (the epilogues make their per-channel
    /// constants with it once per band).
    @inline(__always)
    init(lanes lane: (Int) -> Scalar) {
        self.init()
        for i in 0..<8 { self[i] = lane(i) }
    }
}

extension UnsafeMutablePointer {
    /// `count` (at least 1) elements, allocated and set to `value`: the frame plans' buffers.
    static func allocate(initialized count: Int, to value: Pointee) -> UnsafeMutablePointer {
        let p = allocate(capacity: max(1, count))
        p.initialize(repeating: value, count: max(1, count))
        return p
    }
}

/// Lane-wise conversions between the 8-lane vectors of the int8 epilogues, written lane by lane
/// so that they always inline and LLVM emits one instruction (vpmovsxdq, vpmovzxbq, vpmovqd,
/// vpmovqb on AVX-512; the pack/shuffle sequences elsewhere). The generic stdlib
/// `init(truncatingIfNeeded:)` is not always inlined in the larger epilogue loops, and then costs
/// a call per vector.
enum Lanes {
    @inline(__always)
    static func widen(_ v: SIMD8<Int32>) -> SIMD8<Int64> {
        SIMD8(Int64(v[0]), Int64(v[1]), Int64(v[2]), Int64(v[3]), Int64(v[4]), Int64(v[5]), Int64(v[6]), Int64(v[7]))
    }

    @inline(__always)
    static func widen(_ v: SIMD8<UInt8>) -> SIMD8<Int64> {
        SIMD8(Int64(v[0]), Int64(v[1]), Int64(v[2]), Int64(v[3]), Int64(v[4]), Int64(v[5]), Int64(v[6]), Int64(v[7]))
    }

    /// The low 32 bits of each lane.
    @inline(__always)
    static func low32(_ v: SIMD8<Int64>) -> SIMD8<Int32> {
        SIMD8(Int32(truncatingIfNeeded: v[0]), Int32(truncatingIfNeeded: v[1]), Int32(truncatingIfNeeded: v[2]), Int32(truncatingIfNeeded: v[3]),
              Int32(truncatingIfNeeded: v[4]), Int32(truncatingIfNeeded: v[5]), Int32(truncatingIfNeeded: v[6]), Int32(truncatingIfNeeded: v[7]))
    }

    /// The low 8 bits of each lane.
    @inline(__always)
    static func low8(_ v: SIMD8<Int64>) -> SIMD8<UInt8> {
        SIMD8(UInt8(truncatingIfNeeded: v[0]), UInt8(truncatingIfNeeded: v[1]), UInt8(truncatingIfNeeded: v[2]), UInt8(truncatingIfNeeded: v[3]),
              UInt8(truncatingIfNeeded: v[4]), UInt8(truncatingIfNeeded: v[5]), UInt8(truncatingIfNeeded: v[6]), UInt8(truncatingIfNeeded: v[7]))
    }

    /// Lane-wise logical right shift of the bit patterns by per-lane counts in 0...63.
    @inline(__always)
    static func shiftRightLogical(_ v: SIMD8<Int64>, _ by: SIMD8<Int64>) -> SIMD8<Int64> {
        SIMD8<Int64>(truncatingIfNeeded: SIMD8<UInt64>(truncatingIfNeeded: v) &>> SIMD8<UInt64>(truncatingIfNeeded: by))
    }
}

/// Carves buffers one after another from host memory, each zeroed and 64-byte aligned: the
/// executors' frame plans in a workspace the host owns (`prepare`, the C API).
struct WorkspaceCarver {
    static func aligned(_ bytes: Int) -> Int { (bytes + 63) / 64 * 64 }
    /// Bytes a workspace needs for buffers of these byte sizes.
    static func totalBytes(_ sizes: [Int]) -> Int { sizes.reduce(0) { $0 + aligned($1) } }

    let base: UnsafeMutableRawPointer
    private var offset = 0

    init(_ base: UnsafeMutableRawPointer) {
        precondition(Int(bitPattern: base) % 64 == 0, "the workspace must be 64-byte aligned")
        self.base = base
    }

    mutating func take<T>(_ count: Int, as type: T.Type) -> UnsafeMutablePointer<T> {
        let bytes = count * MemoryLayout<T>.stride
        let p = base + offset
        p.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        offset += Self.aligned(bytes)
        return p.bindMemory(to: T.self, capacity: count)
    }
}
