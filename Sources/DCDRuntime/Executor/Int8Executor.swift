/// The optimized int8 executor: interleaved 8-bit activations, packed weights, the tiled
/// convolution kernel (`Int8ConvolutionKernel`), threads through `ParallelRunner`, every buffer
/// planned per frame size and reused from frame to frame.
///
/// Its output equals `Int8ReferenceExecutor`'s bit for bit (tested): the same integer
/// arithmetic, only reordered where the order cannot matter (integer sums). Programs the fast
/// path does not cover (16-bit or float layers of mixed programs, blur filters that are not
/// weighted means, accumulators that could leave int32) run on the reference executor, and
/// `usesReference` says so.
public final class Int8Executor {
    public let program: ModelProgram
    private let reference: Int8ReferenceExecutor
    let steps: [Step]
    /// Bytes of all packed weights (for memory plans).
    let packedBytes: Int
    /// Why the fast path is not used (nil when it is).
    public let referenceReason: String?
    public var usesReference: Bool { referenceReason != nil }
    /// The convolution kernel this build uses: "avx512-vnni", "avx2" or "portable".
    public static var kernelName: String { Int8ConvolutionKernel.name }
    private var frame: FramePlan?

    enum Step {
        case pad(mode: PaddingMode, top: Int, left: Int, zero: UInt8)
        case crop(top: Int, left: Int)
        case blur(Int8BlurTaps, stride: Int, padding: Int, mode: PaddingMode)
        case blurTransposed(Int8BlurTaps, stride: Int, padding: Int)
        case convolution(Convolution)
    }

    struct Convolution {
        var op: ModelOp
        var packed: Int8PackedConvolution
        var zIn: UInt8
        var zOut: Int64, low: Int64, high: Int64
        // Mode 0.
        var multipliers: [Int64] = [], shifts: [Int] = [], table: [UInt8] = []
        // Mode 1.
        var normalizes: Bool = false
        var epsilon: [Int64] = [], p: Int64 = 0, pk: Int = 0
        var residualZero: Int64 = 0, residualMultiplier: Int64 = 0, residualShift: Int = 1
    }

    public init(program: ModelProgram) throws(RuntimeError) {
        reference = try Int8ReferenceExecutor(program: program)
        self.program = program
        var steps: [Step] = []
        var reason: String?
        for (i, op) in program.ops.enumerated() {
            guard let step = Self.step(op, program) else {
                reason = "op \(i) (\(op.kind)) is outside the 8-bit fast path"
                break
            }
            steps.append(step)
        }
        self.steps = reason == nil ? steps : []
        referenceReason = reason
        packedBytes = self.steps.reduce(0) {
            guard case let .convolution(c) = $1 else { return $0 }
            return $0 + c.packed.weights.count * MemoryLayout<Int8ConvolutionKernel.Weight>.stride + c.packed.initial.count * 4
        }
    }

    deinit { frame?.release() }

    /// Frees the frame buffers the executor owns and forgets a host workspace (`prepare`), which
    /// the host may then free; the next run plans and allocates again.
    public func releaseFrame() {
        frame?.release()
        frame = nil
    }

    /// The fast-path form of an op, or nil when only the reference can run it.
    private static func step(_ op: ModelOp, _ program: ModelProgram) -> Step? {
        typealias P = Int8OpParameters
        let p = op.parameters >= 0 ? program.tensors[op.parameters].integers : []
        func byte(_ v: Int32) -> UInt8? { v >= 0 && v <= 255 ? UInt8(v) : nil }
        switch op.kind {
        case .pad:
            guard let zero = op.padMode == .zero ? byte(p[0]) : 0 else { return nil }
            return .pad(mode: op.padMode, top: op.top, left: op.left, zero: zero)
        case .crop:
            return .crop(top: op.top, left: op.left)
        case .depthwiseConv2d:
            guard let taps = Int8BlurTaps(weight: program.tensors[op.weight], shift: Int(p[0]), transposedStride: nil) else { return nil }
            return .blur(taps, stride: op.stride, padding: op.padding, mode: op.padMode)
        case .depthwiseConvTranspose2d:
            guard let taps = Int8BlurTaps(weight: program.tensors[op.weight], shift: Int(p[0]), transposedStride: op.stride) else { return nil }
            return .blurTransposed(taps, stride: op.stride, padding: op.padding)
        case .conv2d, .convTranspose2d:
            // Outputs are bytes: codes up to 255, or table entries (bytes, checked at load).
            let hasTable = p[P.mode] == 0 && p[P.tableLength] > 0
            guard p[P.mode] != 2, let zIn = byte(p[P.zIn]), hasTable || p[P.high] <= 255 else { return nil }
            let w = program.tensors[op.weight]
            let transposed = op.kind == .convTranspose2d
            let k = w.dims[2]
            if transposed {
                guard op.padding <= k - 1, op.outputPadding < op.stride + k else { return nil }
            }
            let bias = op.bias >= 0 ? program.tensors[op.bias].integers : []
            // int32 accumulators: |sum w (q - zIn)| + |bias| <= terms * 127 * 255 + |bias| < 2^31.
            let terms = Int64(transposed ? w.dims[0] : w.dims[1]) * Int64(k * k)
            let largestBias = bias.map { Int64($0).magnitude }.max() ?? 0
            guard terms * 127 * 255 + Int64(largestBias) < Int64(Int32.max) else { return nil }
            let normalizes = p[P.mode] == 1
            let packed = Int8PackedConvolution(weight: w, transposed: transposed, stride: op.stride,
                                               bias: normalizes ? [] : bias, zIn: Int32(zIn))
            var c = Convolution(op: op, packed: packed, zIn: zIn, zOut: Int64(p[P.zOut]), low: Int64(p[P.low]), high: Int64(p[P.high]))
            let cout = packed.outputChannels
            if normalizes {
                c.normalizes = true
                c.epsilon = (0..<cout).map { P.epsilon(p, channel: $0) }
                c.p = Int64(p[P.normP])
                c.pk = Int(p[P.normPk])
                if op.epilogue.contains(.residual) {
                    c.residualZero = Int64(p[P.residualZero])
                    c.residualMultiplier = Int64(p[P.residualMultiplier])
                    c.residualShift = Int(p[P.residualShift])
                }
            } else {
                c.multipliers = (0..<cout).map { Int64(p[P.requantizationStart + $0]) }
                c.shifts = (0..<cout).map { Int(p[P.requantizationStart + cout + $0]) }
                let length = Int(p[P.tableLength])
                c.table = (0..<length).map { UInt8(p[P.requantizationStart + 2 * cout + $0]) }
            }
            return .convolution(c)
        case .instanceNorm, .relu, .add, .tanh:
            return nil
        }
    }

    /// Working memory for a frame of this size (the padded size is planned): the value arena,
    /// the padded-input and accumulator scratch, and the statistics. The weights (packed once at
    /// load) are not included.
    /// `banded`: as planned for tiles, whose InstanceNorm statistics are given (accumulators a
    /// band of rows at a time).
    public func workingBytes(height: Int, width: Int, banded: Bool = false) throws(RuntimeError) -> Int {
        if usesReference { return try MemoryPlan.plan(program, height: paddedSize(height), width: paddedSize(width)).peakBytes }
        return try FramePlan.layout(program, steps: steps, height: paddedSize(height), width: paddedSize(width), banded: banded).totalBytes
    }

    func paddedSize(_ n: Int) -> Int { program.paddedSize(n) }

    /// Derains 8-bit pixels (3 channels, CHW) of any accepted size: sides are reflect-padded
    /// (bottom, right) to the size multiple and the output is cropped back, as the reference does.
    /// `opFinished` is called after each op with its index (a host can time the ops with it).
    public func derain(pixels image: ByteTensor, parallel: ParallelRunner = .serial,
                       opFinished: (Int) -> Void = { _ in }) throws(RuntimeError) -> ByteTensor {
        if usesReference { return try reference.derain(pixels: image) }
        return try runFrame(image, parallel, RunControl(), opFinished)!
    }

    /// The InstanceNorm statistics one frame was normalised with: every InstanceNorm op's
    /// channels, for a frame of `height` x `width` (the padded size). Video-rate mode runs
    /// later frames of the same size with them (`derain(pixels:parallel:reusing:)`).
    public struct FrameStatistics: Sendable {
        public let height: Int, width: Int
        let channels: [Int: [InstanceNormChannel]]
    }

    /// Derains with the InstanceNorm statistics of an earlier frame (`reusing`), skipping this
    /// frame's statistics passes and accumulating a band of rows at a time; or, when `reusing`
    /// is nil or from a frame of another size, with the frame's own statistics, which it
    /// returns for later frames. With a frame's own statistics the output is `derain`'s.
    public func derain(pixels image: ByteTensor, parallel: ParallelRunner = .serial,
                       reusing statistics: FrameStatistics?) throws(RuntimeError) -> (ByteTensor, FrameStatistics?) {
        if usesReference { return (try reference.derain(pixels: image), nil) }
        let ph = paddedSize(image.height), pw = paddedSize(image.width)
        if let statistics, statistics.height == ph, statistics.width == pw {
            return (try runFrame(image, parallel, RunControl(fixed: statistics.channels, banded: true))!, statistics)
        }
        var observed: [Int: [InstanceNormChannel]] = [:]
        let out = try runFrame(image, parallel, RunControl(observe: { observed[$0] = $1 }))!
        return (out, FrameStatistics(height: ph, width: pw, channels: observed))
    }

    /// How a run obtains InstanceNorm statistics, for tiled execution (`Int8TiledExecution`):
    /// `fixed` gives an op's channels instead of the plane's own; `observe` sees the channels
    /// each InstanceNorm op computed; `stopAfter` ends the run once that op has accumulated and
    /// hands its accumulators to `inspect`.
    struct RunControl {
        var fixed: [Int: [InstanceNormChannel]] = [:]
        var observe: ((Int, [InstanceNormChannel]) -> Void)?
        var stopAfter: Int?
        var inspect: ((Int8AccumulatorRows, Range<Int>, FeatureShape) -> Void)?
        /// Accumulate and finish convolutions a band of rows at a time (`FramePlan.bandRows`):
        /// allowed when every InstanceNorm op of the run has `fixed` statistics or is
        /// `stopAfter`; the accumulator buffer then holds a band instead of a plane.
        var banded = false
    }

    /// One frame through the ops; nil when `control.stopAfter` ended the run early.
    func runFrame(_ image: ByteTensor, _ parallel: ParallelRunner, _ control: RunControl,
                  _ opFinished: (Int) -> Void = { _ in }) throws(RuntimeError) -> ByteTensor? {
        guard image.channels == 3 else { throw RuntimeError(.unsupportedInput, "the network takes 3 channels, got \(image.channels)") }
        // Input: interleave with the reflect padding of the image to the size multiple.
        guard let out = try runFrame(height: image.height, width: image.width, parallel, control, opFinished, fill: {
            InterleavedMapKernels.interleave(image, into: $0) { $0 }
        }) else { return nil }
        let result: ByteTensor = InterleavedMapKernels.planar(out, height: image.height, width: image.width) { $0 }
        return result
    }


    /// One frame through the ops, its input written into the first map by `fill`; the last map
    /// (valid until the next run), or nil when `control.stopAfter` ended the run early.
    func runFrame(height: Int, width: Int, _ parallel: ParallelRunner, _ control: RunControl, _ opFinished: (Int) -> Void,
                  fill: (InterleavedByteMap) -> Void) throws(RuntimeError) -> InterleavedByteMap? {
        let (ph, pw) = try program.paddedFrame(height: height, width: width)
        if frame?.height != ph || frame?.width != pw || (frame?.bandRows ?? 0 > 0) != control.banded {
            // A host's workspace serves the size it was prepared for; other sizes get their own.
            if let old = frame, !old.owned { frame = nil }
            let layout = try FramePlan.layout(program, steps: steps, height: ph, width: pw, banded: control.banded)
            // A smaller frame (the edge tiles of a tiled run) reuses the buffers it fits in.
            if let old = frame, let reused = layout.reusing(old) {
                frame = reused
            } else {
                frame?.release()
                frame = nil
                frame = layout.allocate()
            }
        }
        let f = frame!
        fill(f.map(0))
        for (i, step) in steps.enumerated() {
            if !run(step, index: i, program.ops[i], output: i + 1, f, parallel, control) { return nil }
            opFinished(i)
        }
        return f.map(program.ops.count)
    }

    // MARK: Host-owned memory (the C API, firmware)

    /// Bytes of host memory a frame of this size needs (`prepare`): every buffer of a run, each
    /// 64-byte aligned; the packed weights (allocated at load) are not included.
    public func workspaceBytes(height: Int, width: Int) throws(RuntimeError) -> Int {
        if usesReference { throw RuntimeError.referenceOwnsMemory(referenceReason!) }
        let (ph, pw) = try program.paddedFrame(height: height, width: width)
        return try FramePlan.layout(program, steps: steps, height: ph, width: pw).hostBytes
    }

    /// Plans frames of this size in `workspace` (host memory of at least `workspaceBytes`,
    /// owned by the host and kept until another `prepare` or the executor's end). After this,
    /// `derain(frame:...)` of that size allocates nothing.
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

    /// Derains a camera frame (`pixels`, as `frame` describes) into `output` (same format and
    /// size), in the workspace `prepare` set up for this size; `anchor`: the output through the
    /// `ColorAnchor` of that model fitted to the frame (nothing allocated).
    public func derain(frame description: CameraFrame, pixels: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>,
                       parallel: ParallelRunner = .serial, anchor model: ColorAnchor.Fit? = nil) throws(RuntimeError) {
        guard description.isValid else { throw RuntimeError(.unsupportedInput, "invalid \(description.width)x\(description.height) frame description") }
        let (ph, pw) = try program.paddedFrame(height: description.height, width: description.width)
        guard let f = frame, !f.owned, f.height == ph, f.width == pw, f.bandRows == 0 else {
            throw RuntimeError(.notPrepared, "no workspace prepared for \(description.width)x\(description.height) frames: call prepare first")
        }
        let out = try runFrame(height: description.height, width: description.width, parallel, RunControl(), { _ in }, fill: {
            description.load(pixels, into: $0) { $0 }
        })!
        if let model {
            // The accumulators are dead once the frame has run: the fit's scratch costs no memory.
            let anchor = ColorAnchor.withScratch(in: f.accumulators, bytes: f.accumulatorCount * 4, width: description.width, height: description.height) {
                ColorAnchor.fit(FrameAnchorSamples(frame: description, pixels: pixels, map: out, networkRange: false), model, scratch: $0)
            }
            description.store(out, into: output) { r, g, b in anchor.bytes(SIMD3(Double(r), Double(g), Double(b))) }
        } else {
            description.store(out, into: output) { r, g, b in (r, g, b) }
        }
    }

    /// Runs one op; false when the control stopped the run after it.
    private func run(_ step: Step, index: Int, _ op: ModelOp, output v: Int, _ f: FramePlan, _ parallel: ParallelRunner,
                     _ control: RunControl) -> Bool {
        let x = f.map(op.input), y = f.map(v)
        switch step {
        case let .pad(mode, top, left, zero):
            parallel.runBands(0..<y.height) { InterleavedMapKernels.pad(x, into: y, mode: mode, top: top, left: left, zero: zero, rows: $0) { $0 } }
        case let .crop(top, left):
            parallel.runBands(0..<y.height) { InterleavedMapKernels.crop(x, into: y, top: top, left: left, rows: $0) }
        case let .blur(taps, stride, padding, mode):
            parallel.runBands(0..<y.height) { Int8Blur.convolve(x, into: y, taps, stride: stride, padding: padding, mode: mode, rows: $0) }
        case let .blurTransposed(taps, stride, padding):
            parallel.runBands(0..<y.height) { Int8Blur.convolveTransposed(x, into: y, taps, stride: stride, padding: padding, rows: $0) }
        case let .convolution(c):
            return convolve(c, index: index, x, y, residual: op.secondInput >= 0 ? f.map(op.secondInput) : nil, f, parallel, control)
        }
        return true
    }

    private func convolve(_ c: Convolution, index: Int, _ x: InterleavedByteMap, _ y: InterleavedByteMap, residual: InterleavedByteMap?,
                          _ f: FramePlan, _ parallel: ParallelRunner, _ control: RunControl) -> Bool {
        let op = c.op, k = c.packed.kernel
        // 1. The kernel's input: the padded (or zero-inserted) copy, in the element type the
        //    kernel reads (bytes, or int16 for AVX2).
        typealias Input = Int8ConvolutionKernel.Input
        let padded = InterleavedMap<Input>(
            base: f.paddedInput!, shape: InterleavedMapKernels.convolutionInput(op, input: FeatureShape(channels: x.channels, height: x.height, width: x.width), kernel: k))
        if op.kind == .convTranspose2d {
            parallel.runBands(0..<padded.height) {
                InterleavedMapKernels.dilate(x, into: padded, stride: op.stride, lead: k - 1 - op.padding, zero: Int8ConvolutionKernel.input(c.zIn), rows: $0) { Int8ConvolutionKernel.input($0) }
            }
        } else {
            parallel.runBands(0..<padded.height) {
                InterleavedMapKernels.pad(x, into: padded, mode: op.padMode, top: op.padding, left: op.padding, zero: Int8ConvolutionKernel.input(c.zIn), rows: $0) { Int8ConvolutionKernel.input($0) }
            }
        }
        // 2. Accumulators and 3. the epilogue, band by band when the frame was planned with
        //    banded accumulators (every InstanceNorm of the run has given statistics), else
        //    over the whole plane (a plane's own statistics need all of its accumulators).
        let packed = c.packed
        let chunk = Int8ConvolutionKernel.blockTile
        let chunks = (packed.blocks + chunk - 1) / chunk
        let accumulators: UnsafeMutablePointer<Int32> = f.accumulators
        let channels = y.channels
        let norms: UnsafeMutablePointer<InstanceNormChannel> = f.norms
        let normBuffer = UnsafeBufferPointer(start: UnsafePointer(norms), count: channels)
        let ownStatistics = c.normalizes && control.fixed[index] == nil && control.stopAfter != index
        precondition(!ownStatistics || f.bandRows == 0, "banded accumulators with a plane's own statistics")
        if let fixed = control.fixed[index] {
            for ch in 0..<channels { norms[ch] = fixed[ch] }
        }
        let bandRows = f.bandRows > 0 ? f.bandRows : y.height
        let src = padded
        let partial: UnsafeMutablePointer<Int64> = f.statistics
        for start in stride(from: 0, to: y.height, by: bandRows) {
            let band = start..<min(y.height, start + bandRows)
            // Row parts per channel group; at most `maximumBands`, the statistics' band slots.
            let parts = min(parallel.bandCount(rows: band.count, groups: chunks), ParallelRunner.maximumBands)
            let acc = Int8AccumulatorRows(base: UnsafePointer(accumulators), width: y.width, pixelStride: packed.blocks * 16,
                                          firstRow: band.lowerBound)
            packed.weights.withUnsafeBufferPointer { w in
                packed.initial.withUnsafeBufferPointer { initial in
                    parallel.run(taskCount: chunks * parts) { task in
                        let b = task % chunks, part = task / chunks
                        let rows = ParallelRunner.band(part, of: parts, band)
                        let blocks = (b * chunk)..<min(packed.blocks, (b + 1) * chunk)
                        Int8Convolution.accumulate(src, packed, weights: w.baseAddress!, initial: initial.baseAddress!, outputWidth: y.width,
                                                   rows: rows, blocks: blocks, into: accumulators, firstRow: band.lowerBound)
                        // The plane's sums and extremes while these accumulators are in cache.
                        if ownStatistics {
                            Int8ConvolutionEpilogue.statistics(acc, rows: rows, channels: min(channels, blocks.lowerBound * 16)..<min(channels, blocks.upperBound * 16),
                                                               channelCount: channels, into: partial + 3 * channels * part)
                        }
                    }
                }
            }
            if control.stopAfter == index {
                control.inspect?(acc, band, y.shape)
            } else if !c.normalizes {
                parallel.runBands(band) {
                    Int8ConvolutionEpilogue.requantize(acc, rows: $0, into: y, zOut: c.zOut, low: c.low, high: c.high,
                                                       multipliers: c.multipliers, shifts: c.shifts, table: c.table)
                }
            } else {
                if ownStatistics {
                    planeStatistics(c, acc, y, norms, bands: parts, f, parallel)
                    control.observe?(index, Array(normBuffer))
                }
                parallel.runBands(band) {
                    Int8ConvolutionEpilogue.normalize(acc, rows: $0, normBuffer, residual: residual, residualZero: c.residualZero,
                                                      residualMultiplier: c.residualMultiplier, residualShift: c.residualShift,
                                                      zOut: c.zOut, low: c.low, high: c.high, into: y)
                }
            }
        }
        return control.stopAfter != index
    }

    /// The InstanceNorm channels of a whole output plane, from the sums and extremes the
    /// convolution's tasks left per row band (`bands` slots of `f.statistics`), then the squares
    /// per band in parallel; combined in order (integers: any order gives the same result).
    private func planeStatistics(_ c: Convolution, _ acc: Int8AccumulatorRows, _ y: InterleavedByteMap,
                                 _ norms: UnsafeMutablePointer<InstanceNormChannel>, bands: Int, _ f: FramePlan, _ parallel: ParallelRunner) {
        let channels = y.channels, n = y.height * y.width
        let partial: UnsafeMutablePointer<Int64> = f.statistics
        for ch in 0..<channels {
            var sum: Int64 = 0, low = Int64.max, high = Int64.min
            for t in 0..<bands {
                let s = partial + 3 * channels * t
                sum += s[ch]; low = min(low, s[channels + ch]); high = max(high, s[2 * channels + ch])
            }
            norms[ch] = InstanceNormChannel(count: n, sum: sum, minimum: low, maximum: high)
        }
        let bandTotal = parallel.bandCount(rows: y.height)
        let normBuffer = UnsafeBufferPointer(start: UnsafePointer(norms), count: channels)
        parallel.run(taskCount: bandTotal) { t in
            Int8ConvolutionEpilogue.squares(acc, rows: ParallelRunner.band(t, of: bandTotal, 0..<y.height),
                                            normBuffer, into: partial + channels * t)
        }
        for ch in 0..<channels {
            var s2: Int64 = 0
            for t in 0..<bandTotal { s2 += partial[channels * t + ch] }
            norms[ch].setGain(sumOfSquares: s2, count: n, epsilon: c.epsilon[ch], p: c.p, pk: c.pk)
        }
    }

    /// The buffers of one frame size: one arena for all values (placed by `MemoryPlan.place`),
    /// the padded-input scratch, the int32 accumulators, the InstanceNorm statistics. Allocated
    /// once when the size changes; nothing is allocated per frame.
    private struct FramePlan {
        var height: Int, width: Int
        var shapes: [FeatureShape]
        var offsets: [Int]
        var arenaBytes: Int, paddedCount: Int, accumulatorCount: Int, statisticsCount: Int, channelCount: Int
        /// Rows of accumulators held at once (0: whole planes).
        var bandRows: Int
        /// False when the buffers are carved from host memory (`bound(to:)`): never freed here.
        var owned = true
        var arena: UnsafeMutablePointer<UInt8>! = nil
        /// The convolution kernel's padded input (`Int8ConvolutionKernel.Input` elements).
        var paddedInput: UnsafeMutablePointer<Int8ConvolutionKernel.Input>! = nil
        var accumulators: UnsafeMutablePointer<Int32>! = nil
        var statistics: UnsafeMutablePointer<Int64>! = nil
        var norms: UnsafeMutablePointer<InstanceNormChannel>! = nil


        var totalBytes: Int { arenaBytes + paddedCount * MemoryLayout<Int8ConvolutionKernel.Input>.stride + accumulatorCount * 4 + statisticsCount * 8 + channelCount * MemoryLayout<InstanceNormChannel>.stride }

        /// Accumulator rows per band in banded frames: enough rows to split over the workers.
        static let bandRowCount = 16

        static func layout(_ program: ModelProgram, steps: [Step], height: Int, width: Int, banded: Bool = false) throws(RuntimeError) -> FramePlan {
            let shapes = try program.inferShapes(height: height, width: width)
            // 64-byte aligned values.
            let sizes = shapes.map { (InterleavedByteMap.byteCount($0) + 63) / 64 * 64 }
            let (offsets, arena) = MemoryPlan.place(sizes: sizes, program: program)
            var padded = 0, accumulators = 0, channels = 0
            for (i, op) in program.ops.enumerated() {
                guard case let .convolution(c) = steps[i] else { continue }
                let input = shapes[op.input], out = shapes[i + 1]
                padded = max(padded, InterleavedByteMap.byteCount(InterleavedMapKernels.convolutionInput(op, input: input, kernel: c.packed.kernel)))
                accumulators = max(accumulators, (banded ? min(out.height, bandRowCount) : out.height) * out.width * c.packed.blocks * 16)
                channels = max(channels, out.channels)
            }
            // The few-output-channel kernel may read a chunk past the map (`RowDotLayout.slack`).
            return FramePlan(height: height, width: width, shapes: shapes, offsets: offsets, arenaBytes: arena, paddedCount: padded + RowDotLayout.slack,
                             accumulatorCount: accumulators, statisticsCount: 3 * channels * ParallelRunner.maximumBands, channelCount: channels,
                             bandRows: banded ? bandRowCount : 0)
        }

        /// Bytes of host memory `bound(to:)` carves the buffers from.
        var hostBytes: Int {
            WorkspaceCarver.totalBytes([arenaBytes, paddedCount * MemoryLayout<Int8ConvolutionKernel.Input>.stride, accumulatorCount * 4,
                                        statisticsCount * 8, channelCount * MemoryLayout<InstanceNormChannel>.stride])
        }

        /// This plan's buffers carved from `memory` (64-byte aligned, `hostBytes` long).
        func bound(to memory: UnsafeMutableRawPointer) -> FramePlan {
            var f = self, carver = WorkspaceCarver(memory)
            f.owned = false
            f.arena = carver.take(arenaBytes, as: UInt8.self)
            f.paddedInput = carver.take(paddedCount, as: Int8ConvolutionKernel.Input.self)
            f.accumulators = carver.take(accumulatorCount, as: Int32.self)
            f.statistics = carver.take(statisticsCount, as: Int64.self)
            f.norms = carver.take(channelCount, as: InstanceNormChannel.self)
            for c in 0..<channelCount { f.norms[c] = InstanceNormChannel(count: 1, sum: 0, minimum: 0, maximum: 0) }
            return f
        }

        func allocate() -> FramePlan {
            var f = self
            f.arena = .allocate(initialized: arenaBytes, to: 0)
            f.paddedInput = .allocate(initialized: paddedCount, to: 0)
            f.accumulators = .allocate(initialized: accumulatorCount, to: 0)
            f.statistics = .allocate(initialized: statisticsCount, to: 0)
            f.norms = .allocate(initialized: channelCount, to: InstanceNormChannel(count: 1, sum: 0, minimum: 0, maximum: 0))
            return f
        }

        /// This layout in `old`'s buffers when every one of them is large enough.
        func reusing(_ old: FramePlan) -> FramePlan? {
            // Banded and plane accumulators alternate in video-rate mode: either fits the other's
            // buffers when large enough (the capacities kept are the largest allocated).
            guard old.owned, arenaBytes <= old.arenaBytes, paddedCount <= old.paddedCount,
                  accumulatorCount <= old.accumulatorCount, statisticsCount <= old.statisticsCount,
                  channelCount <= old.channelCount else { return nil }
            // The capacities stay the old buffers' (what `release` frees and later reuse checks).
            var f = self
            f.arenaBytes = old.arenaBytes; f.paddedCount = old.paddedCount; f.accumulatorCount = old.accumulatorCount
            f.statisticsCount = old.statisticsCount; f.channelCount = old.channelCount
            f.arena = old.arena; f.paddedInput = old.paddedInput; f.accumulators = old.accumulators
            f.statistics = old.statistics; f.norms = old.norms
            return f
        }

        func release() {
            guard owned else { return }
            arena?.deallocate(); paddedInput?.deallocate(); accumulators?.deallocate(); statistics?.deallocate(); norms?.deallocate()
        }

        func map(_ value: Int) -> InterleavedByteMap { InterleavedByteMap(base: arena! + offsets[value], shape: shapes[value]) }
    }
}
