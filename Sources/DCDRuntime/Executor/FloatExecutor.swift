/// The optimized float32 executor: the float twin of `Int8Executor`. Interleaved float maps,
/// packed weights, the tiled `FloatConvolutionKernel`, fused epilogues (InstanceNorm, residual,
/// ReLU, tanh, pixels), threads through `ParallelRunner`, buffers planned per frame size.
///
/// It matches `FloatReferenceExecutor` within float rounding (tested: the sums are the same
/// terms in another order, and FMA rounds once where the reference rounds twice). Programs with
/// ops left unfused (a standalone InstanceNorm, ReLU, tanh or add) or per-channel depthwise
/// filters run on the reference executor; `referenceReason` says why.
public final class FloatExecutor {
    public let program: ModelProgram
    private let reference: FloatReferenceExecutor
    private let steps: [Step]
    public let referenceReason: String?
    public var usesReference: Bool { referenceReason != nil }
    public static var kernelName: String { FloatConvolutionKernel.name }
    private var frame: FramePlan?

    private enum Step {
        case pad(mode: PaddingMode, top: Int, left: Int)
        case crop(top: Int, left: Int)
        case blur(taps: [Float], kernel: Int, stride: Int, padding: Int, mode: PaddingMode)
        case blurTransposed(taps: [Float], kernel: Int, stride: Int, padding: Int)
        case convolution(op: ModelOp, packed: FloatPackedConvolution)
    }

    public init(program: ModelProgram) throws(RuntimeError) {
        reference = try FloatReferenceExecutor(program: program)
        self.program = program
        var steps: [Step] = []
        var reason: String?
        for (i, op) in program.ops.enumerated() {
            guard let step = Self.step(op, program) else {
                reason = "op \(i) (\(op.kind)) is outside the fused fast path"
                break
            }
            steps.append(step)
        }
        self.steps = reason == nil ? steps : []
        referenceReason = reason
    }

    deinit { frame?.release() }

    /// Frees the frame buffers the executor owns and forgets a host workspace (`prepare`), as
    /// `Int8Executor.releaseFrame`.
    public func releaseFrame() {
        frame?.release()
        frame = nil
    }

    private static func step(_ op: ModelOp, _ program: ModelProgram) -> Step? {
        switch op.kind {
        case .pad: return .pad(mode: op.padMode, top: op.top, left: op.left)
        case .crop: return .crop(top: op.top, left: op.left)
        case .depthwiseConv2d, .depthwiseConvTranspose2d:
            let w = program.tensors[op.weight]
            let k = w.dims[2], taps = Array(w.values[0..<(k * k)])
            for c in 1..<max(1, w.dims[0]) where Array(w.values[(c * k * k)..<((c + 1) * k * k)]) != taps { return nil }
            return op.kind == .depthwiseConv2d ? .blur(taps: taps, kernel: k, stride: op.stride, padding: op.padding, mode: op.padMode)
                                               : .blurTransposed(taps: taps, kernel: k, stride: op.stride, padding: op.padding)
        case .conv2d, .convTranspose2d:
            let w = program.tensors[op.weight]
            if op.kind == .convTranspose2d {
                guard op.padding <= w.dims[2] - 1 else { return nil }
            }
            return .convolution(op: op, packed: FloatPackedConvolution(weight: w, transposed: op.kind == .convTranspose2d, stride: op.stride,
                                                                      bias: op.bias >= 0 ? program.tensors[op.bias].values : []))
        case .instanceNorm, .relu, .add, .tanh:
            return nil
        }
    }

    private func paddedSize(_ n: Int) -> Int { program.paddedSize(n) }

    /// Working memory for a frame of this size (values, padded input, accumulators, statistics).
    public func workingBytes(height: Int, width: Int) throws(RuntimeError) -> Int {
        if usesReference { return try MemoryPlan.plan(program, height: paddedSize(height), width: paddedSize(width)).peakBytes }
        return try FramePlan.layout(program, steps: steps, height: paddedSize(height), width: paddedSize(width)).totalBytes
    }

    /// As `FloatReferenceExecutor.derain`: pixel units in (0...255, CHW), (y + 1) / 2 * 255 out,
    /// any accepted size (reflect-padded to the size multiple, cropped back).
    /// `opFinished` is called after each op with its index (a host can time the ops with it).
    public func derain(pixels image: FloatTensor, parallel: ParallelRunner = .serial,
                       opFinished: (Int) -> Void = { _ in }) throws(RuntimeError) -> FloatTensor {
        if usesReference { return try reference.derain(pixels: image, parallel: parallel) }
        guard image.channels == 3 else { throw RuntimeError(.unsupportedInput, "the network takes 3 channels, got \(image.channels)") }
        // Input: interleave with the reflect padding to the size multiple, in the program's
        // encoding (pixels, or x / 255 * 2 - 1).
        let toNetwork = !program.encoding.contains(.inputPixels)
        let out = try runFrame(height: image.height, width: image.width, parallel, opFinished) {
            InterleavedMapKernels.interleave(image, into: $0) { toNetwork ? $0 / 255 * 2 - 1 : $0 }
        }
        let toPixels = !program.encoding.contains(.outputPixels)
        let result: FloatTensor = InterleavedMapKernels.planar(out, height: image.height, width: image.width) {
            toPixels ? ($0 + 1) / 2 * 255 : $0
        }
        return result
    }


    /// One frame through the ops, its input written into the first map by `fill`; the last map,
    /// valid until the next run.
    func runFrame(height: Int, width: Int, _ parallel: ParallelRunner, _ opFinished: (Int) -> Void,
                  fill: (InterleavedMap<Float>) -> Void) throws(RuntimeError) -> InterleavedMap<Float> {
        let (ph, pw) = try program.paddedFrame(height: height, width: width)
        if frame?.height != ph || frame?.width != pw {
            frame?.release()
            frame = nil
            frame = try FramePlan.layout(program, steps: steps, height: ph, width: pw).allocate()
        }
        let f = frame!
        fill(f.map(0))
        for (i, step) in steps.enumerated() {
            run(step, program.ops[i], output: i + 1, f, parallel)
            opFinished(i)
        }
        return f.map(program.ops.count)
    }

    // MARK: Host-owned memory (the C API, firmware)

    /// Bytes of host memory a frame of this size needs (`prepare`), each buffer 64-byte aligned.
    public func workspaceBytes(height: Int, width: Int) throws(RuntimeError) -> Int {
        if usesReference { throw RuntimeError.referenceOwnsMemory(referenceReason!) }
        let (ph, pw) = try program.paddedFrame(height: height, width: width)
        return try FramePlan.layout(program, steps: steps, height: ph, width: pw).hostBytes
    }

    /// Plans frames of this size in host memory, as `Int8Executor.prepare`.
    public func prepare(height: Int, width: Int, workspace: UnsafeMutableRawPointer, byteCount: Int) throws(RuntimeError) {
        if usesReference { throw RuntimeError.referenceOwnsMemory(referenceReason!) }
        let (ph, pw) = try program.paddedFrame(height: height, width: width)
        let layout = try FramePlan.layout(program, steps: steps, height: ph, width: pw)
        guard byteCount >= layout.hostBytes else {
            throw RuntimeError(.unsupportedInput, "a \(width)x\(height) frame needs a workspace of \(layout.hostBytes) bytes, got \(byteCount)")
        }
        frame?.release()
        frame = layout.bound(to: workspace)
    }

    /// Derains a camera frame into `output` (same format and size) in the prepared workspace:
    /// 8-bit samples in; out, the network's pixels rounded half up and clamped to 0...255;
    /// `anchor`: through the `ColorAnchor` of that model fitted to the frame first (nothing
    /// allocated).
    public func derain(frame description: CameraFrame, pixels: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>,
                       parallel: ParallelRunner = .serial, anchor model: ColorAnchor.Fit? = nil) throws(RuntimeError) {
        guard description.isValid else { throw RuntimeError(.unsupportedInput, "invalid \(description.width)x\(description.height) frame description") }
        let (ph, pw) = try program.paddedFrame(height: description.height, width: description.width)
        guard let f = frame, !f.owned, f.height == ph, f.width == pw else {
            throw RuntimeError(.notPrepared, "no workspace prepared for \(description.width)x\(description.height) frames: call prepare first")
        }
        let toNetwork = !program.encoding.contains(.inputPixels), toPixels = !program.encoding.contains(.outputPixels)
        let out = try runFrame(height: description.height, width: description.width, parallel, { _ in }) {
            description.load(pixels, into: $0) { toNetwork ? Float($0) / 255 * 2 - 1 : Float($0) }
        }
        if let model {
            // The accumulators are dead once the frame has run: the fit's scratch costs no memory.
            let anchor = ColorAnchor.withScratch(in: f.accumulators, bytes: f.accumulatorCount * 4, width: description.width, height: description.height) {
                ColorAnchor.fit(FrameAnchorSamples(frame: description, pixels: pixels, map: out, networkRange: toPixels), model, scratch: $0)
            }
            description.store(out, into: output) { r, g, b in
                anchor.bytes(SIMD3(Float.pixel(r, networkRange: toPixels), Float.pixel(g, networkRange: toPixels), Float.pixel(b, networkRange: toPixels)))
            }
        } else {
            func byte(_ v: Float) -> UInt8 { pixelByte(Float.pixelValue(v, networkRange: toPixels)) }
            description.store(out, into: output) { r, g, b in (byte(r), byte(g), byte(b)) }
        }
    }

    private func run(_ step: Step, _ op: ModelOp, output v: Int, _ f: FramePlan, _ parallel: ParallelRunner) {
        let x = f.map(op.input), y = f.map(v)
        switch step {
        case let .pad(mode, top, left):
            parallel.runBands(0..<y.height) { InterleavedMapKernels.pad(x, into: y, mode: mode, top: top, left: left, zero: 0, rows: $0) { $0 } }
        case let .crop(top, left):
            parallel.runBands(0..<y.height) { InterleavedMapKernels.crop(x, into: y, top: top, left: left, rows: $0) }
        case let .blur(taps, k, stride, padding, mode):
            parallel.runBands(0..<y.height) {
                BlurGather.convolve(x, into: y, taps: taps, kernel: k, stride: stride, padding: padding, mode: mode, rows: $0) {
                    Self.weightedSum($0, $1, count: $2, channels: x.channelStride, into: $3)
                }
            }
        case let .blurTransposed(taps, k, stride, padding):
            parallel.runBands(0..<y.height) {
                BlurGather.convolveTransposed(x, into: y, taps: taps, kernel: k, stride: stride, padding: padding, rows: $0) {
                    Self.weightedSum($0, $1, count: $2, channels: x.channelStride, into: $3)
                }
            }
        case let .convolution(op, packed):
            convolve(op, packed, x, y, residual: op.secondInput >= 0 ? f.map(op.secondInput) : nil, f, parallel)
        }
    }

    /// One output pixel of a depthwise filter: sum of tap * source over all channels (padding
    /// channels are 0 in, so 0 out).
    @inline(__always)
    private static func weightedSum(_ sources: UnsafePointer<UnsafePointer<Float>>, _ taps: UnsafePointer<Float>, count: Int,
                                    channels: Int, into target: UnsafeMutablePointer<Float>) {
        var c = 0
        while c + 8 <= channels {
            var acc = SIMD8<Float>.zero
            for t in 0..<count { acc += UnsafeRawPointer(sources[t] + c).loadUnaligned(as: SIMD8<Float>.self) * taps[t] }
            UnsafeMutableRawPointer(target + c).storeBytes(of: acc, as: SIMD8<Float>.self)
            c += 8
        }
        while c < channels {
            var acc: Float = 0
            for t in 0..<count { acc += sources[t][c] * taps[t] }
            target[c] = acc
            c += 1
        }
    }

    private func convolve(_ op: ModelOp, _ packed: FloatPackedConvolution, _ x: InterleavedMap<Float>, _ y: InterleavedMap<Float>,
                          residual: InterleavedMap<Float>?, _ f: FramePlan, _ parallel: ParallelRunner) {
        let k = packed.kernel
        let padded = InterleavedMap<Float>(base: f.paddedInput!,
                                           shape: InterleavedMapKernels.convolutionInput(op, input: FeatureShape(channels: x.channels, height: x.height, width: x.width), kernel: k))
        if op.kind == .convTranspose2d {
            parallel.runBands(0..<padded.height) { InterleavedMapKernels.dilate(x, into: padded, stride: op.stride, lead: k - 1 - op.padding, zero: 0, rows: $0) { $0 } }
        } else {
            parallel.runBands(0..<padded.height) {
                InterleavedMapKernels.pad(x, into: padded, mode: op.padMode, top: op.padding, left: op.padding, zero: 0, rows: $0) { $0 }
            }
        }
        let sums: UnsafeMutablePointer<Float> = f.accumulators
        // Tasks: groups of the kernel's blockTile channel blocks x row bands.
        let chunk = FloatConvolutionKernel.blockTile
        let chunks = (packed.blocks + chunk - 1) / chunk
        let bandCount = parallel.bandCount(rows: y.height, groups: chunks)
        packed.weights.withUnsafeBufferPointer { w in
            packed.initial.withUnsafeBufferPointer { initial in
                parallel.run(taskCount: chunks * bandCount) { task in
                    let b = task % chunks, band = task / chunks
                    FloatConvolution.accumulate(padded, packed, weights: w.baseAddress!, initial: initial.baseAddress!, outputWidth: y.width,
                                                rows: ParallelRunner.band(band, of: bandCount, 0..<y.height),
                                                blocks: (b * chunk)..<min(packed.blocks, (b + 1) * chunk), into: sums)
                }
            }
        }
        // Epilogue: InstanceNorm statistics in Double, as the reference (two passes: mean, then
        // the centred sum of squares), per band and then summed.
        let pixelStride = packed.blocks * 16, channels = y.channels, n = y.height * y.width
        let normalizes = op.epilogue.contains(.instanceNorm)
        let mean: UnsafeMutablePointer<Double> = f.statistics, scale = mean + channels
        let partial = mean + 2 * channels
        let bandTotal = parallel.bandCount(rows: y.height)
        func rowsOf(_ t: Int) -> Range<Int> { ParallelRunner.band(t, of: bandTotal, 0..<y.height) }
        if normalizes {
            for pass in 0..<2 {
                parallel.run(taskCount: bandTotal) { t in
                    Self.statistics(sums, pixelStride: pixelStride, width: y.width, rows: rowsOf(t), channels: channels,
                                    mean: pass == 0 ? nil : UnsafePointer(mean), into: partial + t * channels)
                }
                for c in 0..<channels {
                    var s = 0.0
                    for t in 0..<bandTotal { s += partial[t * channels + c] }
                    if pass == 0 { mean[c] = s / Double(n) } else { scale[c] = 1 / (s / Double(n) + Double(op.epsilon)).squareRoot() }
                }
            }
        }
        let relu = op.epilogue.contains(.relu), tanh = op.epilogue.contains(.tanh), toPixels = op.epilogue.contains(.toPixels)
        // Float constants of the normalization: (a - mean) * scale in Float differs from the
        // reference's Double arithmetic by a rounding of the result (relative 2^-24 or so).
        let shift: UnsafeMutablePointer<Float> = f.floatConstants, gain = shift + channels
        for c in 0..<channels {
            shift[c] = normalizes ? Float(mean[c]) : 0
            gain[c] = normalizes ? Float(scale[c]) : 1
        }
        let vectorChannels = tanh ? 0 : channels / 8 * 8
        parallel.runBands(0..<y.height) { rows in
            for oy in rows {
                for ox in 0..<y.width {
                    let a = sums + (oy * y.width + ox) * pixelStride, target = y.pixel(oy, ox)
                    let r = residual?.pixel(oy, ox)
                    var c = 0
                    while c < vectorChannels {
                        func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { UnsafeRawPointer(p + c).loadUnaligned(as: SIMD8<Float>.self) }
                        var v = (load(a) - load(shift)) * load(gain)
                        if let r { v += load(r) }
                        if relu { v.replace(with: 0, where: v .< 0) }
                        if toPixels { v = (v + 1) / 2 * 255 }
                        UnsafeMutableRawPointer(target + c).storeBytes(of: v, as: SIMD8<Float>.self)
                        c += 8
                    }
                    while c < channels {
                        var v = (a[c] - shift[c]) * gain[c]
                        if let r { v += r[c] }
                        if relu && v < 0 { v = 0 }
                        if tanh { v = ElementaryFunctions.tanh(v) }
                        if toPixels { v = (v + 1) / 2 * 255 }
                        target[c] = v
                        c += 1
                    }
                    for c in channels..<y.channelStride { target[c] = 0 }
                }
            }
        }
    }

    /// InstanceNorm statistics of a band of rows, in Double as the reference: per channel the
    /// sum (mean == nil) or the centred sum of squares, 8 channels at a time.
    private static func statistics(_ sums: UnsafePointer<Float>, pixelStride: Int, width: Int, rows: Range<Int>, channels: Int,
                                   mean: UnsafePointer<Double>?, into p: UnsafeMutablePointer<Double>) {
        for c in 0..<channels { p[c] = 0 }
        let vectors = channels / 8
        withUnsafeTemporaryAllocation(of: SIMD8<Double>.self, capacity: max(1, 2 * vectors)) { k in
            for v in 0..<vectors {
                k[2 * v] = .zero
                k[2 * v + 1] = mean.map { m in SIMD8<Double>(lanes: { m[8 * v + $0] }) } ?? .zero
            }
            for oy in rows {
                for ox in 0..<width {
                    let a = sums + (oy * width + ox) * pixelStride
                    for v in 0..<vectors {
                        let x = SIMD8<Double>(UnsafeRawPointer(a + 8 * v).loadUnaligned(as: SIMD8<Float>.self))
                        if mean == nil { k[2 * v] += x } else { let d = x - k[2 * v + 1]; k[2 * v] += d * d }
                    }
                    for c in (8 * vectors)..<channels {
                        if let mean { let d = Double(a[c]) - mean[c]; p[c] += d * d } else { p[c] += Double(a[c]) }
                    }
                }
            }
            for v in 0..<vectors { for j in 0..<8 { p[8 * v + j] = k[2 * v][j] } }
        }
    }

    /// The buffers of one frame size, as `Int8Executor`'s (Float elements).
    private struct FramePlan {
        var height: Int, width: Int
        var shapes: [FeatureShape]
        var offsets: [Int]
        var arenaCount: Int, paddedCount: Int, accumulatorCount: Int, statisticsCount: Int, channelCount: Int
        /// False when the buffers are carved from host memory (`bound(to:)`): never freed here.
        var owned = true
        var arena: UnsafeMutablePointer<Float>! = nil
        var paddedInput: UnsafeMutablePointer<Float>! = nil
        var accumulators: UnsafeMutablePointer<Float>! = nil
        var statistics: UnsafeMutablePointer<Double>! = nil
        /// Per channel: the normalization's shift and gain in Float.
        var floatConstants: UnsafeMutablePointer<Float>! = nil

        var totalBytes: Int { (arenaCount + paddedCount + accumulatorCount + 2 * channelCount) * 4 + statisticsCount * 8 }

        static func layout(_ program: ModelProgram, steps: [Step], height: Int, width: Int) throws(RuntimeError) -> FramePlan {
            let shapes = try program.inferShapes(height: height, width: width)
            let sizes = shapes.map { (InterleavedByteMap.byteCount($0) + 15) / 16 * 16 }
            let (offsets, arena) = MemoryPlan.place(sizes: sizes, program: program)
            var padded = 0, accumulators = 0, channels = 0
            for (i, op) in program.ops.enumerated() {
                guard case let .convolution(_, packed) = steps[i] else { continue }
                padded = max(padded, InterleavedByteMap.byteCount(InterleavedMapKernels.convolutionInput(op, input: shapes[op.input], kernel: packed.kernel)))
                accumulators = max(accumulators, shapes[i + 1].height * shapes[i + 1].width * packed.blocks * 16)
                channels = max(channels, shapes[i + 1].channels)
            }
            // Statistics: mean and scale per channel, and per-band partial sums.
            // The few-output-channel kernel may read a chunk past the map (`RowDotLayout.slack`).
            return FramePlan(height: height, width: width, shapes: shapes, offsets: offsets, arenaCount: arena, paddedCount: padded + RowDotLayout.slack,
                             accumulatorCount: accumulators, statisticsCount: channels * (2 + ParallelRunner.maximumBands), channelCount: channels)
        }

        /// Bytes of host memory `bound(to:)` carves the buffers from.
        var hostBytes: Int { WorkspaceCarver.totalBytes([arenaCount * 4, paddedCount * 4, accumulatorCount * 4, statisticsCount * 8, 2 * channelCount * 4]) }

        /// This plan's buffers carved from `memory` (64-byte aligned, `hostBytes` long).
        func bound(to memory: UnsafeMutableRawPointer) -> FramePlan {
            var f = self, carver = WorkspaceCarver(memory)
            f.owned = false
            f.arena = carver.take(arenaCount, as: Float.self)
            f.paddedInput = carver.take(paddedCount, as: Float.self)
            f.accumulators = carver.take(accumulatorCount, as: Float.self)
            f.statistics = carver.take(statisticsCount, as: Double.self)
            f.floatConstants = carver.take(2 * channelCount, as: Float.self)
            return f
        }

        func allocate() -> FramePlan {
            var f = self
            f.arena = .allocate(initialized: arenaCount, to: 0)
            f.paddedInput = .allocate(initialized: paddedCount, to: 0)
            f.accumulators = .allocate(initialized: accumulatorCount, to: 0)
            f.statistics = .allocate(initialized: statisticsCount, to: 0)
            f.floatConstants = .allocate(initialized: 2 * channelCount, to: 0)
            return f
        }

        func release() {
            guard owned else { return }
            arena?.deallocate(); paddedInput?.deallocate(); accumulators?.deallocate(); statistics?.deallocate(); floatConstants?.deallocate()
        }

        func map(_ value: Int) -> InterleavedMap<Float> { InterleavedMap(base: arena! + offsets[value], shape: shapes[value]) }
    }
}
