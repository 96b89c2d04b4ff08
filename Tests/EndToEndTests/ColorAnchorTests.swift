import Testing
import DCDImage
import DCDPlatform
import DCDRuntime
import DCDTestSupport

/// ColorAnchor (dcd-run --color-anchor, --anchor-fit) against tools/rain/colour_fit.py's NumPy
/// anchor() and matrix_anchor() on committed crops of rainy test tiles and a model's outputs
/// (tools/make_anchor_fixtures.py), and on maps it must recover exactly.
struct ColorAnchorTests {
    static func chw(_ image: Image) -> [Float] {
        let plane = image.width * image.height
        var out = [Float](repeating: 0, count: 3 * plane)
        for p in 0..<plane { for c in 0..<3 { out[c * plane + p] = Float(image.rgb[p * 3 + c]) } }
        return out
    }

    static func fixture(_ name: String, _ fit: ColorAnchor.Fit) throws -> (anchor: ColorAnchor, expected: [Double]) {
        let rainy = try PNGCodec.decode(try Fixtures.bytes("anchor/\(name).rainy.png"))
        let derained = try PNGCodec.decode(try Fixtures.bytes("anchor/\(name).derained.png"))
        let expected = String(decoding: try Fixtures.bytes("anchor/\(name).\(fit == .matrix ? "matrix" : "expected").txt"), as: UTF8.self)
            .split(whereSeparator: { $0 == " " || $0 == "\n" }).map { Double(String($0))! }
        let input = Self.chw(rainy), output = Self.chw(derained)
        let anchor = output.withUnsafeBufferPointer { o in
            input.withUnsafeBufferPointer { i in ColorAnchor.fit(output: o, input: i, width: rainy.width, height: rainy.height, fit) }
        }
        return (anchor, expected)
    }

    @Test(arguments: ["light", "heavy"])
    func matchesTheNumPyReference(_ name: String) throws {
        let (anchor, expected) = try Self.fixture(name, .perChannel)
        // Same arithmetic in float64, sums in another order (NumPy's pairwise sums): the IRLS
        // iterations agree to ~1e-12; 1e-7 of a gain and 1e-5 of a level leave room for that
        // and are far below one 8-bit level over the whole range (gain error x 255 < 3e-5).
        for c in 0..<3 {
            #expect(abs(anchor.gain[c] - expected[c]) <= 1e-7, "\(name) gain[\(c)] \(anchor.gain[c]) vs \(expected[c])")
            #expect(abs(anchor.offset[c] - expected[3 + c]) <= 1e-5, "\(name) offset[\(c)] \(anchor.offset[c]) vs \(expected[3 + c])")
        }
        #expect(anchor.rainyShare == expected[6] && abs(anchor.quantile - expected[7]) <= 1e-12, "\(name): \(anchor)")
    }

    @Test(arguments: ["light", "heavy"])
    func matrixMatchesTheNumPyReference(_ name: String) throws {
        let (anchor, expected) = try Self.fixture(name, .matrix)
        // As above, but through 4x4 normal equations of correlated columns (a derained image's
        // R, G and B), whose solution magnifies the sums' rounding differences by the matrix's
        // condition number (2.6e4 and 1.7e3 here unweighted, colour_fit.py): 1e-6 of a coefficient and 1e-4 of a level still
        // move no pixel by more than ~1e-3 of a level.
        for c in 0..<3 {
            let row = anchor.row(c)
            for k in 0..<3 {
                #expect(abs(row[k] - expected[4 * c + k]) <= 1e-6, "\(name) row \(c)[\(k)] \(row[k]) vs \(expected[4 * c + k])")
            }
            #expect(abs(row[3] - expected[4 * c + 3]) <= 1e-4, "\(name) row \(c) offset \(row[3]) vs \(expected[4 * c + 3])")
        }
        #expect(anchor.rainyShare == expected[12] && abs(anchor.quantile - expected[13]) <= 1e-12, "\(name): \(anchor)")
    }

    /// An output whose colours an exact colour matrix and offset map onto a rain-free input:
    /// the matrix anchor is that map (the per-channel one cannot be). Matrix entries that are
    /// multiples of 1/4 and integer outputs: the Float inputs are exact.
    @Test func matrixRecoversAnExactColourMap() {
        let width = 23, height = 18, plane = width * height
        var random = SeededRandom(seed: 5)
        var input = [Float](repeating: 0, count: 3 * plane), output = input
        let rows: [SIMD4<Double>] = [SIMD4(1, 0.5, 0, 10), SIMD4(0.25, 1, -0.25, 20), SIMD4(0, 0.5, 0.75, -5)]
        for p in 0..<plane {
            let o = SIMD4<Double>(Double(20 + random.next() % 100), Double(20 + random.next() % 100), Double(20 + random.next() % 100), 1)
            for c in 0..<3 {
                output[c * plane + p] = Float(o[c])
                input[c * plane + p] = Float((rows[c] * o).sum())
            }
        }
        let anchor = output.withUnsafeBufferPointer { o in
            input.withUnsafeBufferPointer { i in ColorAnchor.fit(output: o, input: i, width: width, height: height, .matrix) }
        }
        for c in 0..<3 {
            // Exact data: the fit is exact to Double rounding (1e-8 of a coefficient or a level
            // is ~1e5 ulps).
            #expect(largestDifference(anchor.row(c), rows[c]) < 1e-8, "row \(c): \(anchor.row(c)) vs \(rows[c])")
        }
        #expect(anchor.rainyShare == 0 && anchor.quantile == 0.5)
    }

    /// Grey outputs (R = G = B) leave the matrix's planes undetermined: each channel falls back
    /// to its line, so the matrix anchor is exactly the per-channel one.
    @Test func greyOutputFallsBackToLines() {
        let width = 20, height = 16, plane = width * height
        var random = SeededRandom(seed: 9)
        var input = [Float](repeating: 0, count: 3 * plane), output = input
        for p in 0..<plane {
            let grey = Float(30 + random.next() % 180)
            for c in 0..<3 {
                output[c * plane + p] = grey
                input[c * plane + p] = grey * [0.75, 1, 1.25][c] + Float(random.next() % 9)
            }
        }
        let (perChannel, matrix) = output.withUnsafeBufferPointer { o in
            input.withUnsafeBufferPointer { i in
                (ColorAnchor.fit(output: o, input: i, width: width, height: height, .perChannel),
                 ColorAnchor.fit(output: o, input: i, width: width, height: height, .matrix))
            }
        }
        #expect(matrix == perChannel && perChannel.gain.x > 0.5, "\(matrix) vs \(perChannel)")
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
