import DCDRuntime

/// The network's input and output mappings between image samples and tensors.
extension Image {
    /// The RGB samples as the network's input: CHW, x / max * 2 - 1 (ToTensor then
    /// Normalize(0.5, 0.5); max = 255 for 8-bit, 65535 for 16-bit), values in [-1, 1].
    public func networkInput() -> FloatTensor {
        var t = FloatTensor(channels: 3, height: height, width: width)
        let scale = 2 / Float(maxValue)
        let plane = width * height
        for p in 0..<plane {
            for c in 0..<3 { t.storage[c * plane + p] = Float(rgb[p * 3 + c]) * scale - 1 }
        }
        return t
    }

    /// This image with its colour replaced by a network output (CHW, tanh values in [-1, 1]):
    /// (y + 1) / 2 * max, rounded half up and clamped. Alpha, size and format are kept.
    public func replacingColor(with output: FloatTensor) -> Image {
        precondition(output.channels == 3 && output.height == height && output.width == width, "output size differs from the image")
        var img = self
        let plane = width * height
        let m = Float(maxValue)
        for p in 0..<plane {
            for c in 0..<3 {
                let v = ((output.storage[c * plane + p] + 1) * 0.5 * m + 0.5).rounded(.down)
                img.rgb[p * 3 + c] = UInt16(min(max(v, 0), m))
            }
        }
        return img
    }
}
