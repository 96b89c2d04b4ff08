import DCDRuntime

/// Fuses a residual connection into the convolution that ends the residual branch.
///
/// Matches: `add(a, b)` where `b` (or `a`) is the output of a `conv2d` whose epilogue is empty or
/// [instance_norm], read by nothing but the add, and the other operand is defined before that
/// convolution.
/// Produces: the convolution with `residual` in its epilogue and `secondInput` = the other
/// operand (added after the norm, as ResnetBlock computes x + IN(conv(...))); the add is gone.
public struct FuseResidualAdd: GraphPass {
    public var name: String { "fuse-residual-add" }
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        var removed: [Int: Int] = [:]
        for (k, op) in g.ops.enumerated() where op.kind == .add {
            for (branch, skip) in [(op.secondInput, op.input), (op.input, op.secondInput)] {
                let j = branch - 1
                guard j >= 0, g.ops[j].kind == .conv2d, g.ops[j].epilogue.isSubset(of: [.instanceNorm]),
                      g.soleUser(of: branch) == k, skip <= j else { continue }
                g.ops[j].epilogue.insert(.residual)
                g.ops[j].secondInput = skip
                removed[k] = branch
                break
            }
        }
        g.remove(removed)
        return g
    }
}
