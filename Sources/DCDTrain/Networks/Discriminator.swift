/// The PatchGAN discriminator (../shared/design/dcd-gan.md; n_layers = 3, InstanceNorm,
/// antialiased), parameters under the reference's state_dict keys (`model.0.weight`, ...,
/// `model.14.bias`); the Downsample filters `model.2.filt`, `model.6.filt`, `model.10.filt` are
/// constant buffers.
public final class PatchDiscriminator<T: BinaryFloatingPoint> {
    public let ndf: Int
    public private(set) var parameters: [String: Variable<T>] = [:]
    public private(set) var parameterOrder: [String] = []

    /// (module index, input channels, output channels) of the five 4x4 convolutions.
    static func convolutions(ndf: Int) -> [(Int, Int, Int)] {
        [(0, 3, ndf), (3, ndf, 2 * ndf), (7, 2 * ndf, 4 * ndf), (11, 4 * ndf, 8 * ndf), (14, 8 * ndf, 1)]
    }

    public static func parameterShapes(ndf: Int) -> [(String, [Int])] {
        convolutions(ndf: ndf).flatMap { (index, cin, cout) in
            [("model.\(index).weight", [cout, cin, 4, 4]), ("model.\(index).bias", [cout])]
        }
    }

    public init(ndf: Int, values: [String: (shape: [Int], values: [T])]) throws(TrainingError) {
        self.ndf = ndf
        for (key, shape) in Self.parameterShapes(ndf: ndf) {
            guard let v = values[key] else { throw TrainingError("discriminator parameter '\(key)' is missing") }
            guard v.shape == shape else { throw TrainingError("discriminator parameter '\(key)' has shape \(v.shape), expected \(shape)") }
            parameters[key] = Variable(shape: shape, values: v.values, requiresGrad: true)
            parameterOrder.append(key)
        }
    }

    /// The map of patch scores for x (N, 3, H, W). `frozen`: the parameters as constants, so
    /// that gradients reach x only (the generator step, where PyTorch sets requires_grad False on
    /// the discriminators; their weight gradients would be discarded anyway).
    public func forward(_ x: Variable<T>, frozen: Bool = false) -> Variable<T> {
        func parameter(_ key: String) -> Variable<T> {
            let p = parameters[key]!
            return frozen ? Variable(shape: p.shape, values: p.values) : p
        }
        func conv(_ h: Variable<T>, _ index: Int) -> Variable<T> {
            Ops.conv2d(Ops.pad(h, top: 1, bottom: 1, left: 1, right: 1, mode: .zero),
                       parameter("model.\(index).weight"), parameter("model.\(index).bias"))
        }
        let slope = T(0.2)
        var h = ResnetGenerator<T>.down(Ops.leakyRelu(conv(x, 0), slope: slope))
        h = ResnetGenerator<T>.down(Ops.leakyRelu(Ops.instanceNorm(conv(h, 3)), slope: slope))
        h = ResnetGenerator<T>.down(Ops.leakyRelu(Ops.instanceNorm(conv(h, 7)), slope: slope))
        h = Ops.leakyRelu(Ops.instanceNorm(conv(h, 11)), slope: slope)
        return conv(h, 14)
    }
}
