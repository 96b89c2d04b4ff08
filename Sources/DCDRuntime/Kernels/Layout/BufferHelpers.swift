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
