/// The float reference executor: CHW tensors, one op at a time, the plain kernels of
/// `FloatReference` (and the tiled stride-1 convolution). The compiler calibrates with it
/// (`observe` sees every value) and `FloatExecutor` is tested against it.
///
/// Validate at load, run blind: `init` validates the program and packs weights; `run` only checks
/// the input size (shape inference) before it computes. Stride-1 dense convolutions use the tiled
/// kernel; everything else uses the reference kernels, which cost a few percent of the MACs.
public final class FloatReferenceExecutor {
    public let program: ModelProgram
    /// Per op: packed weights for the tiled convolution, or nil.
    private let packedWeights: [PackedConvWeights?]
    /// Per value: the index of the last op reading it (so its memory is released after it).
    private let lastUse: [Int]

    public init(program: ModelProgram) throws(RuntimeError) {
        guard program.precision == .float32 else {
            throw RuntimeError(.invalidProgram, "the float executor runs float32 programs; this one is \(program.precision)")
        }
        try program.validate()
        self.program = program
        var packed: [PackedConvWeights?] = []
        for op in program.ops {
            if op.kind == .conv2d && op.stride == 1 {
                let w = program.tensors[op.weight]
                packed.append(PackedConvWeights(weight: w.values, bias: op.bias >= 0 ? program.tensors[op.bias].values : [],
                                                outputChannels: w.dims[0], inputChannels: w.dims[1], kernel: w.dims[2]))
            } else {
                packed.append(nil)
            }
        }
        packedWeights = packed
        var last = [Int](repeating: -1, count: program.valueCount)
        for (i, op) in program.ops.enumerated() {
            last[op.input] = i
            if op.secondInput >= 0 { last[op.secondInput] = i }
        }
        lastUse = last
    }

    private func paddedSize(_ n: Int) -> Int {
        let m = program.sizeMultiple
        return (n + m - 1) / m * m
    }

    private func paddedShapes(height: Int, width: Int) throws(RuntimeError) -> [FeatureShape] {
        let ph = paddedSize(height), pw = paddedSize(width)
        // Reflect padding of the image itself needs the pad to be smaller than the side.
        guard height >= 1, width >= 1, ph - height < height, pw - width < width else {
            throw RuntimeError(.unsupportedInput, "a \(width)x\(height) image is too small: sides are padded to a multiple of \(program.sizeMultiple) by reflection")
        }
        return try program.inferShapes(height: ph, width: pw)
    }

    /// Runs the network on an image of any size, in pixel units: input values 0...255 (3 channels,
    /// CHW), output values (y + 1) / 2 * 255, not rounded or clamped. Sides are reflect-padded
    /// (bottom, right) to a multiple of `sizeMultiple` and the output is cropped back. The
    /// program's own encodings (folded or not) are handled here.
    /// `observe` sees every op's output (op index, value) on the padded frame, for calibration and
    /// per-layer comparisons.
    public func derain(pixels image: FloatTensor, parallel: ParallelRunner = .serial,
                       observe: (Int, FloatTensor) -> Void = { _, _ in }) throws(RuntimeError) -> FloatTensor {
        guard image.channels == 3 else {
            throw RuntimeError(.unsupportedInput, "the network takes 3 channels, got \(image.channels)")
        }
        let shapes = try paddedShapes(height: image.height, width: image.width)
        let ph = shapes[0].height, pw = shapes[0].width
        var input = image
        if !program.encoding.contains(.inputPixels) {
            // ToTensor + Normalize(0.5, 0.5): x / 255 * 2 - 1.
            for i in input.storage.indices { input.storage[i] = input.storage[i] / 255 * 2 - 1 }
        }
        if ph != image.height || pw != image.width {
            input = FloatReference.pad(input, mode: .reflect, top: 0, bottom: ph - image.height, left: 0, right: pw - image.width)
        }
        var out = try run(input, shapes: shapes, parallel: parallel, observe: observe)
        if ph != image.height || pw != image.width {
            out = FloatReference.crop(out, top: 0, bottom: ph - image.height, left: 0, right: pw - image.width)
        }
        if !program.encoding.contains(.outputPixels) {
            for i in out.storage.indices { out.storage[i] = (out.storage[i] + 1) / 2 * 255 }
        }
        return out
    }

    /// Runs the program on an input whose size the network accepts as it is.
    public func run(_ input: FloatTensor, parallel: ParallelRunner = .serial) throws(RuntimeError) -> FloatTensor {
        guard input.channels == 3 else {
            throw RuntimeError(.unsupportedInput, "the network takes 3 channels, got \(input.channels)")
        }
        let shapes = try program.inferShapes(height: input.height, width: input.width)
        return try run(input, shapes: shapes, parallel: parallel)
    }

    private func run(_ input: FloatTensor, shapes: [FeatureShape], parallel: ParallelRunner,
                     observe: (Int, FloatTensor) -> Void = { _, _ in }) throws(RuntimeError) -> FloatTensor {
        var values = [FloatTensor?](repeating: nil, count: program.valueCount)
        values[0] = input
        for (i, op) in program.ops.enumerated() {
            let x = values[op.input]!
            values[i + 1] = execute(op, index: i, x, values, outputShape: shapes[i + 1], parallel: parallel)
            observe(i, values[i + 1]!)
            // Release what no later op reads.
            if lastUse[op.input] == i { values[op.input] = nil }
            if op.secondInput >= 0 && lastUse[op.secondInput] == i { values[op.secondInput] = nil }
        }
        return values[program.ops.count]!
    }

    private func execute(_ op: ModelOp, index: Int, _ x: FloatTensor, _ values: [FloatTensor?],
                         outputShape: FeatureShape, parallel: ParallelRunner) -> FloatTensor {
        let tensors = program.tensors
        switch op.kind {
        case .pad:
            return FloatReference.pad(x, mode: op.padMode, top: op.top, bottom: op.bottom, left: op.left, right: op.right)
        case .crop:
            return FloatReference.crop(x, top: op.top, bottom: op.bottom, left: op.left, right: op.right)
        case .conv2d, .convTranspose2d:
            let residual = op.epilogue.contains(.residual) ? values[op.secondInput] : nil
            if let packed = packedWeights[index] {
                let y = Self.convolveTiled(FloatReference.pad(x, mode: op.padMode, all: op.padding), packed,
                                           outputShape: outputShape, parallel: parallel)
                return Self.applyEpilogue(y, op, residual: residual)
            }
            return Self.convolution(op, x, weight: tensors[op.weight], bias: op.bias >= 0 ? tensors[op.bias].values : [], residual: residual)
        case .depthwiseConv2d:
            let w = tensors[op.weight]
            return FloatReference.depthwiseConv2d(FloatReference.pad(x, mode: op.padMode, all: op.padding),
                                                  weight: w.values, kernel: w.dims[2], stride: op.stride)
        case .depthwiseConvTranspose2d:
            let w = tensors[op.weight]
            return FloatReference.depthwiseConvTranspose2d(x, weight: w.values, kernel: w.dims[2], stride: op.stride, padding: op.padding)
        case .instanceNorm:
            return FloatReference.instanceNorm(x, epsilon: op.epsilon)
        case .relu:
            return FloatReference.relu(x)
        case .tanh:
            return FloatReference.tanh(x)
        case .add:
            return FloatReference.add(x, values[op.secondInput]!)
        }
    }

    /// A convolution with its fused epilogue, by the reference kernels (the untiled path here,
    /// and the float layers of mixed programs). weight/bias: the op's float32 tensors.
    public static func convolution(_ op: ModelOp, _ x: FloatTensor, weight w: ModelTensor, bias: [Float], residual: FloatTensor?) -> FloatTensor {
        let y: FloatTensor
        if op.kind == .conv2d {
            y = FloatReference.conv2d(FloatReference.pad(x, mode: op.padMode, all: op.padding), weight: w.values, outputChannels: w.dims[0], kernel: w.dims[2], bias: bias, stride: op.stride, padding: 0)
        } else {
            y = FloatReference.convTranspose2d(x, weight: w.values, outputChannels: w.dims[1], kernel: w.dims[2], bias: bias,
                                               stride: op.stride, padding: op.padding, outputPadding: op.outputPadding)
        }
        return applyEpilogue(y, op, residual: residual)
    }

    /// A convolution's fused epilogue, in the order `Epilogue` defines.
    static func applyEpilogue(_ y: FloatTensor, _ op: ModelOp, residual: FloatTensor?) -> FloatTensor {
        var y = y
        if op.epilogue.contains(.instanceNorm) { y = FloatReference.instanceNorm(y, epsilon: op.epsilon) }
        if let residual { y = FloatReference.add(y, residual) }
        if op.epilogue.contains(.relu) { y = FloatReference.relu(y) }
        if op.epilogue.contains(.tanh) { y = FloatReference.tanh(y) }
        if op.epilogue.contains(.toPixels) {
            for i in y.storage.indices { y.storage[i] = (y.storage[i] + 1) / 2 * 255 }
        }
        return y
    }

    /// Tiled stride-1 convolution of an already padded input, split into (channel block, row band)
    /// tasks: enough tasks to keep every worker busy even when Cout is 3 (the last layer).
    public static func convolveTiled(_ src: FloatTensor, _ packed: PackedConvWeights, outputShape: FeatureShape,
                              parallel: ParallelRunner) -> FloatTensor {
        var out = FloatTensor(channels: outputShape.channels, height: outputShape.height, width: outputShape.width)
        let blocks = packed.blockCount
        let wanted = max(1, 4 * parallel.workerCount)
        let bands = max(1, min(outputShape.height, (wanted + blocks - 1) / blocks))
        let rowsPerBand = (outputShape.height + bands - 1) / bands
        src.storage.withUnsafeBufferPointer { input in
            packed.values.withUnsafeBufferPointer { weights in
                packed.bias.withUnsafeBufferPointer { bias in
                    out.storage.withUnsafeMutableBufferPointer { output in
                        parallel.run(taskCount: blocks * bands) { task in
                            let block = task / bands, band = task % bands
                            let start = band * rowsPerBand, end = min(outputShape.height, start + rowsPerBand)
                            if start >= end { return }
                            Conv2dF32S1Tile4x16.run(input: input.baseAddress!, inputHeight: src.height, inputWidth: src.width,
                                                    weights: packed, packed: weights.baseAddress!, bias: bias.baseAddress!,
                                                    block: block, rows: start..<end,
                                                    output: output.baseAddress!, outputHeight: outputShape.height,
                                                    outputWidth: outputShape.width)
                        }
                    }
                }
            }
        }
        return out
    }
}
