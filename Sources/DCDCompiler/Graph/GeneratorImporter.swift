import DCDRuntime

/// Turns a generator's state_dict into a float program: infers the architecture from the keys,
/// checks every key, shape and fixed filter, then emits the ops module by module.
public enum GeneratorImporter {
    /// Infers ngf, n_blocks and the antialias variants from the keys and shapes.
    public static func inferArchitecture(_ sd: StateDict) throws -> GeneratorArchitecture {
        guard let first = sd["model.1.weight"] else { throw CheckpointError("missing key model.1.weight (the first 7x7 convolution)") }
        guard first.shape.count == 4, first.shape[1] == 3, first.shape[2] == 7, first.shape[3] == 7, first.shape[0] >= 1 else {
            throw CheckpointError("model.1.weight has shape \(first.shape); a ResnetGenerator's first convolution is (ngf, 3, 7, 7)")
        }
        let ngf = first.shape[0]
        let noAntialias = sd["model.7.filt"] == nil
        let blockStart = noAntialias ? 10 : 12
        var blocks = 0
        while sd["model.\(blockStart + blocks).conv_block.1.weight"] != nil { blocks += 1 }
        let noAntialiasUp = sd["model.\(blockStart + blocks).filt"] == nil
        return GeneratorArchitecture(ngf: ngf, blockCount: blocks, noAntialias: noAntialias, noAntialiasUp: noAntialiasUp)
    }

    /// Checks that the keys are exactly the architecture's, with the right shapes, and that the
    /// fixed blur filters hold their fixed values. All problems are reported together.
    public static func check(_ sd: StateDict, _ a: GeneratorArchitecture) throws {
        let expected = GeneratorModule.expectedKeys(a)
        var problems: [String] = []
        let expectedNames = Set(expected.map(\.0))
        let missing = expected.filter { sd[$0.0] == nil }.map(\.0)
        if !missing.isEmpty { problems.append("missing keys: \(missing.joined(separator: ", "))") }
        let unexpected = sd.tensors.map(\.name).filter { !expectedNames.contains($0) }
        if !unexpected.isEmpty { problems.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
        for (name, shape) in expected {
            guard let t = sd[name] else { continue }
            if t.shape != shape {
                problems.append("\(name) has shape \(t.shape), expected \(shape)")
            } else if !t.dtype.isFloatingPoint {
                problems.append("\(name) is \(t.dtype.rawValue), expected a floating-point type")
            } else if name.hasSuffix(".filt") {
                let f = GeneratorModule.blurFilter(kernel: shape[2])
                for (i, v) in t.values.enumerated() where abs(v - f[i % f.count]) > 1e-6 {
                    problems.append("\(name) is not the fixed blur filter (element \(i) is \(v), expected \(f[i % f.count]))")
                    break
                }
            } else if let bad = t.values.firstIndex(where: { !$0.isFinite }) {
                problems.append("\(name) holds a non-finite value at element \(bad)")
            }
        }
        guard problems.isEmpty else {
            throw CheckpointError("state_dict does not match \(a): " + problems.joined(separator: "; "))
        }
    }

    /// Builds the float program: one op per module (pads, convolutions, norms, activations), the
    /// residual blocks as pad-conv-norm-relu-pad-conv-norm-add. Weights keep their state_dict names.
    public static func program(_ sd: StateDict, _ a: GeneratorArchitecture) throws -> ModelProgram {
        try check(sd, a)
        var tensors: [ModelTensor] = []
        var ops: [ModelOp] = []
        func tensor(_ name: String) -> Int {
            let t = sd[name]!
            tensors.append(ModelTensor(name: name, dims: t.shape, values: t.values))
            return tensors.count - 1
        }
        /// Appends an op and returns the value it defines.
        func emit(_ op: ModelOp) -> Int {
            ops.append(op)
            return ops.count
        }
        var x = 0
        for module in GeneratorModule.modules(a) {
            switch module {
            case .reflectPad(let p):
                x = emit(.pad(x, .reflect, top: p, bottom: p, left: p, right: p))
            case .conv(let i, _, _, _, let stride, let padding):
                x = emit(.conv2d(x, weight: tensor("model.\(i).weight"), bias: tensor("model.\(i).bias"), stride: stride, padding: padding))
            case .convTranspose(let i, _, _):
                x = emit(.convTranspose2d(x, weight: tensor("model.\(i).weight"), bias: tensor("model.\(i).bias"),
                                          stride: 2, padding: 1, outputPadding: 1))
            case .instanceNorm:
                x = emit(.instanceNorm(x, epsilon: 1e-5))
            case .relu:
                x = emit(.relu(x))
            case .tanh:
                x = emit(.tanh(x))
            case .downsample(let i, _):
                // Reflect pad 1 on every side, then the 3x3 binomial filter at stride 2.
                x = emit(.pad(x, .reflect, top: 1, bottom: 1, left: 1, right: 1))
                x = emit(.depthwiseConv2d(x, weight: tensor("model.\(i).filt"), stride: 2))
            case .upsample(let i, _):
                // Replicate pad 1, transposed 4x4 filter at stride 2 with padding 2 (2H+2 rows),
                // then drop the first and the last row and column: exactly 2H x 2W.
                x = emit(.pad(x, .replicate, top: 1, bottom: 1, left: 1, right: 1))
                x = emit(.depthwiseConvTranspose2d(x, weight: tensor("model.\(i).filt"), stride: 2, padding: 2))
                x = emit(.crop(x, top: 1, bottom: 1, left: 1, right: 1))
            case .resnetBlock(let i, _):
                let input = x
                var y = emit(.pad(x, .reflect, top: 1, bottom: 1, left: 1, right: 1))
                y = emit(.conv2d(y, weight: tensor("model.\(i).conv_block.1.weight"), bias: tensor("model.\(i).conv_block.1.bias"), stride: 1, padding: 0))
                y = emit(.instanceNorm(y, epsilon: 1e-5))
                y = emit(.relu(y))
                y = emit(.pad(y, .reflect, top: 1, bottom: 1, left: 1, right: 1))
                y = emit(.conv2d(y, weight: tensor("model.\(i).conv_block.5.weight"), bias: tensor("model.\(i).conv_block.5.bias"), stride: 1, padding: 0))
                y = emit(.instanceNorm(y, epsilon: 1e-5))
                x = emit(.add(input, y))
            }
        }
        let program = ModelProgram(architecture: a, sizeMultiple: 4, ops: ops, tensors: tensors)
        do { try program.validate() } catch { throw CheckpointError("internal error: built an invalid program: \(error)") }
        return program
    }
}
