import DCDRuntime

/// Fuses InstanceNorm and ReLU into the convolution that produces their input.
///
/// Matches: `conv2d` or `convTranspose2d` with an empty epilogue, whose output is read only by
/// `instanceNorm`, optionally followed by a `relu` that alone reads the norm's output (and also a
/// convolution directly followed by its only reader `relu`).
/// Produces: the convolution with epilogue [instance_norm(eps)] or [instance_norm, relu] (or
/// [relu]); the norm and relu ops are gone, and with them two full-size intermediate maps.
public struct FuseConvolutionNormRelu: GraphPass {
    public var name: String { "fuse-convolution-norm-relu" }
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        var removed: [Int: Int] = [:]
        for i in g.ops.indices where (g.ops[i].kind == .conv2d || g.ops[i].kind == .convTranspose2d) && g.ops[i].epilogue.isEmpty {
            var last = i
            if let j = g.soleUser(of: i + 1), g.ops[j].kind == .instanceNorm {
                g.ops[i].epilogue.insert(.instanceNorm)
                g.ops[i].epsilon = g.ops[j].epsilon
                removed[j] = i + 1
                last = j
            }
            if let k = g.soleUser(of: last + 1), g.ops[k].kind == .relu {
                g.ops[i].epilogue.insert(.relu)
                removed[k] = i + 1
            }
        }
        g.remove(removed)
        return g
    }
}
