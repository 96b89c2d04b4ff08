/// Adam as torch.optim.Adam computes it (no weight decay, no amsgrad), the same arithmetic in
/// the same order, so that a step here equals PyTorch's to rounding:
///   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
///   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
/// The moments are the optimizer's state, saved with checkpoints for exact resumption.
public final class Adam<T: BinaryFloatingPoint> {
    public var learningRate: T
    public let beta1: T, beta2: T, epsilon: T
    public private(set) var step = 0
    /// Per parameter (in the order given): first and second moments.
    public private(set) var firstMoments: [[T]]
    public private(set) var secondMoments: [[T]]
    let parameters: [Variable<T>]

    public init(_ parameters: [Variable<T>], learningRate: T, beta1: T, beta2: T, epsilon: T = 1e-8) {
        self.parameters = parameters
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        firstMoments = parameters.map { [T](repeating: 0, count: $0.count) }
        secondMoments = parameters.map { [T](repeating: 0, count: $0.count) }
    }

    /// One update from the parameters' gradients (zeros where none flowed).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public func update() {
        step += 1
        let correction1 = 1 - T(Double(beta1).power(step)), correction2Root = T((1 - Double(beta2).power(step)).squareRoot())
        let (stepSize, beta1, beta2, epsilon) = (learningRate / correction1, self.beta1, self.beta2, self.epsilon)
        for (i, p) in parameters.enumerated() {
            guard let gradient = p.grad else {
                // g = 0: the moments decay and the parameter still moves by the first moment.
                Self.apply(&p.values, &firstMoments[i], &secondMoments[i], nil, stepSize, beta1, beta2, epsilon, correction2Root)
                continue
            }
            gradient.withUnsafeBufferPointer { g in
                Self.apply(&p.values, &firstMoments[i], &secondMoments[i], g.baseAddress!, stepSize, beta1, beta2, epsilon, correction2Root)
            }
        }
    }

    /// The per-element update of one parameter tensor (g nil: zeros).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func apply(_ values: inout [T], _ first: inout [T], _ second: inout [T], _ g: UnsafePointer<T>?,
                      _ stepSize: T, _ beta1: T, _ beta2: T, _ epsilon: T, _ correction2Root: T) {
        values.withUnsafeMutableBufferPointer { p in
            first.withUnsafeMutableBufferPointer { m in
                second.withUnsafeMutableBufferPointer { v in
                    for j in 0..<p.count {
                        let gj = g?[j] ?? 0
                        m[j] = beta1 * m[j] + (1 - beta1) * gj
                        v[j] = beta2 * v[j] + (1 - beta2) * gj * gj
                        let denominator = v[j].squareRoot() / correction2Root + epsilon
                        p[j] -= stepSize * m[j] / denominator
                    }
                }
            }
        }
    }

    public func zeroGradients() { for p in parameters { p.zeroGrad() } }

    /// Restores the state a checkpoint saved (`step`, moments per parameter in order).
    public func restore(step: Int, firstMoments: [[T]], secondMoments: [[T]]) throws(TrainingError) {
        guard firstMoments.count == parameters.count, secondMoments.count == parameters.count,
              zip(parameters, zip(firstMoments, secondMoments)).allSatisfy({ $0.count == $1.0.count && $0.count == $1.1.count }) else {
            throw TrainingError("optimizer state does not match the parameters' shapes")
        }
        self.step = step
        self.firstMoments = firstMoments
        self.secondMoments = secondMoments
    }
}

extension Double {
    /// self^n by repeated multiplication (n >= 0), as Python's float ** int for small n.
    func power(_ n: Int) -> Double {
        var r = 1.0
        for _ in 0..<n { r *= self }
        return r
    }
}
