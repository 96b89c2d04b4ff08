import DCDRuntime

/// The elementwise building blocks of the ops: arrays filled without a zeroing pass, maps split
/// over threads for large tensors.
extension Ops {
    /// Elements below which an elementwise op stays on the calling thread: a band must outweigh
    /// handing it to a worker (microseconds).
    static let elementwiseGrain = 1 << 15

    /// Runs `body` over 0 ..< count, split into bands over `Ops.parallel` when large.
    @inline(__always)
    static func elementwise(_ count: Int, _ body: (Range<Int>) -> Void) {
        let parallel = Ops.parallel
        guard count >= 2 * elementwiseGrain, parallel.workerCount > 1 else { return body(0..<count) }
        let bands = min(2 * parallel.workerCount, count / elementwiseGrain)
        parallel.run(taskCount: bands) { body(ParallelRunner.band($0, of: bands, 0..<count)) }
    }

    /// f of every element.
    @inline(__always)
    static func map<T>(_ x: [T], _ f: (T) -> T) -> [T] {
        filled(x.count) { o in
            x.withUnsafeBufferPointer { xv in elementwise(xv.count) { range in for i in range { o[i] = f(xv[i]) } } }
        }
    }

    /// f of every pair of elements (same counts).
    @inline(__always)
    static func map<T>(_ a: [T], _ b: [T], _ f: (T, T) -> T) -> [T] {
        precondition(a.count == b.count, "elementwise op on \(a.count) and \(b.count) elements")
        return filled(a.count) { o in
            a.withUnsafeBufferPointer { av in
                b.withUnsafeBufferPointer { bv in elementwise(av.count) { range in for i in range { o[i] = f(av[i], bv[i]) } } }
            }
        }
    }

    /// An array of `count` elements that `fill` writes completely (no zeroing pass before).
    @inline(__always)
    static func filled<T>(_ count: Int, _ fill: (UnsafeMutableBufferPointer<T>) -> Void) -> [T] {
        [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            fill(buffer)
            initialized = count
        }
    }
}
