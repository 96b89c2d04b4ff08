import Testing
import DCDImage
import DCDPlatform
import DCDRuntime
import DCDTestSupport

/// ColorAnchor (dcd-run --color-anchor) against tools/rain/colour_fit.py's NumPy anchor() on
/// committed crops of rainy test tiles and a model's outputs (tools/make_anchor_fixtures.py),
/// and on lines it must recover exactly.
struct ColorAnchorTests {
    static func chw(_ image: Image) -> [Float] {
        let plane = image.width * image.height
        var out = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane { for c in 0..<3 { out[c * plane + p] = Float(image.rgb[p * 3 + c]) } }
        return out
    }

    @Test(arguments: ["light", "heavy"])
    func matchesTheNumPyReference(_ name: String) throws {
        let rainy = try PNGCodec.decode(try Fixtures.bytes("anchor/\(name).rainy.png"))
        let derained = try PNGCodec.decode(try Fixtures.bytes("anchor/\(name).derained.png"))
        let expected = String(decoding: try Fixtures.bytes("anchor/\(name).expected.txt"), as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Double(String($0))! }
        let input = Self.chw(rainy), output = Self.chw(derained)
        let anchor = output.withUnsafeBufferPointer { o in
            input.withUnsafeBufferPointer { i in ColorAnchor.fit(output: o, input: i, width: rainy.width, height: rainy.height) }
        }
        // Same arithmetic in float64, sums in another order (NumPy's pairwise sums): the IRLS
        // iterations agree to ~1e-12; 1e-7 of a gain and 1e-5 of a level leave room for that
        // and are far below one 8-bit level over the whole range (gain error x 255 < 3e-5).
        for c in 0..<3 {
            #expect(abs(anchor.gain[c] - expected[c]) <= 1e-7, "\(name) gain[\(c)] \(anchor.gain[c]) vs \(expected[c])")
            #expect(abs(anchor.offset[c] - expected[3 + c]) <= 1e-5, "\(name) offset[\(c)] \(anchor.offset[c]) vs \(expected[3 + c])")
        }
        #expect(anchor.rainyShare == expected[6] && abs(anchor.quantile - expected[7]) <= 1e-12, "\(name): \(anchor)")
    }

    /// An output that is an exact line of a rain-free input: the anchor is that line's inverse,
    /// whatever the quantile (all residuals reach 0). Sizes not multiples of the sampling step.
    @Test func recoversAnExactLine() {
        let width = 23, height = 18, plane = width * height
        var random = SeededRandom(seed: 11)
        var input = [Float](repeating: 0, count: 3 * plane), output = input
        // Gains that are powers of two and integer offsets: the Float outputs are exact.
        let gain: [Float] = [2, 0.5, 4], offset: [Float] = [20, -10, 4]
        for c in 0..<3 {
            for p in 0..<plane {
                input[c * plane + p] = Float(40 + random.next() % 150)
                output[c * plane + p] = (input[c * plane + p] - offset[c]) / gain[c]
            }
        }
        let anchor = output.withUnsafeBufferPointer { o in
            input.withUnsafeBufferPointer { i in ColorAnchor.fit(output: o, input: i, width: width, height: height) }
        }
        for c in 0..<3 {
            // Exact data: the fit is exact to Double rounding (1e-9 is ~1e5 ulps of these values).
            #expect(abs(anchor.gain[c] - Double(gain[c])) < 1e-9 && abs(anchor.offset[c] - Double(offset[c])) < 1e-9, "\(anchor)")
        }
        #expect(anchor.rainyShare == 0 && anchor.quantile == 0.5)
    }

    /// A flat output channel has no slope to fit: gain 0 and the offset at the input's level.
    @Test func flatOutputTakesTheInputsLevel() {
        let width = 8, height = 8, plane = 64
        let output = [Float](repeating: 100, count: 3 * plane)
        let input = [Float](repeating: 60, count: 3 * plane)
        let anchor = output.withUnsafeBufferPointer { o in
            input.withUnsafeBufferPointer { i in ColorAnchor.fit(output: o, input: i, width: width, height: height) }
        }
        for c in 0..<3 { #expect(anchor.gain[c] == 0 && abs(anchor.offset[c] - 60) < 1e-9, "\(anchor)") }
    }
}
