/// A decoded PNG, kept in the form the tools process and write back.
///
/// Colour is always RGB, interleaved, one UInt16 per sample holding the file's values
/// (0...255 for 8-bit files, 0...65535 for 16-bit ones). Alpha, if the file had any, is kept
/// apart so that it passes through processing untouched. `colorType` and `bitDepth` say how to
/// write the result so that it matches the input (gray in, gray out; 16-bit in, 16-bit out).
public struct Image: Equatable, Sendable {
    public enum ColorType: String, Sendable {
        case gray, grayAlpha, rgb, rgba
        public var hasAlpha: Bool { self == .grayAlpha || self == .rgba }
        public var isGray: Bool { self == .gray || self == .grayAlpha }
    }

    public var width: Int
    public var height: Int
    /// 8 or 16.
    public var bitDepth: Int
    public var colorType: ColorType
    /// width * height * 3 samples, row-major, RGB interleaved.
    public var rgb: [UInt16]
    /// width * height samples when `colorType.hasAlpha`, else empty.
    public var alpha: [UInt16]

    public init(width: Int, height: Int, bitDepth: Int, colorType: ColorType, rgb: [UInt16], alpha: [UInt16] = []) {
        precondition(bitDepth == 8 || bitDepth == 16, "bit depth must be 8 or 16")
        precondition(rgb.count == width * height * 3, "rgb sample count does not match the size")
        precondition(alpha.count == (colorType.hasAlpha ? width * height : 0), "alpha sample count does not match")
        self.width = width
        self.height = height
        self.bitDepth = bitDepth
        self.colorType = colorType
        self.rgb = rgb
        self.alpha = alpha
    }

    /// Largest sample value: 255 or 65535.
    public var maxValue: Int { bitDepth == 16 ? 65535 : 255 }
}
