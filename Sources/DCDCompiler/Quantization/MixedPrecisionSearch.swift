import DCDRuntime

/// `--target-psnr`: keeps the fewest, most sensitive layers at higher precision until the
/// held-out PSNR of the quantized output against the float output reaches a target.
///
/// A layer's promotion: 16-bit output activations for layers that end in InstanceNorm (their
/// error is the 8-bit rounding of normalised activations: measured, int16 there recovers what
/// float does at a quarter of float's weight bytes), float for the others (the output
/// convolution, whose table already has 12-bit resolution).
/// Sensitivity of a layer: the held-out PSNR when that layer alone is promoted and every other
/// layer is int8. Layers are promoted in decreasing sensitivity, one at a time, until the target
/// is met (or every layer is promoted).
public enum MixedPrecisionSearch {
    public struct Outcome {
        public var result: Quantizer.Result
        public var layers: [Int: LayerPrecision]
        /// Held-out PSNR of the all-int8 program, and after each promotion (op index, PSNR).
        public var basePSNR: Double
        public var promotions: [(op: Int, psnr: Double)]
        public var finalPSNR: Double
    }

    /// `heldOut` should be small: every candidate layer costs one int8 run over all of it (the
    /// command line passes 128x128 centre crops of two held-out photos).
    public static func search(float: ModelProgram, statistics: [ValueStatistics], method: CalibrationMethod,
                              heldOut: [FloatTensor], target: Double, fixed: [Int: LayerPrecision] = [:]) throws -> Outcome {
        let reference = try heldOut.map { QuantizationReport.bytes(try FloatReferenceExecutor(program: float).derain(pixels: $0)) }
        func psnr(_ layers: [Int: LayerPrecision]) throws -> (Quantizer.Result, Double) {
            let q = try Quantizer.quantize(float, statistics: statistics, method: method, layers: layers)
            let executor = try Int8ReferenceExecutor(program: q.program)
            var total = 0.0
            for (image, expected) in zip(heldOut, reference) {
                let out = try executor.derain(pixels: QuantizationReport.bytes(image))
                total += QuantizationReport.psnr(out, expected)
            }
            return (q, total / Double(max(1, heldOut.count)))
        }
        var layers = fixed
        var (result, current) = try psnr(layers)
        let base = current
        var promotions: [(op: Int, psnr: Double)] = []
        if current < target {
            let candidates = float.ops.indices.filter {
                (float.ops[$0].kind == .conv2d || float.ops[$0].kind == .convTranspose2d) && layers[$0] == nil
            }
            func promotion(_ op: Int) -> LayerPrecision { float.ops[op].epilogue.contains(.instanceNorm) ? .int16 : .float }
            var sensitivity: [(op: Int, psnr: Double)] = []
            for c in candidates {
                var trial = layers
                trial[c] = promotion(c)
                sensitivity.append((c, try psnr(trial).1))
            }
            for (op, _) in sensitivity.sorted(by: { $0.psnr > $1.psnr }) where current < target {
                layers[op] = promotion(op)
                (result, current) = try psnr(layers)
                promotions.append((op, current))
            }
        }
        return Outcome(result: result, layers: layers, basePSNR: base, promotions: promotions, finalPSNR: current)
    }
}
