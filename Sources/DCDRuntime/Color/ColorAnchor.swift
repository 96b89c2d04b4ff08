/// Gives a derained image back the brightness, contrast and colour cast of its input.
///
/// Why: the DCD-GAN generator follows its first convolution with an InstanceNorm without affine
/// parameters, so G(a x + c) = G(x) for any gain a > 0 and colour offset c: the network cannot
/// see those and guesses them from textures. The input still shows them, under the rain. The
/// anchor is one line per channel, `anchored = gain * output + offset`, fitted from the output
/// to the rainy input by quantile regression, which streaks (that only brighten) do not drag
/// along as they drag a least-squares fit:
///
/// 1. sample every `sampleStep`-th pixel of every `sampleStep`-th row, in [0, 1] units;
/// 2. per channel, the median line (quantile 0.5) by iteratively reweighted least squares;
/// 3. the rain's share p: sampled pixels whose input lies on average (over the channels) more
///    than `rainMargin` above that line;
/// 4. per channel, the line at quantile max(0.05, (1 - p) / 2): the median of the pixels rain
///    left alone, if rain is what lies above.
///
/// `tools/rain/colour_fit.py` holds the same procedure in NumPy (the test fixture's reference).
/// dcd-run fits on its CHW images (`fit(output:input:width:height:)`), the executors' frame
/// path (the C API) on the output map and the camera frame (`FrameAnchorSamples`, copied into
/// the idle accumulators): the same samples in the same order, so both give the same anchor.
/// Measured on the synthetic test sets (models/README.md): +4.7 dB PSNR (Y) on light rain, +0.2
/// on heavy rain for a supervised lite model trained without it; a plain least-squares fit to the
/// input loses 5 dB on heavy rain. Models trained with it (`dcd-train --color-anchor`) are meant
/// to run anchored: the default model gains 5.15 dB over the light rainy input that way.
public struct ColorAnchor: Sendable, Equatable {
    /// Per channel (R, G, B): anchored = gain * output + offset, in pixel units (0...255).
    public var gain: SIMD3<Double>
    public var offset: SIMD3<Double>
    /// The share of sampled pixels judged rainy (step 3) and the quantile fitted (step 4).
    public var rainyShare: Double
    public var quantile: Double

    public static let sampleStep = 4
    /// Step 3's margin: 0.05 of the full range (12.75 levels of 255), above the median line.
    public static let rainMargin = 0.05
    /// IRLS iterations per fit, and the smallest residual a weight divides by (1e-3 of the
    /// range), as the NumPy reference.
    static let iterations = 30
    static let residualFloor = 1e-3

    public init(gain: SIMD3<Double>, offset: SIMD3<Double>, rainyShare: Double, quantile: Double) {
        self.gain = gain; self.offset = offset; self.rainyShare = rainyShare; self.quantile = quantile
    }

    /// Doubles of scratch `fit` needs for a width x height image: one channel's samples, output
    /// and input (16 bytes per sample: about one byte per image pixel).
    public static func scratchCount(width: Int, height: Int) -> Int { 2 * SampleGrid(width: width, height: height).count }

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
    public static func fit(output: UnsafeBufferPointer<Float>, input: UnsafeBufferPointer<Float>, width: Int, height: Int) -> ColorAnchor {
        fit(PlanarSamples(output: output, input: input, width: width, height: height))
    }

    /// The anchor from any source of the sampled pixels, with scratch of its own (as above).
    public static func fit<S: ColorAnchorSamples>(_ samples: S) -> ColorAnchor {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: max(1, 2 * samples.count)) { fit(samples, scratch: $0) }
    }

    /// The anchor from any source of the sampled pixels (steps 2 to 4 above), in `scratch`
    /// (at least 2 x `samples.count` Doubles; its contents are overwritten). Each line's fit
    /// first copies its channel's samples into the scratch, contiguous and in [0, 1] units, so
    /// that the `iterations` passes read plain arrays in SIMD lanes (`QuantileLineSums`): read
    /// where they lie, each sample cost an index division, two conversions and two divisions
    /// by 255 (and, from a camera frame, a YCbCr decode) on every pass.
    public static func fit<S: ColorAnchorSamples>(_ samples: S, scratch: UnsafeMutableBufferPointer<Double>) -> ColorAnchor {
        let n = samples.count
        precondition(scratch.count >= 2 * n, "ColorAnchor.fit: scratch of \(scratch.count) Doubles, needs \(2 * n)")
        let x = UnsafeMutableBufferPointer(rebasing: scratch[0..<n]), y = UnsafeMutableBufferPointer(rebasing: scratch[n..<2 * n])
        func line(channel c: Int, quantile: Double) -> (a: Double, b: Double) {
            for i in 0..<n { (x[i], y[i]) = samples.sample(i, channel: c) }
            return Self.line(output: UnsafeBufferPointer(x), input: UnsafeBufferPointer(y), quantile: quantile)
        }
        var medianA = SIMD3<Double>(), medianB = SIMD3<Double>()
        for c in 0..<3 { (medianA[c], medianB[c]) = line(channel: c, quantile: 0.5) }
        var rainy = 0
        for i in 0..<n {
            var above = 0.0
            for c in 0..<3 {
                let (x, y) = samples.sample(i, channel: c)
                above += y - (medianA[c] * x + medianB[c])
            }
            if above / 3 > rainMargin { rainy += 1 }
        }
        let share = Double(rainy) / Double(n)
        let quantile = max(0.05, (1 - share) / 2)
        var gain = SIMD3<Double>(1, 1, 1), offset = SIMD3<Double>(0, 0, 0)
        for c in 0..<3 {
            let l = line(channel: c, quantile: quantile)
            gain[c] = l.a
            offset[c] = l.b * 255
        }
        return ColorAnchor(gain: gain, offset: offset, rainyShare: share, quantile: quantile)
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

    /// The weight an IRLS pass gives a sample `residual` (input minus line, [0, 1] units) off
    /// the line at `quantile`: the check loss's slope over the residual, floored at
    /// `residualFloor`.
    @inline(__always)
    public static func irlsWeight(residual r: Double, quantile: Double) -> Double {
        (r >= 0 ? quantile : 1 - quantile) / max(abs(r), residualFloor)
    }

    /// The weight the next IRLS pass would give a sample (output `x`, input `y`, [0, 1] units)
    /// of channel `c` off this anchor's line. Weighted least squares with these weights is one
    /// more IRLS pass: the trainer's differentiable anchor (`Ops.colorAnchor`) fits with them.
    public func irlsWeight(output x: Double, input y: Double, channel c: Int) -> Double {
        Self.irlsWeight(residual: y - (gain[c] * x + offset[c] / 255), quantile: quantile)
    }

    /// `v` of channel `c` (pixel units) anchored.
    @inlinable
    public func apply(_ v: Double, channel c: Int) -> Double { gain[c] * v + offset[c] }

    /// `v` anchored as an 8-bit pixel: the anchored value as Float, rounded as every float output
    /// is (`pixelByte`, as dcd-run's `Image.replacingColor(withPixels:)`).
    @inlinable
    public func byte(_ v: Double, channel c: Int) -> UInt8 { pixelByte(Float(apply(v, channel: c))) }
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
