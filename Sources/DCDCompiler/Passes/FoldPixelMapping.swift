import DCDRuntime

/// Folds the image mappings into the first and last convolutions, so the program reads and
/// writes pixel values (0...255) directly.
///
/// Input side. Matches: every reader of the input value is a `conv2d` whose padding is reflect or
/// replicate (or absent): those paddings commute with a per-pixel affine map, zero padding does
/// not. Produces: the convolutions on raw pixels, w' = w * 2/255 and b' = b - sum(w) (since
/// sum w (x * 2/255 - 1) + b = sum w' x + b'), and `encoding.inputPixels`.
/// Output side. Matches: a final `tanh` whose input is a convolution read by nothing else (or a
/// final convolution that already ends in tanh). Produces: epilogue [..., tanh, to_pixels] and
/// `encoding.outputPixels`; rounding to bytes is the output stage's job (dcd-run, int8 tables).
public struct FoldPixelMapping: GraphPass {
    public var name: String { "fold-pixel-mapping" }
    public init() {}

    public func run(_ graph: Graph) throws -> Graph {
        var g = graph
        let readers = g.ops.indices.filter { g.ops[$0].input == 0 || g.ops[$0].secondInput == 0 }
        let foldable = !g.program.encoding.contains(.inputPixels) && !readers.isEmpty && readers.allSatisfy { r in
            let op = g.ops[r]
            return op.kind == .conv2d && op.secondInput != 0 && (op.padding == 0 || op.padMode != .zero)
        }
        if foldable {
            for r in readers { fold(&g, conv: r) }
            g.program.encoding.insert(.inputPixels)
            g.removeUnusedTensors()
        }
        if !g.program.encoding.contains(.outputPixels), let lastIndex = g.ops.indices.last {
            let last = g.ops[lastIndex]
            if last.kind == .tanh, last.input >= 1, g.ops[last.input - 1].kind == .conv2d || g.ops[last.input - 1].kind == .convTranspose2d,
               !g.ops[last.input - 1].epilogue.contains(.tanh), g.soleUser(of: last.input) == lastIndex {
                g.ops[last.input - 1].epilogue.formUnion([.tanh, .toPixels])
                g.program.encoding.insert(.outputPixels)
                g.remove([lastIndex: last.input])
            } else if last.epilogue.contains(.tanh) {
                g.ops[lastIndex].epilogue.insert(.toPixels)
                g.program.encoding.insert(.outputPixels)
            }
        }
        return g
    }

    /// New weight and bias tensors for one convolution (the old ones may be shared).
    private func fold(_ g: inout Graph, conv r: Int) {
        let op = g.ops[r]
        let w = g.program.tensors[op.weight]
        let cout = w.dims[0], perChannel = w.elementCount / cout
        var bias = op.bias >= 0 ? g.program.tensors[op.bias].values : [Float](repeating: 0, count: cout)
        var scaled = w.values
        for co in 0..<cout {
            var sum: Double = 0
            for i in 0..<perChannel {
                sum += Double(w.values[co * perChannel + i])
                scaled[co * perChannel + i] = w.values[co * perChannel + i] * (2 / 255)
            }
            bias[co] = Float(Double(bias[co]) - sum)
        }
        g.program.tensors.append(ModelTensor(name: w.name, dims: w.dims, values: scaled))
        g.ops[r].weight = g.program.tensors.count - 1
        let biasName = op.bias >= 0 ? g.program.tensors[op.bias].name : w.name.replacingSuffix(".weight", with: ".bias")
        g.program.tensors.append(ModelTensor(name: biasName, dims: [cout], values: bias))
        g.ops[r].bias = g.program.tensors.count - 1
    }
}

extension String {
    func replacingSuffix(_ suffix: String, with replacement: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) + replacement : self + replacement
    }
}
