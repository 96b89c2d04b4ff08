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

/// Quantized activations as integer codes, CHW like `FloatTensor`: 8-bit values use 0...255,
/// 16-bit ones 0...65535 (real = scale * (code - zeroPoint)). The int8 reference executor keeps
/// every value in this form so that 8- and 16-bit activations share one definition.
public struct CodeTensor: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    public var storage: [Int32]

    public init(channels: Int, height: Int, width: Int, repeating value: Int32 = 0) {
        self.channels = channels
        self.height = height
        self.width = width
        storage = [Int32](repeating: value, count: channels * height * width)
    }

    public init(channels: Int, height: Int, width: Int, storage: [Int32]) {
        precondition(storage.count == channels * height * width, "storage does not match shape")
        self.channels = channels
        self.height = height
        self.width = width
        self.storage = storage
    }

    public init(_ bytes: ByteTensor) {
        channels = bytes.channels
        height = bytes.height
        width = bytes.width
        storage = bytes.storage.map { Int32($0) }
    }

    @inlinable
    public subscript(c: Int, y: Int, x: Int) -> Int32 {
        get { storage[(c * height + y) * width + x] }
        set { storage[(c * height + y) * width + x] = newValue }
    }
}
