/// PatchSampleF's MLP for one encoder layer (Linear(C, nc), ReLU, Linear(nc, nc)) under the
/// reference's keys `mlp_<layer>.0.weight`, `.0.bias`, `.2.weight`, `.2.bias`, and the PatchNCE
/// loss of one layer (../shared/design/dcd-gan.md, "Contrastive branch").
public struct PatchMLP<T: BinaryFloatingPoint> {
    public let first: (weight: Variable<T>, bias: Variable<T>)
    public let second: (weight: Variable<T>, bias: Variable<T>)

    /// Parameters `prefix + "0.weight"` etc. from `values`.
    public init(prefix: String, values: [String: (shape: [Int], values: [T])]) throws(TrainingError) {
        func take(_ key: String) throws(TrainingError) -> Variable<T> {
            guard let v = values[prefix + key] else { throw TrainingError("MLP parameter '\(prefix + key)' is missing") }
            return Variable(shape: v.shape, values: v.values, requiresGrad: true)
        }
        first = (try take("0.weight"), try take("0.bias"))
        second = (try take("2.weight"), try take("2.bias"))
    }

    public var parameters: [Variable<T>] { [first.weight, first.bias, second.weight, second.bias] }

    /// The normalised projections [positions, nc] of image 0 of `features` (1, C, H, W) at the
    /// flat spatial positions `ids` (row-major y * W + x).
    public func sample(_ features: Variable<T>, ids: [Int]) -> Variable<T> {
        let x = Ops.gatherPositions(features, ids)
        let h = Ops.relu(Ops.linear(x, first.weight, first.bias))
        return Ops.l2NormalizeRows(Ops.linear(h, second.weight, second.bias))
    }
}

public enum PatchNCE {
    /// Cross-entropy of [cos(q_i, k_i), cos(q_i, k_j) for all j (j = i set to -10)] / T against
    /// the positive, mean over patches; the keys are detached (no gradient to their side).
    public static func loss<T>(query q: Variable<T>, key k: Variable<T>, temperature: T = 0.07) -> Variable<T> {
        let keys = Ops.detach(k)
        let positives = Ops.rowDot(q, keys)
        let negatives = Ops.fillDiagonal(Ops.matmulTransposed(q, keys), -10)
        return Ops.crossEntropyFirstClass(Ops.affine(Ops.concatColumns(positives, negatives), scale: 1 / temperature))
    }
}
