/// The int8 reference executor: plain scalar Swift, integer arithmetic only, written to be
/// obviously correct. It defines the int8 model's output bit for bit; optimized kernels must
/// match it exactly.
///
/// Accumulators: acc = sum w * (q - zIn) over Cin * K * K terms with |w| <= 127 and
/// |q - zIn| <= 255, so |acc| <= K^2 Cin * 32385. The quantizer refuses layers where that bound
/// (plus the bias) reaches 2^31; the largest layer of the reference generator (ngf=64: the
/// 7x7 output convolution, 64 * 49 = 3136 terms) bounds |acc| by 101,559,360 < 2^27.
public final class Int8ReferenceExecutor {
    public let program: ModelProgram

    public init(program: ModelProgram) throws(RuntimeError) {
        guard program.precision != .float32 else {
            throw RuntimeError(.invalidProgram, "the int8 executor runs int8 and mixed programs; this one is float32")
        }
        guard program.encoding == [.inputPixels, .outputPixels] else {
            throw RuntimeError(.invalidProgram, "an int8 program must read and write pixels")
        }
        try program.validate()
        let channels = try program.channelCounts()
        for (i, op) in program.ops.enumerated() {
            let count = op.parameters >= 0 ? program.tensors[op.parameters].elementCount : 0
            func need(_ n: Int) throws(RuntimeError) {
                guard count == n else {
                    throw RuntimeError(.invalidProgram, "op \(i) (\(op.kind)): \(count) integer parameters, expected \(n)")
                }
            }
            switch op.kind {
            case .conv2d, .convTranspose2d:
                let w = program.tensors[op.weight]
                let floatLayer = op.parameters >= 0 && program.tensors[op.parameters].elementCount > Int8OpParameters.mode
                    && program.tensors[op.parameters].integers[Int8OpParameters.mode] == 2
                let biasType: TensorType = floatLayer ? .float32 : .int32
                guard w.type == (floatLayer ? .float32 : .int8), op.bias == -1 || program.tensors[op.bias].type == biasType,
                      !floatLayer || program.precision == .mixed else {
                    throw RuntimeError(.invalidProgram, "op \(i): int8 convolutions take int8 weights and int32 biases; float layers (mixed programs only) float32 ones")
                }
                // Accumulators: |sum w (q - z)| <= terms * 127 * 65535 (16-bit codes). This
                // executor accumulates in Int64; 8-bit inputs also fit the int32 the optimized
                // kernels use (the quantizer checks terms * 127 * 255 + |bias| < 2^31).
                let terms = (op.kind == .conv2d ? w.dims[1] : w.dims[0]) * w.dims[2] * w.dims[3]
                guard floatLayer || w.integers.allSatisfy({ $0 >= -127 && $0 <= 127 }), terms <= 1 << 20 else {
                    throw RuntimeError(.invalidProgram, "op \(i): weights outside -127...127 or more than 2^20 terms")
                }
                typealias P = Int8OpParameters
                let c = channels[i + 1]
                guard count > P.tableLength else {
                    throw RuntimeError(.invalidProgram, "op \(i) (\(op.kind)): \(count) integer parameters, too few")
                }
                let p = program.tensors[op.parameters].integers
                func byte(_ v: Int32) -> Bool { v >= 0 && v <= 255 }
                func code(_ v: Int32) -> Bool { v >= 0 && v <= 65535 }
                guard code(p[P.zIn]), p[P.low] >= 0, p[P.low] <= p[P.high] else {
                    throw RuntimeError(.invalidProgram, "op \(i): zero point or clamp out of range")
                }
                switch p[P.mode] {
                case 1:
                    try need(P.instanceNormCount(channels: c))
                    guard code(p[P.zOut]), code(p[P.high]), code(p[P.residualZero]), p[P.normP] > 0,
                          p[P.residualShift] >= 1 && p[P.residualShift] <= 62, p[P.residualMultiplier] >= 0 else {
                        throw RuntimeError(.invalidProgram, "op \(i): InstanceNorm parameters out of range")
                    }
                case 0:
                    let table = Int(p[P.tableLength])
                    guard table >= 0 && table <= 1 << 16 else { throw RuntimeError(.invalidProgram, "op \(i): table length \(table)") }
                    try need(P.requantizationCount(channels: c, table: table))
                    let tableValues = p[(P.requantizationStart + 2 * c)...]
                    guard table == 0 ? code(p[P.high]) : Int(p[P.high]) < table, tableValues.allSatisfy(byte),
                          p[P.requantizationStart..<(P.requantizationStart + c)].allSatisfy({ $0 > 0 }),
                          p[(P.requantizationStart + c)..<(P.requantizationStart + 2 * c)].allSatisfy({ $0 >= 1 && $0 <= 62 }) else {
                        throw RuntimeError(.invalidProgram, "op \(i): requantization parameters or table out of range")
                    }
                case 2:
                    try need(P.floatCount)
                    func positive(_ v: Int32) -> Bool { let f = Float(bitPattern: UInt32(bitPattern: v)); return f.isFinite && f > 0 }
                    guard code(p[P.zOut]), code(p[P.high]), code(p[P.floatResidualZero]), positive(p[P.floatInputScale]),
                          positive(p[P.floatOutputScale]), positive(p[P.floatResidualScale]) else {
                        throw RuntimeError(.invalidProgram, "op \(i): float layer parameters out of range")
                    }
                default:
                    throw RuntimeError(.invalidProgram, "op \(i): unknown requantization mode \(p[P.mode])")
                }
            case .depthwiseConv2d, .depthwiseConvTranspose2d:
                guard program.tensors[op.weight].type == .int8 else { throw RuntimeError(.invalidProgram, "op \(i): int8 filter taps expected") }
                try need(1)
                guard program.tensors[op.parameters].integers[0] >= 0 && program.tensors[op.parameters].integers[0] <= 16 else {
                    throw RuntimeError(.invalidProgram, "op \(i): blur shift out of range")
                }
            case .pad:
                if op.padMode == .zero {
                    try need(1)
                    guard program.tensors[op.parameters].integers[0] >= 0 && program.tensors[op.parameters].integers[0] <= 255 else {
                        throw RuntimeError(.invalidProgram, "op \(i): pad zero point out of range")
                    }
                }
            case .crop:
                break
            case .instanceNorm, .relu, .add, .tanh:
                throw RuntimeError(.invalidProgram, "op \(i): \(op.kind) is not an int8 op (it must be fused into a convolution)")
            }
        }
        self.program = program
    }

    /// Derains 8-bit pixels (3 channels, CHW) of any accepted size: reflect-pad to the size
    /// multiple, run, crop back.
    public func derain(pixels image: ByteTensor, observe: (Int, CodeTensor) -> Void = { _, _ in }) throws(RuntimeError) -> ByteTensor {
        guard image.channels == 3 else { throw RuntimeError(.unsupportedInput, "the network takes 3 channels, got \(image.channels)") }
        let m = program.sizeMultiple
        let ph = (image.height + m - 1) / m * m, pw = (image.width + m - 1) / m * m
        guard ph - image.height < image.height, pw - image.width < image.width else {
            throw RuntimeError(.unsupportedInput, "a \(image.width)x\(image.height) image is too small: sides are padded to a multiple of \(m) by reflection")
        }
        let shapes = try program.inferShapes(height: ph, width: pw)
        // Plane sums of 16-bit codes stay inside Int64 up to 2^26 pixels per plane.
        guard shapes.allSatisfy({ $0.height * $0.width <= 1 << 26 }) else {
            throw RuntimeError(.unsupportedInput, "a \(image.width)x\(image.height) frame is beyond the int8 executor's 2^26 pixels per plane")
        }
        var input = CodeTensor(image)
        if ph != image.height || pw != image.width {
            input = FloatReference.pad(input, mode: .reflect, top: 0, bottom: ph - image.height, left: 0, right: pw - image.width)
        }
        var values = [CodeTensor?](repeating: nil, count: program.valueCount)
        values[0] = input
        for (i, op) in program.ops.enumerated() {
            let out = execute(op, values, shapes[i + 1])
            observe(i, out)
            values[i + 1] = out
        }
        var out = values[program.ops.count]!
        if ph != image.height || pw != image.width {
            out = FloatReference.crop(out, top: 0, bottom: ph - image.height, left: 0, right: pw - image.width)
        }
        // The output stage's table yields bytes (checked at load).
        return ByteTensor(channels: out.channels, height: out.height, width: out.width, storage: out.storage.map { UInt8(clamping: $0) })
    }

    private func parameters(_ op: ModelOp) -> [Int32] { op.parameters >= 0 ? program.tensors[op.parameters].integers : [] }

    private func execute(_ op: ModelOp, _ values: [CodeTensor?], _ shape: FeatureShape) -> CodeTensor {
        let x = values[op.input]!
        let p = parameters(op)
        switch op.kind {
        case .pad:
            return FloatReference.pad(x, mode: op.padMode, top: op.top, bottom: op.bottom, left: op.left, right: op.right, zero: op.padMode == .zero ? p[0] : 0)
        case .crop:
            return FloatReference.crop(x, top: op.top, bottom: op.bottom, left: op.left, right: op.right)
        case .depthwiseConv2d, .depthwiseConvTranspose2d:
            return blur(op, x, shift: Int(p[0]), shape)
        case .conv2d, .convTranspose2d:
            if p[Int8OpParameters.mode] == 2 {
                return floatLayer(op, x, p, residual: op.epilogue.contains(.residual) ? values[op.secondInput]! : nil)
            }
            let acc = accumulate(op, x, zIn: p[Int8OpParameters.zIn], shape)
            if p[Int8OpParameters.mode] == 1 {
                return instanceNorm(op, acc, p, residual: op.epilogue.contains(.residual) ? values[op.secondInput]! : nil, shape)
            }
            return requantize(op, acc, p, shape)
        case .instanceNorm, .relu, .add, .tanh:
            fatalError("unfused op in a validated int8 program")
        }
    }

    /// int32 accumulators (CHW) of sum w * (q - zIn); padding outside the input contributes 0
    /// in zero mode (it stands for real 0, i.e. q = zIn) and copies in reflect/replicate mode.
    private func accumulate(_ op: ModelOp, _ x: CodeTensor, zIn: Int32, _ shape: FeatureShape) -> [Int64] {
        let w = program.tensors[op.weight]
        let k = w.dims[2]
        var acc = [Int64](repeating: 0, count: shape.channels * shape.height * shape.width)
        if op.kind == .conv2d {
            // Pad first (zero mode pads with zIn, i.e. real 0), then centre: c = q - zIn.
            let padded = FloatReference.pad(x, mode: op.padMode, all: op.padding, zero: zIn)
            let centred = padded.storage.map { Int64($0 - zIn) }
            let cin = w.dims[1], inPlane = padded.height * padded.width, outPlane = shape.height * shape.width
            // Wrapping arithmetic is exact here: |w (q - zIn)| <= 127 * 65535 and at most 2^20
            // terms (checked at load), far inside Int64. Indices stay inside both buffers by
            // shape inference (oy * stride + ky < padded height, ox * stride + kx < padded width).
            centred.withUnsafeBufferPointer { c in
                acc.withUnsafeMutableBufferPointer { a in
                    for co in 0..<shape.channels {
                        for oy in 0..<shape.height {
                            // One output row stays in cache while every tap adds into it.
                            let target = co * outPlane + oy * shape.width
                            for ci in 0..<cin {
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let weight = Int64(w.integers[((co * cin + ci) * k + ky) * k + kx])
                                        let source = ci * inPlane + (oy * op.stride + ky) * padded.width + kx
                                        if op.stride == 1 {
                                            for ox in 0..<shape.width { a[target + ox] = a[target + ox] &+ weight &* c[source + ox] }
                                        } else {
                                            for ox in 0..<shape.width { a[target + ox] = a[target + ox] &+ weight &* c[source + ox * op.stride] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        } else {
            // Transposed: weight (Cin, Cout, K, K); each input pixel scatters into the output.
            let cout = w.dims[1]
            for ci in 0..<x.channels {
                for iy in 0..<x.height {
                    for ix in 0..<x.width {
                        let v = Int64(x[ci, iy, ix] - zIn)
                        for co in 0..<cout {
                            Self.forEachTransposedTap(iy, ix, kernel: k, op, shape) { oy, ox, tap in
                                acc[(co * shape.height + oy) * shape.width + ox] += Int64(w.integers[(ci * cout + co) * k * k + tap]) * v
                            }
                        }
                    }
                }
            }
        }
        return acc
    }

    /// The kernel taps of input pixel (iy, ix) of a transposed convolution that land inside the
    /// output: body(oy, ox, ky * K + kx) with oy = iy * stride - padding + ky, likewise ox.
    @inline(__always)
    private static func forEachTransposedTap(_ iy: Int, _ ix: Int, kernel k: Int, _ op: ModelOp, _ shape: FeatureShape,
                                             _ body: (Int, Int, Int) -> Void) {
        for ky in 0..<k {
            let oy = iy * op.stride - op.padding + ky
            if oy < 0 || oy >= shape.height { continue }
            for kx in 0..<k {
                let ox = ix * op.stride - op.padding + kx
                if ox < 0 || ox >= shape.width { continue }
                body(oy, ox, ky * k + kx)
            }
        }
    }

    /// Mode 0: per-channel requantization with bias, clamp, optional table (tanh to bytes).
    private func requantize(_ op: ModelOp, _ acc: [Int64], _ p: [Int32], _ shape: FeatureShape) -> CodeTensor {
        typealias P = Int8OpParameters
        let c = shape.channels, plane = shape.height * shape.width
        let tableLength = Int(p[P.tableLength])
        let bias = op.bias >= 0 ? program.tensors[op.bias].integers : [Int32](repeating: 0, count: c)
        var out = CodeTensor(channels: c, height: shape.height, width: shape.width)
        for ch in 0..<c {
            let m = Int64(p[P.requantizationStart + ch]), sh = Int(p[P.requantizationStart + c + ch])
            for i in 0..<plane {
                let v = Int64(p[P.zOut]) + FixedPoint.multiply(acc[ch * plane + i] + Int64(bias[ch]), m, shift: sh)
                let q = Int(min(max(v, Int64(p[P.low])), Int64(p[P.high])))
                out.storage[ch * plane + i] = tableLength > 0 ? p[P.requantizationStart + 2 * c + q] : Int32(q)
            }
        }
        return out
    }

    /// Mode 1: InstanceNorm over each output plane in the integer domain (`InstanceNormChannel`),
    /// then the residual and the clamp (ReLU is low = zOut).
    private func instanceNorm(_ op: ModelOp, _ acc: [Int64], _ p: [Int32], residual: CodeTensor?, _ shape: FeatureShape) -> CodeTensor {
        typealias P = Int8OpParameters
        let c = shape.channels, n = shape.height * shape.width
        var out = CodeTensor(channels: c, height: shape.height, width: shape.width)
        let zOut = Int64(p[P.zOut]), low = Int64(p[P.low]), high = Int64(p[P.high])
        let zRes = Int64(p[P.residualZero]), mRes = Int64(p[P.residualMultiplier]), shRes = Int(p[P.residualShift])
        for ch in 0..<c {
            let plane = acc[(ch * n)..<((ch + 1) * n)]
            var channel = InstanceNormChannel(count: n, sum: plane.reduce(0, +), minimum: plane.min()!, maximum: plane.max()!)
            var s2: Int64 = 0
            for a in plane { s2 += channel.squaredDeviation(a) }
            channel.setGain(sumOfSquares: s2, count: n, epsilon: P.epsilon(p, channel: ch), p: Int64(p[P.normP]), pk: Int(p[P.normPk]))
            for i in 0..<n {
                var value = zOut + channel.normalized(plane[plane.startIndex + i], high: high)
                if let residual {
                    value += FixedPoint.multiply(Int64(residual.storage[ch * n + i]) - zRes, mRes, shift: shRes)
                }
                out.storage[ch * n + i] = Int32(min(max(value, low), high))
            }
        }
        return out
    }

    /// Mode 2 (mixed programs): dequantize, run the layer in float, quantize the result.
    private func floatLayer(_ op: ModelOp, _ x: CodeTensor, _ p: [Int32], residual: CodeTensor?) -> CodeTensor {
        typealias P = Int8OpParameters
        func float(_ v: Int32) -> Float { Float(bitPattern: UInt32(bitPattern: v)) }
        func dequantize(_ t: CodeTensor, _ scale: Float, _ zero: Int32) -> FloatTensor {
            FloatTensor(channels: t.channels, height: t.height, width: t.width, storage: t.storage.map { scale * Float($0 - zero) })
        }
        let input = dequantize(x, float(p[P.floatInputScale]), p[P.zIn])
        let r = residual.map { dequantize($0, float(p[P.floatResidualScale]), p[P.floatResidualZero]) }
        let y = FloatReferenceExecutor.convolution(op, input, weight: program.tensors[op.weight],
                                          bias: op.bias >= 0 ? program.tensors[op.bias].values : [], residual: r)
        let toPixels = op.epilogue.contains(.toPixels)
        let scale = toPixels ? 1 : float(p[P.floatOutputScale])
        let zero = toPixels ? 0 : Float(p[P.zOut])
        let low = Float(p[P.low]), high = Float(p[P.high])
        return CodeTensor(channels: y.channels, height: y.height, width: y.width,
                          storage: y.storage.map { $0.isNaN ? Int32(low) : Int32(min(max((($0 / scale) + zero + 0.5).rounded(.down), low), high)) })
    }

    /// Fixed binomial filters: taps (int8 weights) sum to 2^shift, so the result is a weighted mean
    /// with the input's scale and zero point. Padding (reflect) is the op's own.
    private func blur(_ op: ModelOp, _ x: CodeTensor, shift: Int, _ shape: FeatureShape) -> CodeTensor {
        let w = program.tensors[op.weight], k = w.dims[2]
        var sums = [Int64](repeating: 0, count: shape.channels * shape.height * shape.width)
        if op.kind == .depthwiseConv2d {
            for ch in 0..<shape.channels {
                for oy in 0..<shape.height {
                    for ox in 0..<shape.width {
                        var s: Int64 = 0
                        for ky in 0..<k {
                            guard let sy = FloatReference.sourceIndex(oy * op.stride + ky - op.padding, x.height, op.padMode) else { continue }
                            for kx in 0..<k {
                                guard let sx = FloatReference.sourceIndex(ox * op.stride + kx - op.padding, x.width, op.padMode) else { continue }
                                s += Int64(w.integers[(ch * k + ky) * k + kx]) * Int64(x[ch, sy, sx])
                            }
                        }
                        sums[(ch * shape.height + oy) * shape.width + ox] = s
                    }
                }
            }
        } else {
            for ch in 0..<shape.channels {
                for iy in 0..<x.height {
                    for ix in 0..<x.width {
                        let v = Int64(x[ch, iy, ix])
                        Self.forEachTransposedTap(iy, ix, kernel: k, op, shape) { oy, ox, tap in
                            sums[(ch * shape.height + oy) * shape.width + ox] += Int64(w.integers[ch * k * k + tap]) * v
                        }
                    }
                }
            }
        }
        // A weighted mean of codes is a code: no clamp needed, but negative taps in a hostile
        // file are clamped to the 16-bit code range.
        let half: Int64 = shift > 0 ? 1 << (shift - 1) : 0
        return CodeTensor(channels: shape.channels, height: shape.height, width: shape.width,
                          storage: sums.map { Int32(min(max(($0 + half) >> Int64(shift), 0), 65535)) })
    }
}
