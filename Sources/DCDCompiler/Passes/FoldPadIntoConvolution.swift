import DCDRuntime

/// Folds an explicit pad into the convolution that reads it.
///
/// Matches: `pad(mode, p, p, p, p)` (equal on all sides) whose only reader is a `conv2d` or
/// `depthwiseConv2d` without padding of its own.
/// Produces: that convolution with `padding = p` in `mode` (zero, reflect or replicate), reading
/// the pad's input; the pad op is gone (one less full-size copy of the feature map).
public struct FoldPadIntoConvolution: GraphPass {
    public var name: String { "fold-pad-into-convolution" }
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        var removed: [Int: Int] = [:]
        for (i, op) in g.ops.enumerated() where op.kind == .pad {
            let p = op.top
            guard p > 0, op.bottom == p, op.left == p, op.right == p,
                  let j = g.soleUser(of: i + 1), g.ops[j].input == i + 1,
                  g.ops[j].kind == .conv2d || g.ops[j].kind == .depthwiseConv2d, g.ops[j].padding == 0 else { continue }
            g.ops[j].padding = p
            g.ops[j].padMode = op.padMode
            g.ops[j].input = op.input
            removed[i] = op.input
        }
        g.remove(removed)
        return g
    }
}
