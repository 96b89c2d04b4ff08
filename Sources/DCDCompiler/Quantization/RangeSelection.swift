/// How calibration turns observed activations into a quantization range.
public enum CalibrationMethod: String, CaseIterable, Sendable {
    /// The observed minimum and maximum: no clipping, the coarsest steps.
    case minMax = "minmax"
    /// The 0.01th and 99.99th percentiles of the sample: clips rare outliers.
    case percentile
    /// The clipping range that minimises the mean squared quantization error (clipping plus
    /// rounding) over the sample, searched over 64 candidate ranges.
    case mse

    /// [low, high] for uint8 quantization of `stats`, always containing 0 (so that real 0, the
    /// zero padding and the ReLU floor, is exact).
    public func range(_ stats: ValueStatistics) -> (low: Float, high: Float) {
        var low = min(0, stats.minimum), high = max(0, stats.maximum)
        guard low.isFinite, high.isFinite, high > low else { return (0, 1) }
        switch self {
        case .minMax:
            break
        case .percentile:
            let sorted = stats.sample.sorted()
            if sorted.count >= 100 {
                low = min(0, sorted[Int(Double(sorted.count - 1) * 0.0001)])
                high = max(0, sorted[Int(Double(sorted.count - 1) * 0.9999)])
            }
        case .mse:
            var best = (low, high), bestError = Double.infinity
            for k in 1...64 {
                let f = Float(k) / 64
                let lo = low * f, hi = high * f
                guard hi > lo else { continue }
                let e = Self.quantizationError(stats.sample, lo, hi)
                if e < bestError { bestError = e; best = (lo, hi) }
            }
            (low, high) = best
        }
        if high - low < 1e-6 { high = low + 1e-6 }
        return (low, high)
    }

    static func quantizationError(_ sample: [Float], _ low: Float, _ high: Float) -> Double {
        let scale = (high - low) / 255
        let zero = (-low / scale).rounded()
        var e = 0.0
        for v in sample {
            let q = min(255, max(0, (v / scale).rounded() + zero))
            let d = Double((q - zero) * scale - v)
            e += d * d
        }
        return e
    }
}
