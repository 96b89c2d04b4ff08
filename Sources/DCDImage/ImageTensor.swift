import DCDRuntime

/// Between image samples and the runtime's pixel-unit tensors (CHW, 0...255 per channel).
extension Image {
    /// The RGB samples in pixel units: 8-bit samples as they are, 16-bit ones scaled by 255/65535.
    public func pixelTensor() -> FloatTensor {
        var t = FloatTensor(channels: 3, height: height, width: width)
        let scale = 255 / Float(maxValue)
        let plane = width * height
        for p in 0..<plane {
            for c in 0..<3 { t.storage[c * plane + p] = bitDepth == 8 ? Float(rgb[p * 3 + c]) : Float(rgb[p * 3 + c]) * scale }
        }
        return t
    }

    /// This image with its colour replaced by a network output in pixel units ((y + 1) / 2 * 255):
    /// scaled to the image's bit depth, rounded half up and clamped. Alpha, size and format are kept.
    public func replacingColor(withPixels output: FloatTensor) -> Image {
        precondition(output.channels == 3 && output.height == height && output.width == width, "output size differs from the image")
        var img = self
        let plane = width * height
        let m = Float(maxValue)
        let scale = m / 255
        for p in 0..<plane {
            for c in 0..<3 {
                let v = (output.storage[c * plane + p] * scale + 0.5).rounded(.down)
                img.rgb[p * 3 + c] = UInt16(min(max(v, 0), m))
            }
        }
        return img
    }
}

extension Image {
    /// The RGB samples as 8-bit pixels (CHW) for int8 models: 16-bit samples are rounded to 8 bits.
    public func byteTensor() -> ByteTensor {
        var t = ByteTensor(channels: 3, height: height, width: width)
        let plane = width * height
        for p in 0..<plane {
            for c in 0..<3 {
                let v = Int(rgb[p * 3 + c])
                t.storage[c * plane + p] = UInt8(bitDepth == 8 ? v : (v * 255 + 32767) / 65535)
            }
        }
        return t
    }

    /// This image with its colour replaced by 8-bit pixels (16-bit images get v * 257).
    public func replacingColor(withBytes output: ByteTensor) -> Image {
        precondition(output.channels == 3 && output.height == height && output.width == width, "output size differs from the image")
        var img = self
        let plane = width * height
        for p in 0..<plane {
            for c in 0..<3 {
                let v = UInt16(output.storage[c * plane + p])
                img.rgb[p * 3 + c] = bitDepth == 8 ? v : v * 257
            }
        }
        return img
    }
}
