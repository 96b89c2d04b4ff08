/// The operations a compiled model is made of, and the program that strings them together.
///
/// A program is in SSA form over CHW feature maps: value 0 is the network input, and op `i`
/// (0-based) defines value `i + 1`. Each op reads values defined before it, so running the ops
/// in order is always a valid schedule. The last op's value is the network output.
/// Ops carry no image size: the same program runs on any size (shape inference in
/// `ShapeInference.swift` says which sizes are valid).

/// How a pad op (or a padded conv) fills the border. Values are the file encoding.
public enum PaddingMode: UInt32, Sendable, Equatable {
    /// Zeros (Conv2d(padding=p)).
    case zero = 0
    /// Mirror without repeating the edge (ReflectionPad2d): needs pad < side.
    case reflect = 1
    /// Repeat the edge value (ReplicationPad2d).
    case replicate = 2
}

/// Op kinds. Raw values are the file encoding; never renumber.
public enum OpKind: UInt32, Sendable, Equatable, CaseIterable {
    /// Pad by (top, bottom, left, right) in `padMode`.
    case pad = 1
    /// Dense convolution, weight (Cout, Cin, K, K), optional bias (Cout), `stride`, `padding` in
    /// `padMode` (zero as in Conv2d(padding=p); reflect/replicate after pad folding), `epilogue`.
    case conv2d = 2
    /// Transposed convolution, weight (Cin, Cout, K, K) as PyTorch stores it, optional bias,
    /// `stride`, `padding`, `outputPadding`: out = (in - 1) * stride - 2 * padding + K + outputPadding.
    case convTranspose2d = 3
    /// Per-channel convolution, weight (C, 1, K, K), no bias, `stride`, `padding` in `padMode`.
    case depthwiseConv2d = 4
    /// Per-channel transposed convolution, weight (C, 1, K, K), `stride`, `padding`.
    case depthwiseConvTranspose2d = 5
    /// Remove (top, bottom, left, right) rows/columns.
    case crop = 6
    /// InstanceNorm2d(affine=False): per channel (x - mean) / sqrt(biased var + epsilon).
    case instanceNorm = 7
    case relu = 8
    /// Elementwise sum of `input` and `secondInput` (the residual connection).
    case add = 9
    case tanh = 10
}

/// What a convolution does after accumulating, in this order: InstanceNorm over the whole output
/// plane (epsilon in `ModelOp.epsilon`), add the residual `secondInput`, ReLU, tanh, then map
/// tanh's [-1, 1] to pixel values (y + 1) / 2 * 255. Fusion passes produce these; raw values are
/// the file encoding (op record word 14).
public struct Epilogue: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let instanceNorm = Epilogue(rawValue: 1)
    public static let residual = Epilogue(rawValue: 2)
    public static let relu = Epilogue(rawValue: 4)
    public static let tanh = Epilogue(rawValue: 8)
    public static let toPixels = Epilogue(rawValue: 16)
    public static let all: Epilogue = [.instanceNorm, .residual, .relu, .tanh, .toPixels]
}

/// One op of a program. Fields an op kind does not use are zero (or -1 for tensor and value
/// references), and the model file reader rejects files where they are not.
public struct ModelOp: Sendable, Equatable {
    public var kind: OpKind
    /// Value read by the op.
    public var input: Int
    /// Second value read (`add` only), else -1.
    public var secondInput: Int = -1
    /// Index into the program's tensors, else -1.
    public var weight: Int = -1
    public var bias: Int = -1
    public var stride: Int = 0
    public var padding: Int = 0
    public var outputPadding: Int = 0
    public var padMode: PaddingMode = .zero
    /// Edges for `pad` and `crop`, in rows/columns.
    public var top: Int = 0
    public var bottom: Int = 0
    public var left: Int = 0
    public var right: Int = 0
    /// `instanceNorm`, and convolutions whose epilogue normalizes.
    public var epsilon: Float = 0
    /// Convolutions only (`conv2d`, `convTranspose2d`): what follows the accumulation.
    public var epilogue: Epilogue = []
    /// int8 programs: the op's int32 parameter tensor (layout in `Int8OpParameters`), else -1.
    public var parameters: Int = -1

    public init(kind: OpKind, input: Int) {
        self.kind = kind
        self.input = input
    }

    public static func pad(_ input: Int, _ mode: PaddingMode, top: Int, bottom: Int, left: Int, right: Int) -> ModelOp {
        var op = ModelOp(kind: .pad, input: input)
        op.padMode = mode
        op.top = top; op.bottom = bottom; op.left = left; op.right = right
        return op
    }

    public static func conv2d(_ input: Int, weight: Int, bias: Int, stride: Int, padding: Int) -> ModelOp {
        var op = ModelOp(kind: .conv2d, input: input)
        op.weight = weight; op.bias = bias; op.stride = stride; op.padding = padding
        return op
    }

    public static func convTranspose2d(_ input: Int, weight: Int, bias: Int, stride: Int, padding: Int, outputPadding: Int) -> ModelOp {
        var op = ModelOp(kind: .convTranspose2d, input: input)
        op.weight = weight; op.bias = bias; op.stride = stride; op.padding = padding
        op.outputPadding = outputPadding
        return op
    }

    public static func depthwiseConv2d(_ input: Int, weight: Int, stride: Int) -> ModelOp {
        var op = ModelOp(kind: .depthwiseConv2d, input: input)
        op.weight = weight; op.stride = stride
        return op
    }

    public static func depthwiseConvTranspose2d(_ input: Int, weight: Int, stride: Int, padding: Int) -> ModelOp {
        var op = ModelOp(kind: .depthwiseConvTranspose2d, input: input)
        op.weight = weight; op.stride = stride; op.padding = padding
        return op
    }

    public static func crop(_ input: Int, top: Int, bottom: Int, left: Int, right: Int) -> ModelOp {
        var op = ModelOp(kind: .crop, input: input)
        op.top = top; op.bottom = bottom; op.left = left; op.right = right
        return op
    }

    public static func instanceNorm(_ input: Int, epsilon: Float) -> ModelOp {
        var op = ModelOp(kind: .instanceNorm, input: input)
        op.epsilon = epsilon
        return op
    }

    public static func relu(_ input: Int) -> ModelOp { ModelOp(kind: .relu, input: input) }
    public static func tanh(_ input: Int) -> ModelOp { ModelOp(kind: .tanh, input: input) }

    public static func add(_ a: Int, _ b: Int) -> ModelOp {
        var op = ModelOp(kind: .add, input: a)
        op.secondInput = b
        return op
    }
}

/// Element types of program tensors. Raw values are the file encoding.
public enum TensorType: UInt32, Sendable, Equatable {
    case float32 = 1
    /// Quantized weights and fixed filter taps.
    case int8 = 2
    /// Biases in accumulator units, fixed-point multipliers, per-op integer parameters.
    case int32 = 3
    /// Lookup tables producing bytes.
    case uint8 = 4

    public var byteSize: Int { self == .float32 || self == .int32 ? 4 : 1 }
}

/// A named tensor of a program (weights, biases, fixed filters, integer parameters), PyTorch
/// layout. Float tensors keep their values in `values`; integer ones in `integers` (int8 and
/// uint8 widened to Int32 in memory, stored at their own width in the file).
public struct ModelTensor: Sendable, Equatable {
    public var name: String
    /// 1 to 4 dimensions.
    public var dims: [Int]
    public var type: TensorType
    public var values: [Float]
    public var integers: [Int32]

    public init(name: String, dims: [Int], values: [Float]) {
        self.name = name
        self.dims = dims
        self.type = .float32
        self.values = values
        self.integers = []
    }

    public init(name: String, dims: [Int], type: TensorType, integers: [Int32]) {
        precondition(type != .float32, "integer tensor with a float type")
        self.name = name
        self.dims = dims
        self.type = type
        self.values = []
        self.integers = integers
    }

    public var elementCount: Int { dims.reduce(1, *) }
}

/// Numeric precision of a whole program.
public enum Precision: UInt32, Sendable, Equatable {
    /// float32 weights and activations (format version 1 and later).
    case float32 = 0
    /// int8 weights, uint8 activations, integer-only arithmetic (format version 2).
    case int8 = 1
    /// int8 with chosen layers at 16-bit activations or in float (format version 2).
    case mixed = 2
}

/// What the generator is, as the importer inferred it (recorded in the model file for reports).
public struct GeneratorArchitecture: Sendable, Equatable, CustomStringConvertible {
    public var ngf: Int
    public var blockCount: Int
    /// Downsampling by strided 3x3 convolutions instead of conv + blur-pool.
    public var noAntialias: Bool
    /// Upsampling by ConvTranspose2d instead of blur-upsample + conv.
    public var noAntialiasUp: Bool

    public init(ngf: Int, blockCount: Int, noAntialias: Bool, noAntialiasUp: Bool) {
        self.ngf = ngf
        self.blockCount = blockCount
        self.noAntialias = noAntialias
        self.noAntialiasUp = noAntialiasUp
    }

    public var description: String {
        var s = "ResnetGenerator ngf=\(ngf) n_blocks=\(blockCount)"
        s += noAntialias ? " no_antialias" : " antialiased-down"
        s += noAntialiasUp ? " no_antialias_up" : " antialiased-up"
        return s
    }
}

/// What the program's input and output values mean.
public struct PixelEncoding: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    /// The input is pixel values 0...255 (the x/255*2-1 mapping is folded into the first
    /// convolution) instead of [-1, 1].
    public static let inputPixels = PixelEncoding(rawValue: 1)
    /// The output is pixel values (y+1)/2*255, not rounded, instead of tanh's [-1, 1].
    public static let outputPixels = PixelEncoding(rawValue: 2)
}

/// A whole compiled network: architecture, ops and tensors.
public struct ModelProgram: Sendable, Equatable {
    public var architecture: GeneratorArchitecture
    /// Input sides are padded (reflect, bottom/right) to a multiple of this and cropped back.
    public var sizeMultiple: Int

    /// `n` rounded up to the size multiple (the executors reflect-pad image sides to it).
    public func paddedSize(_ n: Int) -> Int { (n + sizeMultiple - 1) / sizeMultiple * sizeMultiple }

    /// The padded size of a height x width frame; an error when a side is too small to be
    /// reflect-padded to the size multiple (the padding must be smaller than the side).
    public func paddedFrame(height: Int, width: Int) throws(RuntimeError) -> (height: Int, width: Int) {
        let ph = paddedSize(height), pw = paddedSize(width)
        guard height >= 1, width >= 1, ph - height < height, pw - width < width else {
            throw RuntimeError(.unsupportedInput, "a \(width)x\(height) image is too small: sides are padded to a multiple of \(sizeMultiple) by reflection")
        }
        return (ph, pw)
    }
    public var ops: [ModelOp]
    public var tensors: [ModelTensor]
    public var encoding: PixelEncoding
    public var precision: Precision
    /// The `ColorAnchor` a runner fits to give the output the input's colours by default (nil:
    /// none; dcd-run --color-anchor): the generator cannot see brightness, contrast or colour
    /// cast (the InstanceNorm after its first convolution removes them), so a model whose
    /// outputs drift in colour is compiled with one (dcd-compile --color-anchor). It changes
    /// nothing in the program's own output.
    public var colorAnchor: ColorAnchor.Fit? = nil

    public init(architecture: GeneratorArchitecture, sizeMultiple: Int, ops: [ModelOp], tensors: [ModelTensor],
                encoding: PixelEncoding = [], precision: Precision = .float32) {
        self.architecture = architecture
        self.sizeMultiple = sizeMultiple
        self.ops = ops
        self.tensors = tensors
        self.encoding = encoding
        self.precision = precision
    }

    /// Number of SSA values: the input plus one per op.
    public var valueCount: Int { ops.count + 1 }
}
