import DCDRuntime

/// What calibration learns about one value of the float program: its range, a deterministic
/// sample of its elements (for percentile and MSE range selection) and its per-channel means (for
/// bias correction).
public struct ValueStatistics {
    public var minimum: Float = .infinity
    public var maximum: Float = -.infinity
    /// Up to `sampleCapacity` elements, taken at a fixed stride from every observed tensor.
    public var sample: [Float] = []
    public var channelSums: [Double] = []
    public var channelCounts = 0

    static let sampleCapacity = 1 << 17

    public var channelMeans: [Float] { channelSums.map { Float($0 / Double(max(1, channelCounts))) } }

    mutating func observe(_ t: FloatTensor, share: Int) {
        if channelSums.isEmpty { channelSums = [Double](repeating: 0, count: t.channels) }
        for c in 0..<t.channels {
            var s = 0.0
            for i in 0..<t.planeSize {
                let v = t.storage[c * t.planeSize + i]
                s += Double(v)
                minimum = min(minimum, v)
                maximum = max(maximum, v)
            }
            channelSums[c] += s
        }
        channelCounts += t.planeSize
        // Every tensor contributes about `share` elements, spread evenly over it.
        let step = max(1, t.storage.count / max(1, share))
        var i = (t.storage.count % step) / 2
        while i < t.storage.count && sample.count < Self.sampleCapacity {
            sample.append(t.storage[i])
            i += step
        }
    }
}

/// Runs the float program over calibration crops and gathers `ValueStatistics` for the input
/// (index 0) and every op's output (index op + 1).
public enum Calibration {
    public static func statistics(of program: ModelProgram, crops: [FloatTensor], parallel: ParallelRunner = .serial) throws -> [ValueStatistics] {
        let executor = try FloatReferenceExecutor(program: program)
        var stats = [ValueStatistics](repeating: ValueStatistics(), count: program.valueCount)
        let share = ValueStatistics.sampleCapacity / max(1, crops.count)
        for crop in crops {
            stats[0].observe(crop, share: share)
            _ = try executor.derain(pixels: crop, parallel: parallel) { i, value in stats[i + 1].observe(value, share: share) }
        }
        return stats
    }

    /// Crops of each image at several sizes (multiples of 4, so no frame padding), at positions
    /// from a seeded generator: the same images give the same crops.
    public static func crops(of images: [FloatTensor], sizes: [Int] = [64, 96, 128], perImage: Int = 4, seed: UInt64 = 1) -> [FloatTensor] {
        var rng = SplitMix(seed: seed)
        var out: [FloatTensor] = []
        for image in images {
            for k in 0..<perImage {
                let size = sizes[k % sizes.count]
                let h = min(size, image.height / 4 * 4), w = min(size, image.width / 4 * 4)
                guard h >= 8, w >= 8 else { continue }
                let y0 = Int(rng.next() % UInt64(image.height - h + 1)), x0 = Int(rng.next() % UInt64(image.width - w + 1))
                out.append(FloatReference.crop(image, top: y0, bottom: image.height - h - y0, left: x0, right: image.width - w - x0))
            }
        }
        return out
    }

    /// Built-in calibration images for when the user gives none: smooth colour fields, edges,
    /// texture and bright streaks, in pixel units. Real photographs calibrate better; the
    /// compiler warns when it uses these.
    public static func syntheticImages(count: Int = 8, size: Int = 128) -> [FloatTensor] {
        var rng = SplitMix(seed: 42)
        var images: [FloatTensor] = []
        for n in 0..<count {
            var t = FloatTensor(channels: 3, height: size, width: size)
            let base = (0..<3).map { _ in Float(rng.next() % 200) + 28 }
            let slope = (0..<3).map { _ in (Float(rng.next() % 200) - 100) / Float(size) }
            for c in 0..<3 {
                for y in 0..<size {
                    for x in 0..<size {
                        let edge: Float = (x + n * 7) % 41 < 20 ? 25 : -25
                        let noise = Float(rng.next() % 31) - 15
                        t[c, y, x] = min(255, max(0, base[c] + slope[c] * Float(x + y) + edge + noise))
                    }
                }
            }
            for _ in 0..<(size * size / 40) {
                let x0 = Int(rng.next() % UInt64(size)), y0 = Int(rng.next() % UInt64(size))
                for k in 0..<8 where y0 + k < size && x0 + k / 4 < size {
                    for c in 0..<3 { t[c, y0 + k, x0 + k / 4] = min(255, t[c, y0 + k, x0 + k / 4] * 0.4 + 170) }
                }
            }
            images.append(t)
        }
        return images
    }
}

/// SplitMix64: small, seeded, deterministic.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
