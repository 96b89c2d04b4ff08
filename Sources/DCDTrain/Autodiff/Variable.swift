/// Reverse-mode differentiation for the trainer: a dynamic graph of `Variable`s built by the ops
/// of `Ops`, each remembering how to send its gradient back to its inputs.
///
/// Values are dense row-major tensors (`shape`, `values`), generic over the scalar so that the
/// gradient checks run the very same op code in Double (finite differences need the precision)
/// while training runs in Float. Gradients accumulate (+=) into `grad`, so a variable used twice
/// receives both contributions; `backward()` on a scalar runs the graph in reverse topological
/// order once.
public final class Variable<T: BinaryFloatingPoint> {
    public var shape: [Int]
    public var values: [T]
    /// d(loss)/d(values), allocated on the first contribution.
    public var grad: [T]?
    /// Whether gradients flow into this variable (parameters and everything computed from them).
    public let requiresGrad: Bool
    let parents: [Variable<T>]
    /// Adds this variable's incoming gradient (`grad`) into its parents' gradients.
    let backwardStep: ((Variable<T>) -> Void)?

    public init(shape: [Int], values: [T], requiresGrad: Bool = false) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        self.shape = shape
        self.values = values
        self.requiresGrad = requiresGrad
        parents = []
        backwardStep = nil
    }

    /// A result of an op: requires gradients when any parent does.
    init(shape: [Int], values: [T], parents: [Variable<T>], backward: @escaping (Variable<T>) -> Void) {
        self.shape = shape
        self.values = values
        requiresGrad = parents.contains { $0.requiresGrad }
        self.parents = requiresGrad ? parents : []
        backwardStep = requiresGrad ? backward : nil
    }

    public var count: Int { values.count }

    /// Adds `g` (same count as values) into the gradient.
    func accumulate(_ g: [T]) {
        guard requiresGrad else { return }
        guard grad != nil else { grad = g; return }
        grad!.withUnsafeMutableBufferPointer { d in
            g.withUnsafeBufferPointer { s in Ops.elementwise(s.count) { range in for i in range { d[i] += s[i] } } }
        }
    }

    func accumulate(at i: Int, _ g: T) {
        guard requiresGrad else { return }
        if grad == nil { grad = [T](repeating: 0, count: values.count) }
        grad![i] += g
    }

    /// The gradient, zeros when nothing flowed in.
    public var gradient: [T] { grad ?? [T](repeating: 0, count: values.count) }

    /// Back-propagates from this scalar (d self / d self = 1) through everything it depends on.
    public func backward() {
        precondition(values.count == 1, "backward() starts from a scalar")
        var order: [Variable<T>] = []
        var seen = Set<ObjectIdentifier>()
        // Iterative depth-first post-order (graphs of a generator are deep).
        var stack: [(Variable<T>, Bool)] = [(self, false)]
        while let (v, expanded) = stack.popLast() {
            if expanded { order.append(v); continue }
            if !seen.insert(ObjectIdentifier(v)).inserted { continue }
            stack.append((v, true))
            for p in v.parents where p.requiresGrad && !seen.contains(ObjectIdentifier(p)) { stack.append((p, false)) }
        }
        grad = [1]
        for v in order.reversed() where v.grad != nil { v.backwardStep?(v) }
    }

    /// Clears the gradient (parameters between steps).
    public func zeroGrad() { grad = nil }
}
