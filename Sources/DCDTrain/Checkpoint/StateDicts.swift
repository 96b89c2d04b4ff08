/// The networks' state_dicts as the reference code saves them (parameters and the blur filter
/// buffers, in module order), for safetensors checkpoints that PyTorch's load_state_dict takes.
public typealias NamedTensor = (name: String, shape: [Int], values: [Float])

extension ResnetGenerator {
    public func stateDict() -> [NamedTensor] {
        var out: [NamedTensor] = []
        func param(_ key: String) { let p = parameters[key]!; out.append((key, p.shape, p.values.map { Float($0) })) }
        func conv(_ index: String) { param(index + ".weight"); param(index + ".bias") }
        func filter(_ index: Int, channels: Int, taps: [T], k: Int) {
            let filter = Self.filter(taps).map { Float($0) }
            out.append(("model.\(index).filt", [channels, 1, k, k], (0..<channels).flatMap { _ in filter }))
        }
        conv("model.1"); conv("model.4")
        filter(7, channels: 2 * ngf, taps: Self.downTaps, k: 3)
        conv("model.8")
        filter(11, channels: 4 * ngf, taps: Self.downTaps, k: 3)
        for b in 0..<blocks { conv("model.\(12 + b).conv_block.1"); conv("model.\(12 + b).conv_block.5") }
        filter(12 + blocks, channels: 4 * ngf, taps: Self.upTaps, k: 4)
        conv("model.\(13 + blocks)")
        filter(16 + blocks, channels: 2 * ngf, taps: Self.upTaps, k: 4)
        conv("model.\(17 + blocks)")
        conv("model.\(21 + blocks)")
        return out
    }
}

extension PatchDiscriminator {
    public func stateDict() -> [NamedTensor] {
        var out: [NamedTensor] = []
        let taps = ResnetGenerator<T>.filter(ResnetGenerator<T>.downTaps).map { Float($0) }
        for (index, _, cout) in Self.convolutions(ndf: ndf) {
            for suffix in ["weight", "bias"] {
                let p = parameters["model.\(index).\(suffix)"]!
                out.append(("model.\(index).\(suffix)", p.shape, p.values.map { Float($0) }))
            }
            if [0, 3, 7].contains(index) {
                out.append(("model.\(index + 2 + (index == 0 ? 0 : 1)).filt", [cout, 1, 3, 3], (0..<cout).flatMap { _ in taps }))
            }
        }
        return out
    }
}

extension PatchMLP {
    /// PatchSampleF's keys for layer `layer`: mlp_<layer>.0.weight, .0.bias, .2.weight, .2.bias.
    public func stateDict(layer: Int) -> [NamedTensor] {
        zip(["0.weight", "0.bias", "2.weight", "2.bias"], parameters).map { ("mlp_\(layer).\($0)", $1.shape, $1.values.map { Float($0) }) }
    }
}
