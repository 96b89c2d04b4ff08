/// What exact resumption needs beyond the networks' weights: the three optimizers' step counts
/// and moments (under "<optimizer>.exp_avg.<parameter>" and ".exp_avg_sq.", the parameter names
/// of `DCDGAN.named*Parameters`), the step and the random generator's state (metadata).
extension DCDGAN where T == Float {
    static let optimizerNames = ["optimizer_D", "optimizer_G", "optimizer_F"]

    var optimizerGroups: [(String, Adam<Float>, [(String, Variable<Float>)])] {
        [("optimizer_D", optimizerD, namedDiscriminatorParameters), ("optimizer_G", optimizerG, namedGeneratorParameters),
         ("optimizer_F", optimizerF, namedProjectionParameters)]
    }

    public func optimizerState() -> (tensors: [NamedTensor], steps: [String: Int]) {
        var tensors: [NamedTensor] = [], steps: [String: Int] = [:]
        for (name, adam, params) in optimizerGroups {
            steps[name] = adam.step
            for (i, (parameter, v)) in params.enumerated() {
                tensors.append(("\(name).exp_avg.\(parameter)", v.shape, adam.firstMoments[i]))
                tensors.append(("\(name).exp_avg_sq.\(parameter)", v.shape, adam.secondMoments[i]))
            }
        }
        return (tensors, steps)
    }

    public func restoreOptimizers(_ tensors: [String: (shape: [Int], values: [Float])], steps: [String: Int]) throws(TrainingError) {
        for (name, adam, params) in optimizerGroups {
            var first: [[Float]] = [], second: [[Float]] = []
            for (parameter, _) in params {
                guard let m = tensors["\(name).exp_avg.\(parameter)"], let v = tensors["\(name).exp_avg_sq.\(parameter)"] else {
                    throw TrainingError("training state has no moments for \(name) \(parameter)")
                }
                first.append(m.values)
                second.append(v.values)
            }
            try adam.restore(step: steps[name] ?? 0, firstMoments: first, secondMoments: second)
        }
    }
}
