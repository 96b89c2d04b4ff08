/// Validation of a program's structure and the shapes its values take for a given input size.
///
/// `validate` checks everything that does not depend on the image size (references, tensor ranks,
/// channel agreement); `inferShapes` then only has to check the spatial rules (a reflect pad
/// narrower than the side, a kernel that fits). Both throw, never trap: a program can come from a
/// hostile file.

extension ModelProgram {
    /// Checks every reference and the channel count of every op, for 3-channel input.
    public func validate() throws(RuntimeError) {
        _ = try channelCounts()
    }

    /// Channels of every value (index = value id), checking references and weight shapes on the way.
    func channelCounts() throws(RuntimeError) -> [Int] {
        var channels = [3]
        for (i, op) in ops.enumerated() {
            let where_ = "op \(i) (\(op.kind))"
            func value(_ v: Int) throws(RuntimeError) -> Int {
                guard v >= 0 && v < channels.count else {
                    throw RuntimeError(.invalidProgram, "\(where_) reads value \(v), which is not defined before it")
                }
                return channels[v]
            }
            func tensor(_ t: Int, rank: Int) throws(RuntimeError) -> [Int] {
                guard t >= 0 && t < tensors.count else {
                    throw RuntimeError(.invalidProgram, "\(where_) refers to tensor \(t) of \(tensors.count)")
                }
                let dims = tensors[t].dims
                guard dims.count == rank else {
                    throw RuntimeError(.invalidProgram, "\(where_): tensor '\(tensors[t].name)' has rank \(dims.count), expected \(rank)")
                }
                return dims
            }
            func checkBias(_ count: Int) throws(RuntimeError) {
                if op.bias == -1 { return }
                let dims = try tensor(op.bias, rank: 1)
                guard dims[0] == count else {
                    throw RuntimeError(.invalidProgram, "\(where_): bias '\(tensors[op.bias].name)' has \(dims[0]) values for \(count) channels")
                }
            }
            if op.parameters != -1 {
                guard precision != .float32, op.parameters >= 0, op.parameters < tensors.count, tensors[op.parameters].type == .int32 else {
                    throw RuntimeError(.invalidProgram, "\(where_): parameter tensor \(op.parameters) is not an int32 tensor of an int8 program")
                }
            }
            let cin = try value(op.input)
            var cout = cin
            switch op.kind {
            case .pad, .crop:
                guard op.top >= 0, op.bottom >= 0, op.left >= 0, op.right >= 0 else {
                    throw RuntimeError(.invalidProgram, "\(where_): negative edge")
                }
            case .conv2d:
                let w = try tensor(op.weight, rank: 4)
                guard w[1] == cin, w[2] == w[3], w[2] >= 1, op.stride >= 1, op.padding >= 0 else {
                    throw RuntimeError(.invalidProgram, "\(where_): weight '\(tensors[op.weight].name)' \(w) does not fit \(cin) input channels, stride \(op.stride), padding \(op.padding)")
                }
                cout = w[0]
                try checkBias(cout)
            case .convTranspose2d:
                let w = try tensor(op.weight, rank: 4)
                guard w[0] == cin, w[2] == w[3], w[2] >= 1, op.stride >= 1, op.padding >= 0,
                      op.outputPadding >= 0, op.outputPadding < op.stride else {
                    throw RuntimeError(.invalidProgram, "\(where_): weight '\(tensors[op.weight].name)' \(w) does not fit \(cin) input channels")
                }
                cout = w[1]
                try checkBias(cout)
            case .depthwiseConv2d, .depthwiseConvTranspose2d:
                let w = try tensor(op.weight, rank: 4)
                guard w[0] == cin, w[1] == 1, w[2] == w[3], w[2] >= 1, op.stride >= 1, op.padding >= 0 else {
                    throw RuntimeError(.invalidProgram, "\(where_): depthwise filter '\(tensors[op.weight].name)' \(w) does not fit \(cin) channels")
                }
            case .add:
                let c2 = try value(op.secondInput)
                guard c2 == cin else {
                    throw RuntimeError(.invalidProgram, "\(where_): adds \(cin) channels to \(c2)")
                }
            case .instanceNorm:
                guard op.epsilon > 0 && op.epsilon < 1 else {
                    throw RuntimeError(.invalidProgram, "\(where_): epsilon \(op.epsilon) out of range")
                }
            case .relu, .tanh:
                break
            }
            if !op.epilogue.isEmpty {
                guard op.kind == .conv2d || op.kind == .convTranspose2d, op.epilogue.isSubset(of: .all) else {
                    throw RuntimeError(.invalidProgram, "\(where_): only convolutions have an epilogue")
                }
                if op.epilogue.contains(.instanceNorm) {
                    guard op.epsilon > 0 && op.epsilon < 1 else {
                        throw RuntimeError(.invalidProgram, "\(where_): epsilon \(op.epsilon) out of range")
                    }
                }
                if op.epilogue.contains(.residual) {
                    guard try value(op.secondInput) == cout else {
                        throw RuntimeError(.invalidProgram, "\(where_): residual value has other channels than the output")
                    }
                }
                if op.epilogue.contains(.toPixels) && !op.epilogue.contains(.tanh) {
                    throw RuntimeError(.invalidProgram, "\(where_): the pixel mapping needs tanh before it")
                }
            }
            if (op.kind == .convTranspose2d || op.kind == .depthwiseConvTranspose2d) && op.padMode != .zero {
                throw RuntimeError(.invalidProgram, "\(where_): transposed convolutions pad with zeros only")
            }
            channels.append(cout)
        }
        guard !ops.isEmpty, channels[channels.count - 1] == 3 else {
            throw RuntimeError(.invalidProgram, "the program does not produce a 3-channel image")
        }
        return channels
    }

    /// Shapes of every value (index = value id) for a 3-channel input of the given size.
    public func inferShapes(height: Int, width: Int) throws(RuntimeError) -> [FeatureShape] {
        let channels = try channelCounts()
        var shapes = [FeatureShape(channels: 3, height: height, width: width)]
        for (i, op) in ops.enumerated() {
            let s = shapes[op.input]
            var h = s.height, w = s.width
            switch op.kind {
            case .pad:
                if op.padMode == .reflect {
                    guard max(op.top, op.bottom) < h, max(op.left, op.right) < w else {
                        throw RuntimeError(.unsupportedInput, "op \(i): reflect padding by \(max(op.top, op.bottom, op.left, op.right)) needs a \(s.height)x\(s.width) feature map to be larger; the image is too small for this network")
                    }
                }
                if op.padMode == .replicate && (h == 0 || w == 0) {
                    throw RuntimeError(.unsupportedInput, "op \(i): cannot replicate-pad an empty feature map")
                }
                h += op.top + op.bottom; w += op.left + op.right
            case .crop:
                h -= op.top + op.bottom; w -= op.left + op.right
            case .conv2d, .depthwiseConv2d:
                let k = tensors[op.weight].dims[2]
                if op.padMode == .reflect && op.padding > 0 {
                    guard op.padding < h, op.padding < w else {
                        throw RuntimeError(.unsupportedInput, "op \(i): reflect padding by \(op.padding) needs a \(s.height)x\(s.width) feature map to be larger; the image is too small for this network")
                    }
                }
                let ph = h + 2 * op.padding, pw = w + 2 * op.padding
                guard ph >= k, pw >= k else {
                    throw RuntimeError(.unsupportedInput, "op \(i): a \(k)x\(k) kernel does not fit a \(s.height)x\(s.width) feature map; the image is too small for this network")
                }
                h = (ph - k) / op.stride + 1; w = (pw - k) / op.stride + 1
            case .convTranspose2d, .depthwiseConvTranspose2d:
                let k = tensors[op.weight].dims[2]
                h = (h - 1) * op.stride - 2 * op.padding + k + op.outputPadding
                w = (w - 1) * op.stride - 2 * op.padding + k + op.outputPadding
            case .add:
                guard shapes[op.secondInput] == s else {
                    throw RuntimeError(.invalidProgram, "op \(i): adds \(s) to \(shapes[op.secondInput])")
                }
            case .instanceNorm, .relu, .tanh:
                break
            }
            if op.epilogue.contains(.residual) {
                guard shapes[op.secondInput].height == h, shapes[op.secondInput].width == w else {
                    throw RuntimeError(.invalidProgram, "op \(i): residual \(shapes[op.secondInput]) does not match the output")
                }
            }
            // A hostile program could ask for huge feature maps; no real frame needs more than
            // 2^16 pixels a side or 2^31 elements per value.
            guard h <= 1 << 16, w <= 1 << 16, channels[i + 1] * h * w <= 1 << 31 else {
                throw RuntimeError(.unsupportedInput, "op \(i) (\(op.kind)) would produce a \(channels[i + 1])x\(h)x\(w) feature map, beyond the runtime's limits")
            }
            guard h >= 1, w >= 1 else {
                throw RuntimeError(.unsupportedInput, "op \(i) (\(op.kind)) leaves an empty feature map; the image is too small for this network")
            }
            shapes.append(FeatureShape(channels: channels[i + 1], height: h, width: w))
        }
        return shapes
    }

    /// Multiply-accumulates of one run at the given input size (convolutions, dense and depthwise).
    public func multiplyAccumulates(height: Int, width: Int) throws(RuntimeError) -> Int {
        let shapes = try inferShapes(height: height, width: width)
        return ops.indices.reduce(0) { $0 + multiplyAccumulates(op: $1, shapes: shapes) }
    }

    /// MACs of op `i` given the inferred shapes (0 for ops that do not multiply).
    public func multiplyAccumulates(op i: Int, shapes: [FeatureShape]) -> Int {
        let op = ops[i]
        let inShape = shapes[op.input], out = shapes[i + 1]
        switch op.kind {
        case .conv2d:
            let d = tensors[op.weight].dims
            return out.elementCount * d[1] * d[2] * d[3]
        case .convTranspose2d:
            let d = tensors[op.weight].dims
            return inShape.elementCount * d[1] * d[2] * d[3]
        case .depthwiseConv2d:
            let d = tensors[op.weight].dims
            return out.elementCount * d[2] * d[3]
        case .depthwiseConvTranspose2d:
            let d = tensors[op.weight].dims
            return inShape.elementCount * d[2] * d[3]
        default:
            return 0
        }
    }
}
