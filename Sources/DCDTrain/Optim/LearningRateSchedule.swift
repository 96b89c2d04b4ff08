/// The reference's "linear" policy, in steps instead of epochs: the base rate for the first
/// `constantSteps`, then decaying linearly over `decaySteps`:
///   factor(step) = 1 - max(0, step + 1 - constantSteps) / (decaySteps + 1)
/// (torch's LambdaLR with the reference's lambda_rule and epoch_count 1, one "epoch" per step):
/// steps 0..<constantSteps at the base rate, then decaySteps steps at d/(d+1), ..., 1/(d+1).
public struct LearningRateSchedule: Sendable, Equatable {
    public var constantSteps: Int
    public var decaySteps: Int

    public init(constantSteps: Int, decaySteps: Int) {
        self.constantSteps = constantSteps
        self.decaySteps = decaySteps
    }

    /// The factor for the step with 0-based index `step`.
    public func factor(step: Int) -> Double {
        1 - Double(max(0, step + 1 - constantSteps)) / Double(decaySteps + 1)
    }
}
