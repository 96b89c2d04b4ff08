/// A float32 feature map of one image: `channels` planes of `height` rows of `width` values.
///
/// Layout: CHW, row-major, no padding between rows or planes:
/// element (c, y, x) is at `storage[(c * height + y) * width + x]`.
/// This is PyTorch's NCHW with N = 1, so weights and fixtures index the same way.
public struct FloatTensor: Sendable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var storage: [Float]

    public init(channels: Int, height: Int, width: Int, repeating value: Float = 0) {
        precondition(channels >= 0 && height >= 0 && width >= 0, "negative tensor dimension")
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = [Float](repeating: value, count: channels * height * width)
    }

    public init(channels: Int, height: Int, width: Int, storage: [Float]) {
        precondition(storage.count == channels * height * width, "storage does not match shape")
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    public var planeSize: Int { height * width }
    public var shape: FeatureShape { FeatureShape(channels: channels, height: height, width: width) }

    @inlinable
    public subscript(c: Int, y: Int, x: Int) -> Float {
        get { storage[(c * height + y) * width + x] }
        set { storage[(c * height + y) * width + x] = newValue }
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
