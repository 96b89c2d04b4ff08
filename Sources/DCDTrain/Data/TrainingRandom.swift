#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The trainer's random numbers: SplitMix64, one 64-bit word of state, so that a run is a
/// function of its seed and the state goes into checkpoints for exact resumption.
public struct TrainingRandom: Sendable, Equatable {
    public var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 bits.
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Uniform in 0..<n.
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Double {
        let u1 = max(uniform(), 1e-300), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// The first `count` entries of a random permutation of 0..<n (PatchSampleF's positions).
    public mutating func permutationPrefix(_ n: Int, count: Int) -> [Int] {
        var items = Array(0..<n)
        for i in 0..<min(count, n) { items.swapAt(i, i + below(n - i)) }
        return Array(items.prefix(min(count, n)))
    }
}

/// Xavier-normal initialisation as the reference's init_weights('xavier', gain): weights
/// N(0, gain^2 * 2 / (fan_in + fan_out)) with fan = channels * kernel area, biases 0.
public enum Initialization {
    public static func xavierNormal<T: BinaryFloatingPoint>(shape: [Int], gain: Double, _ random: inout TrainingRandom) -> [T] {
        let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let fanIn = shape[1] * receptive, fanOut = shape[0] * receptive
        let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
        return (0..<shape.reduce(1, *)).map { _ in T(random.normal() * std) }
    }

    /// Parameters for `shapes` (key, shape): ".weight" xavier-normal, ".bias" zeros.
    public static func parameters<T: BinaryFloatingPoint>(_ shapes: [(String, [Int])], gain: Double = 0.02,
                                                          _ random: inout TrainingRandom) -> [String: (shape: [Int], values: [T])] {
        var out: [String: (shape: [Int], values: [T])] = [:]
        for (key, shape) in shapes {
            out[key] = (shape, key.hasSuffix(".bias") ? [T](repeating: 0, count: shape.reduce(1, *)) : xavierNormal(shape: shape, gain: gain, &random))
        }
        return out
    }
}
