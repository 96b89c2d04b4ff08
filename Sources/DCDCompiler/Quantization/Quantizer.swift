import DCDRuntime

/// Activation parameters: real = scale * (q - zeroPoint), q in 0...levels (255 for 8-bit
/// activations, 65535 for 16-bit ones).
public struct ActivationQuantization: Equatable, Sendable {
    public var scale: Float
    public var zeroPoint: Int
    public var levels: Int = 255

    public func dequantize(_ q: Int32) -> Float { scale * Float(Int(q) - zeroPoint) }
}

/// Precision of one convolution layer in a mixed program.
public enum LayerPrecision: String, Sendable, CaseIterable {
    /// int8 weights, 8-bit output activations (the default).
    case int8
    /// int8 weights, 16-bit output activations.
    case int16
    /// float32 weights and arithmetic; output stored as 16-bit codes.
    case float
}

/// Turns a fused float program (pixels in, pixels out) and calibration statistics into an int8
/// program that the integer-only `Int8ReferenceExecutor` runs.
///
/// - Weights: int8, symmetric, one scale per output channel (max |w| / 127).
/// - Activations: uint8 with a per-tensor scale and zero point from the calibration method;
///   ranges always contain 0. The input is pixels (scale 1, zero point 0: the x/255*2-1 mapping
///   is already folded into the first convolution); the output is pixels from a table.
/// - Convolutions followed by InstanceNorm drop their bias (the norm removes any per-channel
///   constant) and requantize through integer statistics (`Int8OpParameters` mode 1).
/// - The output convolution requantizes to an index into a 4095-entry table of
///   round((tanh(v) + 1) * 127.5) over v in [-3.2, 3.2] (beyond 3.12 the byte saturates), with
///   its bias corrected for the mean error the weight rounding causes on calibration data.
/// - Blur filters become integer taps summing to 16 with a shift of 4: exact weighted means.
public enum Quantizer {
    public struct Result {
        public var program: ModelProgram
        /// Per value of the program (index = value id).
        public var activations: [ActivationQuantization]
    }

    static let tableLength = 4095
    static let tableRange = 3.2

    /// `layers`: precision per op index for convolutions not at the default int8 (mixed
    /// precision); any entry makes the program `.mixed`.
    public static func quantize(_ float: ModelProgram, statistics: [ValueStatistics], method: CalibrationMethod,
                                layers: [Int: LayerPrecision] = [:]) throws -> Result {
        guard float.precision == .float32, float.encoding == [.inputPixels, .outputPixels] else {
            throw CheckpointError("int8 quantization needs the fused float program (pixels in and out)")
        }
        var activations = [ActivationQuantization(scale: 1, zeroPoint: 0)]
        var tensors: [ModelTensor] = []
        var ops: [ModelOp] = []
        func add(_ t: ModelTensor) -> Int { tensors.append(t); return tensors.count - 1 }

        for (i, floatOp) in float.ops.enumerated() {
            var op = floatOp
            let input = activations[op.input]
            var output = input
            switch op.kind {
            case .pad:
                if op.padMode == .zero { op.parameters = add(ModelTensor(name: "q\(i).pad", dims: [1], type: .int32, integers: [Int32(input.zeroPoint)])) }
            case .crop:
                break
            case .depthwiseConv2d, .depthwiseConvTranspose2d:
                let filt = float.tensors[op.weight]
                let taps = filt.values.map { $0 * 16 }
                guard taps.allSatisfy({ $0 == $0.rounded() && abs($0) <= 127 }) else {
                    throw CheckpointError("op \(i): depthwise filter '\(filt.name)' is not a binomial blur with integer taps / 16")
                }
                op.weight = add(ModelTensor(name: filt.name, dims: filt.dims, type: .int8, integers: taps.map { Int32($0) }))
                op.parameters = add(ModelTensor(name: "q\(i).blur", dims: [1], type: .int32, integers: [4]))
            case .conv2d, .convTranspose2d:
                let (quantized, out) = try quantizeConvolution(i, floatOp, float, statistics, activations, method,
                                                               layers[i] ?? .int8, add)
                op = quantized
                output = out
            case .instanceNorm, .relu, .add, .tanh:
                throw CheckpointError("op \(i): \(op.kind) is not fused into a convolution; run the standard pass pipeline first")
            }
            ops.append(op)
            activations.append(output)
        }
        let program = ModelProgram(architecture: float.architecture, sizeMultiple: float.sizeMultiple, ops: ops, tensors: tensors,
                                   encoding: float.encoding, precision: layers.values.allSatisfy({ $0 == .int8 }) ? .int8 : .mixed)
        do { _ = try Int8ReferenceExecutor(program: program) } catch {
            throw CheckpointError("internal error: the quantized program is invalid: \(error)")
        }
        return Result(program: program, activations: activations)
    }

    private static func quantizeConvolution(_ i: Int, _ op: ModelOp, _ float: ModelProgram, _ statistics: [ValueStatistics],
                                            _ activations: [ActivationQuantization], _ method: CalibrationMethod,
                                            _ precision: LayerPrecision,
                                            _ add: (ModelTensor) -> Int) throws -> (ModelOp, ActivationQuantization) {
        typealias P = Int8OpParameters
        var q = op
        let w = float.tensors[op.weight]
        let transposed = op.kind == .convTranspose2d
        let cout = transposed ? w.dims[1] : w.dims[0], cin = transposed ? w.dims[0] : w.dims[1], k = w.dims[2]
        let input = activations[op.input]
        // 16-bit activations for `int16` layers and for float layers that feed others.
        let levels = precision == .int8 ? 255 : 65535

        if precision == .float {
            // The layer keeps its float weights; its output is stored as 16-bit codes (or pixels).
            let out: ActivationQuantization
            if op.epilogue.contains(.toPixels) {
                out = ActivationQuantization(scale: 1, zeroPoint: 0)
            } else {
                let range = method.range(statistics[i + 1])
                out = activation(low: op.epilogue.contains(.relu) ? 0 : range.low, high: range.high, levels: levels)
            }
            var p = [Int32](repeating: 0, count: P.floatCount)
            func bits(_ f: Float) -> Int32 { Int32(bitPattern: f.bitPattern) }
            p[P.zIn] = Int32(input.zeroPoint)
            p[P.zOut] = Int32(out.zeroPoint)
            p[P.low] = op.epilogue.contains(.relu) && !op.epilogue.contains(.toPixels) ? Int32(out.zeroPoint) : 0
            p[P.high] = op.epilogue.contains(.toPixels) ? 255 : Int32(levels)
            p[P.mode] = 2
            p[P.floatInputScale] = bits(input.scale)
            p[P.floatOutputScale] = bits(out.scale)
            let r = op.epilogue.contains(.residual) ? activations[op.secondInput] : ActivationQuantization(scale: 1, zeroPoint: 0)
            p[P.floatResidualZero] = Int32(r.zeroPoint)
            p[P.floatResidualScale] = bits(r.scale)
            q.weight = add(w)
            q.bias = op.bias >= 0 ? add(float.tensors[op.bias]) : -1
            q.parameters = add(ModelTensor(name: "q\(i).float", dims: [p.count], type: .int32, integers: p))
            return (q, out)
        }

        // Per-output-channel symmetric int8 weights.
        func index(_ co: Int, _ ci: Int, _ t: Int) -> Int { transposed ? ((ci * cout + co) * k * k + t) : ((co * cin + ci) * k * k + t) }
        var scales = [Float](repeating: 1, count: cout)
        var qw = [Int32](repeating: 0, count: w.values.count)
        for co in 0..<cout {
            var m: Float = 0
            for ci in 0..<cin { for t in 0..<(k * k) { m = max(m, abs(w.values[index(co, ci, t)])) } }
            scales[co] = m > 0 ? m / 127 : 1
            for ci in 0..<cin { for t in 0..<(k * k) {
                let j = index(co, ci, t)
                qw[j] = Int32(min(127, max(-127, (w.values[j] / scales[co]).rounded())))
            } }
        }
        q.weight = add(ModelTensor(name: w.name, dims: w.dims, type: .int8, integers: qw))

        // Accumulator bound: terms * 255 * 127 (+ bias, checked below) must stay below 2^31 for
        // 8-bit inputs (16-bit inputs of mixed programs accumulate in 64 bits).
        let terms = cin * k * k
        let inputLevels = input.levels
        guard input.levels > 255 || terms * 255 * 127 < Int(Int32.max) / 2 else {
            throw CheckpointError("op \(i): \(terms) terms per output could overflow the int32 accumulator")
        }

        if op.epilogue.contains(.instanceNorm) {
            let range = method.range(statistics[i + 1])
            let low = op.epilogue.contains(.relu) ? 0 : range.low
            let out = activation(low: low, high: range.high, levels: levels)
            let inverse = try FixedPointMultiplier(1 / Double(out.scale), bits: 30)
            var p = [Int32](repeating: 0, count: P.instanceNormCount(channels: cout))
            p[P.zIn] = Int32(input.zeroPoint)
            p[P.zOut] = Int32(out.zeroPoint)
            p[P.low] = op.epilogue.contains(.relu) ? Int32(out.zeroPoint) : 0
            p[P.high] = Int32(levels)
            p[P.mode] = 1
            p[P.normP] = Int32(inverse.mantissa)
            p[P.normPk] = Int32(inverse.shift)
            if op.epilogue.contains(.residual) {
                let r = activations[op.secondInput]
                let m = try FixedPointMultiplier(Double(r.scale) / Double(out.scale))
                p[P.residualZero] = Int32(r.zeroPoint)
                p[P.residualMultiplier] = Int32(m.mantissa)
                p[P.residualShift] = Int32(m.shift)
            } else {
                p[P.residualShift] = 1
            }
            for co in 0..<cout {
                // epsilon in accumulator units squared, 16 fraction bits.
                let unit = Double(input.scale) * Double(scales[co])
                let e = min(Double(Int64(1) << 62), (Double(op.epsilon) / (unit * unit) * 65536).rounded())
                let bits = Int64(e)
                p[P.epsilonStart + 2 * co] = Int32(truncatingIfNeeded: bits >> 32)
                p[P.epsilonStart + 2 * co + 1] = Int32(truncatingIfNeeded: bits)
            }
            q.bias = -1
            q.parameters = add(ModelTensor(name: "q\(i).norm", dims: [p.count], type: .int32, integers: p))
            return (q, out)
        }

        // Per-channel requantization, to a table index (tanh) or to a uint8 activation.
        let usesTable = op.epilogue.contains(.tanh)
        let out: ActivationQuantization
        let outputStep: Double
        var table: [Int32] = []
        if usesTable {
            guard op.epilogue.contains(.toPixels), !op.epilogue.contains(.residual) else {
                throw CheckpointError("op \(i): tanh is only supported as the output stage")
            }
            outputStep = tableRange / Double(tableLength / 2)
            out = ActivationQuantization(scale: 1, zeroPoint: 0)
            table = (0..<tableLength).map { j in
                let v = Double(j - tableLength / 2) * outputStep
                return Int32(((ElementaryFunctions.tanhDouble(v) + 1) * 127.5).rounded())
            }
        } else {
            guard !op.epilogue.contains(.residual) else { throw CheckpointError("op \(i): a residual needs InstanceNorm in this version") }
            let range = method.range(statistics[i + 1])
            out = activation(low: op.epilogue.contains(.relu) ? 0 : range.low, high: range.high, levels: levels)
            outputStep = Double(out.scale)
        }
        // Bias in accumulator units, corrected for the mean effect of weight rounding on the
        // calibration inputs: sum over taps of (w - w_q * s_w) * mean(input channel).
        let floatBias = op.bias >= 0 ? float.tensors[op.bias].values : [Float](repeating: 0, count: cout)
        let means = statistics[op.input].channelMeans
        var bias = [Int32](repeating: 0, count: cout)
        var p = [Int32](repeating: 0, count: P.requantizationCount(channels: cout, table: table.count))
        for co in 0..<cout {
            var correction = 0.0
            for ci in 0..<cin {
                let mean = ci < means.count ? Double(means[ci]) : 0
                for t in 0..<(k * k) {
                    let j = index(co, ci, t)
                    correction += (Double(w.values[j]) - Double(qw[j]) * Double(scales[co])) * mean
                }
            }
            let unit = Double(input.scale) * Double(scales[co])
            let b = ((Double(floatBias[co]) + correction) / unit).rounded()
            guard abs(b) + Double(terms * inputLevels * 127) < Double(inputLevels > 255 ? Double(Int64.max) / 4 : Double(Int32.max)) else {
                throw CheckpointError("op \(i): bias \(floatBias[co]) of channel \(co) does not fit the int32 accumulator")
            }
            bias[co] = Int32(b)
            // 16-bit inputs make accumulators up to 2^35: a 24-bit mantissa keeps acc * M < 2^60.
            let m = try FixedPointMultiplier(unit / outputStep, bits: inputLevels > 255 ? 24 : 31)
            p[P.requantizationStart + co] = Int32(m.mantissa)
            p[P.requantizationStart + cout + co] = Int32(m.shift)
        }
        p[P.zIn] = Int32(input.zeroPoint)
        p[P.mode] = 0
        if usesTable {
            p[P.zOut] = Int32(tableLength / 2)
            p[P.low] = 0
            p[P.high] = Int32(tableLength - 1)
            p[P.tableLength] = Int32(tableLength)
            for (j, v) in table.enumerated() { p[P.requantizationStart + 2 * cout + j] = v }
        } else {
            p[P.zOut] = Int32(out.zeroPoint)
            p[P.low] = op.epilogue.contains(.relu) ? Int32(out.zeroPoint) : 0
            p[P.high] = Int32(levels)
        }
        q.bias = add(ModelTensor(name: (op.bias >= 0 ? float.tensors[op.bias].name : w.name + ".bias"), dims: [cout], type: .int32, integers: bias))
        q.parameters = add(ModelTensor(name: "q\(i).requant", dims: [p.count], type: .int32, integers: p))
        return (q, out)
    }

    /// uint8 parameters for the real range [low, high] (low <= 0 <= high): 0 is exactly
    /// representable.
    static func activation(low: Float, high: Float, levels: Int = 255) -> ActivationQuantization {
        let scale = max(high - low, 1e-6) / Float(levels)
        let zero = Int(min(Float(levels), max(0, (-low / scale).rounded())))
        return ActivationQuantization(scale: scale, zeroPoint: zero, levels: levels)
    }
}
