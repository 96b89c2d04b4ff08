/// Gives a derained image back the brightness, contrast and colour cast of its input.
///
/// Why: the DCD-GAN generator follows its first convolution with an InstanceNorm without affine
/// parameters, so G(a x + c) = G(x) for any gain a > 0 and colour offset c: the network cannot
/// see those and guesses them from textures. The input still shows them, under the rain. The
/// anchor maps each output pixel to the input's colours, fitted from the output to the rainy
/// input by quantile regression, which streaks (that only brighten) do not drag along as they
/// drag a least-squares fit. Two models (`Fit`): one line per channel,
/// `anchored[c] = gain[c] * output[c] + offset[c]` (the default), or a colour matrix and an
/// offset, each anchored channel a plane over all three output channels (it can also undo
/// colour mixing, and fits 12 numbers instead of 6). Either is fitted as:
///
/// 1. sample every `sampleStep`-th pixel of every `sampleStep`-th row, in [0, 1] units;
/// 2. per channel, the median line or plane (quantile 0.5) by iteratively reweighted least
///    squares;
/// 3. the rain's share p: sampled pixels whose input lies on average (over the channels) more
///    than `rainMargin` above that fit;
/// 4. per channel, the fit at quantile max(0.05, (1 - p) / 2): the median of the pixels rain
///    left alone, if rain is what lies above.
///
/// `tools/rain/colour_fit.py` holds the same procedure in NumPy (the test fixtures' reference).
/// dcd-run fits on its CHW images (`fit(output:input:width:height:)`), the executors' frame
/// path (the C API) on the output map and the camera frame (`FrameAnchorSamples`, copied into
/// the idle accumulators): the same samples in the same order, so both give the same anchor.
/// Measured on the synthetic test sets (models/README.md): +4.7 dB PSNR (Y) on light rain, +0.2
/// on heavy rain for a supervised lite model trained without it; a plain least-squares fit to the
/// input loses 5 dB on heavy rain. Models trained with it (`dcd-train --color-anchor`) are meant
/// to run anchored: the default model gains 5.15 dB over the light rainy input that way. The
/// matrix's scores (light rain up ~0.4-0.9 dB, heavy down ~0.3-0.5): README, dcd-run
/// `--anchor-fit`.
public struct ColorAnchor: Sendable, Equatable {
    /// The model fitted in steps 2 and 4.
    public enum Fit: Sendable, Equatable {
        /// One line per channel: a gain and an offset (6 numbers).
        case perChannel
        /// A 3x3 colour matrix and an offset (12 numbers). A channel whose plane cannot be
        /// fitted (its normal equations singular: grey outputs, whose channels are all equal)
        /// falls back to its line.
        case matrix

        /// The command lines' names: "channel", "matrix".
        public init?(name: String) {
            switch name {
            case "channel": self = .perChannel
            case "matrix": self = .matrix
            default: return nil
            }
        }

        public var name: String { self == .perChannel ? "channel" : "matrix" }

        /// The command lines' check of --anchor-fit (`name`) beside --[no-]color-anchor
        /// (`enabled`): nil when they are consistent, else the one-line problem.
        public static func flagProblem(name: String?, enabled: Bool?) -> String? {
            guard let name else { return nil }
            guard Fit(name: name) != nil else { return "--anchor-fit must be channel or matrix, got '\(name)'" }
            return enabled == false ? "--anchor-fit chooses the colour anchor that --no-color-anchor turns off" : nil
        }

        /// The anchor a run uses: none when `enabled` is false (--no-color-anchor); otherwise
        /// `requested` (--anchor-fit), else the model's, else (--color-anchor on a model
        /// compiled without one) per channel.
        public static func chosen(enabled: Bool?, requested: Fit?, model: Fit?) -> Fit? {
            if enabled == false { return nil }
            if let requested { return requested }
            return enabled == true ? (model ?? .perChannel) : model
        }

        /// The number the model file's output colour field and the C API's mode give an
        /// anchor (or none): 0 none, 1 per channel, 2 matrix.
        public static func code(of fit: Fit?) -> UInt32 { fit == nil ? 0 : (fit == .perChannel ? 1 : 2) }

        /// The anchor of a code in 0...2 (callers check the range: a file's version, an API
        /// argument).
        public static func fromCode(_ code: UInt32) -> Fit? {
            precondition(code <= 2, "ColorAnchor.Fit.fromCode(\(code))")
            return code == 0 ? nil : (code == 1 ? .perChannel : .matrix)
        }
    }

    /// The map, one row per anchored channel (R, G, B): anchored[c] = row.x * R + row.y * G +
    /// row.z * B + row.w, with R, G, B the output pixel and row.w in pixel units (0...255).
    /// A per-channel anchor's rows are diagonal: row c holds its gain at c and its offset.
    public var red: SIMD4<Double>, green: SIMD4<Double>, blue: SIMD4<Double>
    /// The share of sampled pixels judged rainy (step 3) and the quantile fitted (step 4).
    public var rainyShare: Double
    public var quantile: Double

    public static let sampleStep = 4
    /// Step 3's margin: 0.05 of the full range (12.75 levels of 255), above the median fit.
    public static let rainMargin = 0.05
    /// IRLS iterations per fit, and the smallest residual a weight divides by (1e-3 of the
    /// range), as the NumPy reference.
    static let iterations = 30
    static let residualFloor = 1e-3

    /// A per-channel anchor.
    public init(gain: SIMD3<Double>, offset: SIMD3<Double>, rainyShare: Double, quantile: Double) {
        red = SIMD4(gain.x, 0, 0, offset.x); green = SIMD4(0, gain.y, 0, offset.y); blue = SIMD4(0, 0, gain.z, offset.z)
        self.rainyShare = rainyShare; self.quantile = quantile
    }

    /// Any anchor, from its rows (as `red`, `green`, `blue`).
    public init(red: SIMD4<Double>, green: SIMD4<Double>, blue: SIMD4<Double>, rainyShare: Double, quantile: Double) {
        self.red = red; self.green = green; self.blue = blue
        self.rainyShare = rainyShare; self.quantile = quantile
    }

    /// Row c (0 R, 1 G, 2 B).
    @inlinable public func row(_ c: Int) -> SIMD4<Double> { c == 0 ? red : (c == 1 ? green : blue) }
    /// Each channel's own coefficient (a per-channel anchor's gains) and the offsets.
    public var gain: SIMD3<Double> { SIMD3(red.x, green.y, blue.z) }
    public var offset: SIMD3<Double> { SIMD3(red.w, green.w, blue.w) }

    /// Doubles of scratch `fit` needs for a width x height image: the samples' three output
    /// and three input channels (48 bytes per sample: about 3 bytes per image pixel).
    public static func scratchCount(width: Int, height: Int) -> Int { 6 * SampleGrid(width: width, height: height).count }

    /// `body` with a width x height image's fit scratch in `bytes` of memory that is otherwise
    /// dead (the executors' frame path: the accumulators, once the frame has run).
    static func withScratch<R>(in memory: UnsafeMutableRawPointer, bytes: Int, width: Int, height: Int,
                               _ body: (UnsafeMutableBufferPointer<Double>) -> R) -> R {
        let count = scratchCount(width: width, height: height)
        precondition(count * MemoryLayout<Double>.stride <= bytes && Int(bitPattern: memory) % MemoryLayout<Double>.alignment == 0,
                     "ColorAnchor: scratch of \(count) Doubles does not fit \(bytes) bytes at \(memory)")
        return memory.withMemoryRebound(to: Double.self, capacity: count) { body(UnsafeMutableBufferPointer(start: $0, count: count)) }
    }

    /// The anchor of `output` (the network's colour, CHW pixel units) to `input` (the frame it
    /// came from, CHW pixel units). Both hold width x height x 3 values. Allocates its scratch
    /// (`scratchCount` Doubles, on the heap when large): for callers without a workspace.
    public static func fit(output: UnsafeBufferPointer<Float>, input: UnsafeBufferPointer<Float>, width: Int, height: Int,
                           _ model: Fit = .perChannel) -> ColorAnchor {
        fit(PlanarSamples(output: output, input: input, width: width, height: height), model)
    }

    /// The anchor from any source of the sampled pixels, with scratch of its own (as above).
    public static func fit<S: ColorAnchorSamples>(_ samples: S, _ model: Fit = .perChannel) -> ColorAnchor {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, 6 * samples.count)) { fit(samples, model, scratch: $0) }
    }

    /// The anchor from any source of the sampled pixels (steps 2 to 4 above), in `scratch`
    /// (at least 6 x `samples.count` Doubles; its contents are overwritten). The samples are
    /// first copied into the scratch, each channel contiguous and in [0, 1] units, so that the
    /// IRLS passes read plain arrays in SIMD lanes (`QuantileLineSums`, `QuantilePlaneSums`):
    /// read where they lie, each sample cost an index division, two conversions and two
    /// divisions by 255 (and, from a camera frame, a YCbCr decode) on every pass.
    public static func fit<S: ColorAnchorSamples>(_ samples: S, _ model: Fit = .perChannel,
                                                  scratch: UnsafeMutableBufferPointer<Double>) -> ColorAnchor {
        let n = samples.count
        precondition(scratch.count >= 6 * n, "ColorAnchor.fit: scratch of \(scratch.count) Doubles, needs \(6 * n)")
        // Layout: outputs R, G, B, then inputs R, G, B, n Doubles each.
        func plane(_ k: Int) -> UnsafeBufferPointer<Double> { UnsafeBufferPointer(rebasing: scratch[k * n..<(k + 1) * n]) }
        for c in 0..<3 {
            for i in 0..<n { (scratch[c * n + i], scratch[(3 + c) * n + i]) = samples.sample(i, channel: c) }
        }
        let x = (plane(0), plane(1), plane(2))
        // Row c of the fit at `quantile`, in [0, 1] units (offset not yet scaled to pixels).
        func lineRow(_ c: Int, quantile: Double) -> SIMD4<Double> {
            let (a, b) = Self.line(output: plane(c), input: plane(3 + c), quantile: quantile)
            var r = SIMD4<Double>(0, 0, 0, b)
            r[c] = a
            return r
        }
        func row(_ c: Int, quantile: Double) -> SIMD4<Double> {
            guard model == .matrix else { return lineRow(c, quantile: quantile) }
            return Self.plane(outputs: x, input: plane(3 + c), quantile: quantile) ?? lineRow(c, quantile: quantile)
        }
        let median = (row(0, quantile: 0.5), row(1, quantile: 0.5), row(2, quantile: 0.5))
        var rainy = 0
        for i in 0..<n {
            let p = SIMD4(x.0[i], x.1[i], x.2[i], 1)
            let above = (scratch[3 * n + i] - (median.0 * p).sum()) + (scratch[4 * n + i] - (median.1 * p).sum())
                + (scratch[5 * n + i] - (median.2 * p).sum())
            if above / 3 > rainMargin { rainy += 1 }
        }
        let share = Double(rainy) / Double(n)
        let quantile = max(0.05, (1 - share) / 2)
        let pixels = SIMD4<Double>(1, 1, 1, 255)
        return ColorAnchor(red: row(0, quantile: quantile) * pixels, green: row(1, quantile: quantile) * pixels,
                           blue: row(2, quantile: quantile) * pixels, rainyShare: share, quantile: quantile)
    }

    /// The line input ~ a output + b of one channel's samples ([0, 1] units, `output[i]` and
    /// `input[i]` one sample) at `quantile` (the check loss's minimiser) by IRLS: weighted least
    /// squares, then weights quantile / |r| above the line and (1 - quantile) / |r| below, r
    /// floored at `residualFloor`. A constant output (no slope to fit) gives a = 0 and b the
    /// weighted mean of the input. `sums` computes one pass (the kernel; tests pass the
    /// reference loop).
    static func line(output x: UnsafeBufferPointer<Double>, input y: UnsafeBufferPointer<Double>, quantile: Double,
                     sums: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, Double, Double, Double, Bool) -> QuantileLineSums.Sums
                         = QuantileLineSums.sums) -> (a: Double, b: Double) {
        precondition(x.count == y.count)
        var a = 1.0, b = 0.0
        for iteration in 0..<iterations {
            let (sw, swx, swxx, swy, swxy) = sums(x, y, a, b, quantile, iteration > 0)
            let det = sw * swxx - swx * swx
            if det <= 1e-12 * sw * sw {
                a = 0; b = swy / sw
            } else {
                a = (sw * swxy - swx * swy) / det
                b = (swy - a * swx) / sw
            }
        }
        return (a, b)
    }

    /// The plane input ~ beta . (R, G, B, 1) of one input channel over the output's three
    /// channels (`outputs`, [0, 1] units, sample i at index i of each) at `quantile`, by the
    /// same IRLS as `line`; nil when a pass's normal equations are singular (their Cholesky
    /// factorisation meets a pivot at most `singularPivot` of its diagonal entry: the output's
    /// channels are linearly dependent, as in grey images), for the caller to fit a line.
    static func plane(outputs x: (UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>, UnsafeBufferPointer<Double>),
                      input y: UnsafeBufferPointer<Double>, quantile: Double,
                      sums: (QuantilePlaneSums.Columns, UnsafeBufferPointer<Double>, SIMD4<Double>, Double, Bool) -> QuantilePlaneSums.Sums
                          = QuantilePlaneSums.sums) -> SIMD4<Double>? {
        var beta = SIMD4<Double>(0, 0, 0, 0)
        for iteration in 0..<iterations {
            let s = sums(x, y, beta, quantile, iteration > 0)
            guard let solved = QuantilePlaneSums.solve(s) else { return nil }
            beta = solved
        }
        return beta
    }

    /// The weight an IRLS pass gives a sample `residual` (input minus fit, [0, 1] units) at
    /// `quantile`: the check loss's slope over the residual, floored at `residualFloor`.
    @inline(__always)
    public static func irlsWeight(residual r: Double, quantile: Double) -> Double {
        (r >= 0 ? quantile : 1 - quantile) / max(abs(r), residualFloor)
    }

    /// The weight the next IRLS pass would give a sample (output `x`, input `y`, [0, 1] units)
    /// of channel `c` off a per-channel anchor's line. Weighted least squares with these
    /// weights is one more IRLS pass: the trainer's differentiable anchor (`Ops.colorAnchor`,
    /// per-channel) fits with them.
    public func irlsWeight(output x: Double, input y: Double, channel c: Int) -> Double {
        Self.irlsWeight(residual: y - (gain[c] * x + offset[c] / 255), quantile: quantile)
    }

    /// An output pixel (R, G, B, pixel units) anchored. For a per-channel anchor this is
    /// exactly gain[c] * v + offset[c] per channel: the rows' zeros add nothing.
    @inlinable
    public func apply(_ pixel: SIMD3<Double>) -> SIMD3<Double> {
        let p = SIMD4(pixel, 1)
        return SIMD3((red * p).sum(), (green * p).sum(), (blue * p).sum())
    }

    /// A pixel anchored as 8-bit values: the anchored values as Float, rounded as every float
    /// output is (`pixelByte`, as dcd-run's `Image.replacingColor(withPixels:)`).
    @inlinable
    public func bytes(_ pixel: SIMD3<Double>) -> (UInt8, UInt8, UInt8) {
        let v = apply(pixel)
        return (pixelByte(Float(v.x)), pixelByte(Float(v.y)), pixelByte(Float(v.z)))
    }
}

/// The pixels a `ColorAnchor` is fitted on: every `ColorAnchor.sampleStep`-th pixel of every
/// `sampleStep`-th row, sample i in row-major order, values in [0, 1] (pixel / 255).
public protocol ColorAnchorSamples {
    var count: Int { get }
    /// The network's output and the input frame at sample i, channel c (0 R, 1 G, 2 B).
    func sample(_ i: Int, channel c: Int) -> (output: Double, input: Double)
}

extension ColorAnchor {
    /// Where the samples of a width x height image lie: sample i is pixel (x, y) =
    /// ((i % columns) * sampleStep, (i / columns) * sampleStep).
    public struct SampleGrid: Sendable {
        public let width: Int, columns: Int, count: Int

        public init(width: Int, height: Int) {
            self.width = width
            columns = (width + sampleStep - 1) / sampleStep
            count = columns * ((height + sampleStep - 1) / sampleStep)
        }

        @inline(__always) public func position(_ i: Int) -> (x: Int, y: Int) { ((i % columns) * sampleStep, (i / columns) * sampleStep) }
        /// The sample's index in a row-major width x height plane.
        @inline(__always) public func offset(_ i: Int) -> Int { let (x, y) = position(i); return y * width + x }
    }

    /// Samples of two CHW planes in pixel units (dcd-run's images).
    struct PlanarSamples: ColorAnchorSamples {
        let output: UnsafeBufferPointer<Float>, input: UnsafeBufferPointer<Float>
        let grid: SampleGrid, plane: Int
        var count: Int { grid.count }

        init(output: UnsafeBufferPointer<Float>, input: UnsafeBufferPointer<Float>, width: Int, height: Int) {
            precondition(output.count >= 3 * width * height && input.count >= 3 * width * height, "ColorAnchor: buffers smaller than the image")
            self.output = output; self.input = input
            grid = SampleGrid(width: width, height: height)
            plane = width * height
        }

        @inline(__always) func sample(_ i: Int, channel c: Int) -> (output: Double, input: Double) {
            let k = c * plane + grid.offset(i)
            return (Double(output[k]) / 255, Double(input[k]) / 255)
        }
    }
}
