import CLibPNG

/// All libpng calls of the project, through libpng's simplified API (png_image_*), which catches
/// libpng's errors internally (its own setjmp) and returns 0 with a message: no longjmp ever
/// crosses a Swift frame.
///
/// 8-bit files are read as 8-bit sRGB, 16-bit files as 16-bit (the simplified API's "linear"
/// format; files without a gAMA chunk are passed through unchanged). Gray, gray+alpha, palette and
/// interlaced files are expanded by libpng. Note the simplified API premultiplies colour by alpha
/// in 16-bit mode; `decode` undoes it, so 16-bit colour under partial alpha keeps about
/// 16 - log2(65535 / alpha) bits.
public enum PNGCodec {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var message: String
        public var description: String { message }
    }

    private static func message(_ image: png_image) -> String {
        var m = image.message
        let text = withUnsafeBytes(of: &m) { raw -> String in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "libpng error" : text
    }

    public static func decode(_ data: [UInt8]) throws(Failure) -> Image {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { raw in
            png_image_begin_read_from_memory(&image, raw.baseAddress, raw.count)
        }
        guard began != 0 else { throw Failure(message: "not a readable PNG: \(message(image))") }
        defer { png_image_free(&image) }
        let fileFormat = image.format
        let sixteen = fileFormat & UInt32(PNG_FORMAT_FLAG_LINEAR) != 0
        let hasAlpha = fileFormat & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let isGray = fileFormat & UInt32(PNG_FORMAT_FLAG_COLOR) == 0 && fileFormat & UInt32(PNG_FORMAT_FLAG_COLORMAP) == 0
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width <= 1 << 16, height <= 1 << 16 else {
            throw Failure(message: "image size \(width)x\(height) is outside 1...65536")
        }
        let channels = hasAlpha ? 4 : 3
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR) | (hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0) | (sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let count = width * height * channels
        let colorType: Image.ColorType = isGray ? (hasAlpha ? .grayAlpha : .gray) : (hasAlpha ? .rgba : .rgb)
        var rgb = [UInt16](repeating: 0, count: width * height * 3)
        var alpha = [UInt16](repeating: 0, count: hasAlpha ? width * height : 0)
        if sixteen {
            var buffer = [UInt16](repeating: 0, count: count)
            let ok = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil) }
            guard ok != 0 else { throw Failure(message: "corrupt PNG data: \(message(image))") }
            for p in 0..<(width * height) {
                let a = hasAlpha ? Int(buffer[p * 4 + 3]) : 65535
                if hasAlpha { alpha[p] = UInt16(a) }
                for c in 0..<3 {
                    let v = Int(buffer[p * channels + c])
                    // Undo premultiplication (rounded); fully transparent pixels have no colour.
                    rgb[p * 3 + c] = a == 65535 ? UInt16(v) : (a == 0 ? 0 : UInt16(min(65535, (v * 65535 + a / 2) / a)))
                }
            }
        } else {
            var buffer = [UInt8](repeating: 0, count: count)
            let ok = buffer.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * channels), nil) }
            guard ok != 0 else { throw Failure(message: "corrupt PNG data: \(message(image))") }
            for p in 0..<(width * height) {
                for c in 0..<3 { rgb[p * 3 + c] = UInt16(buffer[p * channels + c]) }
                if hasAlpha { alpha[p] = UInt16(buffer[p * 4 + 3]) }
            }
        }
        return Image(width: width, height: height, bitDepth: sixteen ? 16 : 8, colorType: colorType, rgb: rgb, alpha: alpha)
    }

    /// Encodes in the image's own colour type and bit depth. Gray output is the BT.601 luma of the
    /// RGB samples (for a gray input processed as RGB, the three channels are close to equal).
    public static func encode(_ img: Image) throws(Failure) -> [UInt8] {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        image.width = UInt32(img.width)
        image.height = UInt32(img.height)
        let sixteen = img.bitDepth == 16
        let gray = img.colorType.isGray, hasAlpha = img.colorType.hasAlpha
        let channels = (gray ? 1 : 3) + (hasAlpha ? 1 : 0)
        image.format = (gray ? 0 : UInt32(PNG_FORMAT_FLAG_COLOR)) | (hasAlpha ? UInt32(PNG_FORMAT_FLAG_ALPHA) : 0) | (sixteen ? UInt32(PNG_FORMAT_FLAG_LINEAR) : 0)
        let pixels = img.width * img.height
        var samples = [UInt16](repeating: 0, count: pixels * channels)
        for p in 0..<pixels {
            let a = hasAlpha ? Int(img.alpha[p]) : img.maxValue
            var colour: [Int] = gray
                ? [(299 * Int(img.rgb[p * 3]) + 587 * Int(img.rgb[p * 3 + 1]) + 114 * Int(img.rgb[p * 3 + 2]) + 500) / 1000]
                : [Int(img.rgb[p * 3]), Int(img.rgb[p * 3 + 1]), Int(img.rgb[p * 3 + 2])]
            if sixteen && hasAlpha {
                // The 16-bit simplified API takes premultiplied colour.
                colour = colour.map { ($0 * a + 32767) / 65535 }
            }
            for (c, v) in colour.enumerated() { samples[p * channels + c] = UInt16(v) }
            if hasAlpha { samples[p * channels + channels - 1] = UInt16(a) }
        }
        var size = 0
        let stride = Int32(img.width * channels)
        func write(_ out: UnsafeMutableRawPointer?, _ size: inout Int) -> Int32 {
            if sixteen {
                return samples.withUnsafeBytes { png_image_write_to_memory(&image, out, &size, 0, $0.baseAddress, stride, nil) }
            }
            let bytes = samples.map { UInt8(truncatingIfNeeded: $0) }
            return bytes.withUnsafeBytes { png_image_write_to_memory(&image, out, &size, 0, $0.baseAddress, stride, nil) }
        }
        guard write(nil, &size) != 0 else { throw Failure(message: "cannot encode PNG: \(message(image))") }
        var out = [UInt8](repeating: 0, count: size)
        let ok = out.withUnsafeMutableBytes { write($0.baseAddress, &size) }
        guard ok != 0 else { throw Failure(message: "cannot encode PNG: \(message(image))") }
        return Array(out[0..<size])
    }
}
