/// The DCD-GAN generator (../shared/design/dcd-gan.md, "ResnetGenerator"), antialiased variant,
/// as a differentiable function of named parameters. Parameter names are the reference code's
/// state_dict keys (`model.1.weight`, `model.12.conv_block.5.bias`, ...), so that checkpoints go
/// both ways with `load_state_dict`; the blur filters (`model.7.filt`, ...) are buffers of the
/// state_dict too, constants here.
public final class ResnetGenerator<T: BinaryFloatingPoint> {
    public let ngf: Int
    public let blocks: Int
    /// Trainable parameters by state_dict key.
    public private(set) var parameters: [String: Variable<T>] = [:]
    /// The parameter keys in the reference's state_dict order.
    public private(set) var parameterOrder: [String] = []

    /// Module index of the first upsampling (12 + n_blocks) and the rest after it.
    var up1: Int { 12 + blocks }

    /// Weights from `values` (key -> (shape, values)): every trainable key must be present with
    /// the reference's shape.
    public init(ngf: Int, blocks: Int, values: [String: (shape: [Int], values: [T])]) throws(TrainingError) {
        self.ngf = ngf
        self.blocks = blocks
        for (key, shape) in Self.parameterShapes(ngf: ngf, blocks: blocks) {
            guard let v = values[key] else { throw TrainingError("generator parameter '\(key)' is missing") }
            guard v.shape == shape else { throw TrainingError("generator parameter '\(key)' has shape \(v.shape), expected \(shape)") }
            parameters[key] = Variable(shape: shape, values: v.values, requiresGrad: true)
            parameterOrder.append(key)
        }
    }

    /// Keys and shapes of the trainable parameters, in state_dict order.
    public static func parameterShapes(ngf: Int, blocks: Int) -> [(String, [Int])] {
        var out: [(String, [Int])] = []
        func conv(_ index: String, _ cout: Int, _ cin: Int, _ k: Int) {
            out.append(("\(index).weight", [cout, cin, k, k]))
            out.append(("\(index).bias", [cout]))
        }
        conv("model.1", ngf, 3, 7)
        conv("model.4", 2 * ngf, ngf, 3)
        conv("model.8", 4 * ngf, 2 * ngf, 3)
        for b in 0..<blocks {
            conv("model.\(12 + b).conv_block.1", 4 * ngf, 4 * ngf, 3)
            conv("model.\(12 + b).conv_block.5", 4 * ngf, 4 * ngf, 3)
        }
        conv("model.\(13 + blocks)", 2 * ngf, 4 * ngf, 3)
        conv("model.\(17 + blocks)", ngf, 2 * ngf, 3)
        conv("model.\(21 + blocks)", 3, ngf, 7)
        return out
    }

    /// The 1-D factors of the reference's filters: Downsample's [1,2,1] x [1,2,1] / 16 and
    /// Upsample's [1,3,3,1] x [1,3,3,1] / 64 * stride^2.
    static var downTaps: [T] { [1, 2, 1].map { T($0) / 4 } }
    static var upTaps: [T] { [1, 3, 3, 1].map { T($0) / 4 } }
    /// The K x K filter of 1-D taps (the state_dict's `filt` buffers): taps[ky] taps[kx], exact
    /// (the factors are multiples of 1/4).
    static func filter(_ taps: [T]) -> [T] { taps.flatMap { a in taps.map { a * $0 } } }

    func conv(_ x: Variable<T>, _ index: String, stride: Int = 1) -> Variable<T> {
        Ops.conv2d(x, parameters[index + ".weight"]!, parameters[index + ".bias"]!, stride: stride)
    }

    /// Downsample: reflect pad 1, depthwise 3x3 blur, stride 2.
    static func down(_ x: Variable<T>) -> Variable<T> {
        Ops.blur(Ops.pad(x, top: 1, bottom: 1, left: 1, right: 1, mode: .reflect), taps: downTaps, stride: 2)
    }

    /// Upsample: replicate pad 1, depthwise transposed 4x4 blur stride 2 (padding 2), then the
    /// first and last row and column dropped: exactly 2H x 2W.
    static func up(_ x: Variable<T>) -> Variable<T> {
        let h = x.shape[2], w = x.shape[3]
        let t = Ops.blur(Ops.pad(x, top: 1, bottom: 1, left: 1, right: 1, mode: .replicate), taps: upTaps, stride: 2, transposed: true)
        return Ops.crop(t, top: 3, left: 3, height: 2 * h, width: 2 * w)
    }

    /// The network on x (N, 3, H, W) in [-1, 1], H and W multiples of 4; with `features`, also the
    /// outputs after those module indices (PatchNCE's encoder layers, e.g. [0, 4, 8, 12, 16]),
    /// in the order given, stopping early when only features are wanted.
    public func forward(_ x: Variable<T>, features: [Int] = [], encodeOnly: Bool = false) -> (output: Variable<T>?, features: [Variable<T>]) {
        var found: [Int: Variable<T>] = [:]
        var h = x
        func mark(_ index: Int) { if features.contains(index) { found[index] = h } }
        func collected() -> [Variable<T>] { features.map { found[$0]! } }
        let last = features.max() ?? Int.max
        h = Ops.pad(h, top: 3, bottom: 3, left: 3, right: 3, mode: .reflect); mark(0)
        h = conv(h, "model.1"); mark(1)
        h = Ops.instanceNorm(h); mark(2)
        h = Ops.relu(h); mark(3)
        h = conv(Ops.pad(h, top: 1, bottom: 1, left: 1, right: 1, mode: .zero), "model.4"); mark(4)
        h = Ops.instanceNorm(h); mark(5)
        h = Ops.relu(h); mark(6)
        h = Self.down(h); mark(7)
        h = conv(Ops.pad(h, top: 1, bottom: 1, left: 1, right: 1, mode: .zero), "model.8"); mark(8)
        h = Ops.instanceNorm(h); mark(9)
        h = Ops.relu(h); mark(10)
        h = Self.down(h); mark(11)
        for b in 0..<blocks {
            if encodeOnly && 12 + b > last { return (nil, collected()) }
            let prefix = "model.\(12 + b).conv_block"
            var r = conv(Ops.pad(h, top: 1, bottom: 1, left: 1, right: 1, mode: .reflect), prefix + ".1")
            r = Ops.relu(Ops.instanceNorm(r))
            r = Ops.instanceNorm(conv(Ops.pad(r, top: 1, bottom: 1, left: 1, right: 1, mode: .reflect), prefix + ".5"))
            h = Ops.add(h, r); mark(12 + b)
        }
        if encodeOnly { return (nil, collected()) }
        h = Self.up(h)
        h = Ops.relu(Ops.instanceNorm(conv(Ops.pad(h, top: 1, bottom: 1, left: 1, right: 1, mode: .zero), "model.\(13 + blocks)")))
        h = Self.up(h)
        h = Ops.relu(Ops.instanceNorm(conv(Ops.pad(h, top: 1, bottom: 1, left: 1, right: 1, mode: .zero), "model.\(17 + blocks)")))
        h = Ops.tanh(conv(Ops.pad(h, top: 3, bottom: 3, left: 3, right: 3, mode: .reflect), "model.\(21 + blocks)"))
        return (h, collected())
    }
}

/// A trainer failure: one line saying what is wrong.
public struct TrainingError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
