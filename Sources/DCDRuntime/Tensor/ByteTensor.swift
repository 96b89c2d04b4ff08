/// A uint8 feature map of one image, CHW like `FloatTensor`: element (c, y, x) is at
/// `storage[(c * height + y) * width + x]`. Quantized activations (real = s * (q - z)) and pixels.
public struct ByteTensor: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var storage: [UInt8]

    public init(channels: Int, height: Int, width: Int, repeating value: UInt8 = 0) {
        self.channels = channels
        self.height = height
        self.width = width
        storage = [UInt8](repeating: value, count: channels * height * width)
    }

    public init(channels: Int, height: Int, width: Int, storage: [UInt8]) {
        precondition(storage.count == channels * height * width, "storage does not match shape")
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    public var planeSize: Int { height * width }

    @inlinable
    public subscript(c: Int, y: Int, x: Int) -> UInt8 {
        get { storage[(c * height + y) * width + x] }
        set { storage[(c * height + y) * width + x] = newValue }
    }
}
