/// A feature map of one image: `channels` planes of `height` rows of `width` elements.
///
/// Layout: CHW, row-major, no padding between rows or planes:
/// element (c, y, x) is at `storage[(c * height + y) * width + x]`.
/// This is PyTorch's NCHW with N = 1, so weights and fixtures index the same way.
public struct PlanarTensor<Element: Numeric & Sendable>: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var storage: [Element]

    public init(channels: Int, height: Int, width: Int, repeating value: Element = 0) {
        precondition(channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = [Element](repeating: value, count: channels * height * width)
    }

    public init(channels: Int, height: Int, width: Int, storage: [Element]) {
        precondition(storage.count == channels * height * width, "storage does not match shape")
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    public var planeSize: Int { height * width }
    public var shape: FeatureShape { FeatureShape(channels: channels, height: height, width: width) }

    @inlinable
    public subscript(c: Int, y: Int, x: Int) -> Element {
        get { storage[(c * height + y) * width + x] }
        set { storage[(c * height + y) * width + x] = newValue }
    }
}

extension PlanarTensor: Equatable where Element: Equatable {}

/// float32 activations and images in pixel units.
public typealias FloatTensor = PlanarTensor<Float>

/// 8-bit pixels (int8 models' input and output).
public typealias ByteTensor = PlanarTensor<UInt8>

/// Quantized activations as integer codes: 8-bit values use 0...255, 16-bit ones 0...65535
/// (real = scale * (code - zeroPoint)). The int8 reference executor keeps every value in this
/// form so that 8- and 16-bit activations share one definition.
public typealias CodeTensor = PlanarTensor<Int32>

extension PlanarTensor where Element == Int32 {
    public init(_ bytes: ByteTensor) {
        self.init(channels: bytes.channels, height: bytes.height, width: bytes.width, storage: bytes.storage.map { Int32($0) })
    }
}

/// The shape of a CHW feature map.
public struct FeatureShape: Equatable, Sendable, CustomStringConvertible {
    public var channels: Int
    public var height: Int
    public var width: Int

    public init(channels: Int, height: Int, width: Int) {
        self.channels = channels
        self.height = height
        self.width = width
    }

    public var elementCount: Int { channels * height * width }
    public var description: String { "\(channels)x\(height)x\(width)" }
}
