import Testing
import DCDImage
import DCDTestSupport

/// PNG decoding of every colour type and depth against the samples the fixture script wrote by
/// hand (tools/make_fixtures.py), round trips through our encoder, and clean errors on bad files.
struct PNGCodecTests {
    struct Expectation: Sendable, CustomStringConvertible {
        var file: String
        var colorType: Image.ColorType
        var bitDepth: Int
        var description: String { file }
    }

    static let files: [Expectation] = [
        .init(file: "png_rgba8", colorType: .rgba, bitDepth: 8),
        .init(file: "png_gray16", colorType: .gray, bitDepth: 16),
        .init(file: "png_graya8", colorType: .grayAlpha, bitDepth: 8),
        .init(file: "png_rgb16_interlaced", colorType: .rgb, bitDepth: 16),
        // Palette with transparency expands to 8-bit RGBA.
        .init(file: "png_palette", colorType: .rgba, bitDepth: 8),
    ]

    @Test(arguments: files)
    func decodesEveryColourTypeExactly(_ e: Expectation) throws {
        let image = try PNGCodec.decode(try Fixtures.bytes(e.file + ".png"))
        let expected = try NPYArray(bytes: try Fixtures.bytes(e.file + ".expected.npy"))
        #expect(image.colorType == e.colorType)
        #expect(image.bitDepth == e.bitDepth)
        #expect([image.height, image.width, 4] == expected.shape)
        for p in 0..<(image.width * image.height) {
            for c in 0..<3 where Float(image.rgb[p * 3 + c]) != expected.values[p * 4 + c] {
                Issue.record("\(e.file): pixel \(p) channel \(c) is \(image.rgb[p * 3 + c]), expected \(expected.values[p * 4 + c])")
                return
            }
            if image.colorType.hasAlpha {
                #expect(Float(image.alpha[p]) == expected.values[p * 4 + 3])
            }
        }
    }

    @Test(arguments: files)
    func roundTripsKeepFormatAndSamples(_ e: Expectation) throws {
        let image = try PNGCodec.decode(try Fixtures.bytes(e.file + ".png"))
        let again = try PNGCodec.decode(try PNGCodec.encode(image))
        #expect(again == image)
    }

    @Test func sixteenBitAlphaPassesThroughExactly() throws {
        // 16-bit RGBA: alpha is exact. Colour goes through libpng's 16-bit simplified API, which
        // stores colour premultiplied: our premultiply and libpng's re-premultiply on reading each
        // round by up to half a premultiplied level, and each level is 65535 / alpha colour
        // levels after un-premultiplying; libpng's un-premultiply on writing and ours on reading
        // round once more each. Bound: 65535 / alpha + 2 levels.
        var rng = SeededRandom(seed: 9)
        let n = 11 * 7
        let rgb = (0..<(n * 3)).map { _ in UInt16(truncatingIfNeeded: rng.next()) }
        let alpha = (0..<n).map { i in i == 0 ? 0 : UInt16(truncatingIfNeeded: rng.next()) | 0x100 }
        let image = Image(width: 11, height: 7, bitDepth: 16, colorType: .rgba, rgb: rgb, alpha: alpha)
        let again = try PNGCodec.decode(try PNGCodec.encode(image))
        #expect(again.alpha == alpha)
        #expect(again.bitDepth == 16)
        for p in 1..<n {
            let bound = 65535 / Int(alpha[p]) + 2
            for c in 0..<3 {
                #expect(abs(Int(again.rgb[p * 3 + c]) - Int(rgb[p * 3 + c])) <= bound, "pixel \(p) alpha \(alpha[p])")
            }
        }
    }

    @Test func corruptFilesGiveErrors() throws {
        let good = try Fixtures.bytes("png_rgba8.png")
        // Truncated inside the image data.
        #expect(throws: PNGCodec.Failure.self) { _ = try PNGCodec.decode(Array(good[0..<(good.count / 2)])) }
        #expect(throws: PNGCodec.Failure.self) { _ = try PNGCodec.decode(Array(good[0..<20])) }
        // A flipped bit in the IDAT data fails the chunk CRC.
        var flipped = good
        flipped[good.count - 30] ^= 0x10
        #expect(throws: PNGCodec.Failure.self) { _ = try PNGCodec.decode(flipped) }
        // Not a PNG.
        #expect(throws: PNGCodec.Failure.self) { _ = try PNGCodec.decode(Array("not a png at all".utf8)) }
        #expect(throws: PNGCodec.Failure.self) { _ = try PNGCodec.decode([]) }
    }
}
