import Testing
@testable import DCDImage
import DCDTestSupport

/// YCbCr conversion of raw frames against ffmpeg's swscale (fixtures from
/// tools/make_raw_fixtures.sh): a 128x64 frame of 16x16 single-colour blocks in nv12 and
/// yuv420p, BT.601 and BT.709, limited and full range.
///
/// Luma is compared everywhere; chroma and decoded RGB only away from block edges (samples
/// 4 or more pixels inside their block), where the subsampling and upsampling filters and the
/// chroma siting (swscale's defaults differ from ours: co-sited left, wide filters) see one
/// colour. Tolerances: swscale converts in fixed point with coefficients and intermediate
/// values rounded to 13-15 fractional bits, we in Double with one rounding at the end; luma
/// comes out identical, chroma within 1 level, RGB decoded from the same YCbCr within 2.
struct RawFrameTests {
    static let width = 128, height = 64

    static func source() throws -> Image {
        let bytes = try Fixtures.bytes("raw/blocks_128x64.rgb24")
        return Image(width: width, height: height, bitDepth: 8, colorType: .rgb, rgb: bytes.map { UInt16($0) })
    }

    struct Case: CustomStringConvertible, Sendable {
        var pixelFormat: RawFrameFormat.PixelFormat, matrix: RawFrameFormat.Matrix, range: RawFrameFormat.Range
        var description: String { "\(matrix.rawValue).\(range.rawValue).\(pixelFormat.rawValue)" }
    }

    static let cases: [Case] = [RawFrameFormat.PixelFormat.nv12, .yuv420p].flatMap { f in
        RawFrameFormat.Matrix.allCases.flatMap { m in RawFrameFormat.Range.allCases.map { Case(pixelFormat: f, matrix: m, range: $0) } }
    }

    /// Whether chroma sample (cx, cy) sees only its own 16x16 block (8x8 in chroma units).
    static func chromaInterior(_ cx: Int, _ cy: Int) -> Bool { (2...5).contains(cx % 8) && (2...5).contains(cy % 8) }
    static func pixelInterior(_ x: Int, _ y: Int) -> Bool { (4...11).contains(x % 16) && (4...11).contains(y % 16) }

    @Test(arguments: cases)
    func encodingMatchesFFmpeg(_ c: Case) throws {
        let format = try RawFrameFormat(width: Self.width, height: Self.height, pixelFormat: c.pixelFormat, matrix: c.matrix, range: c.range)
        var mine: [UInt8] = []
        format.encode(try Self.source(), into: &mine)
        let reference = try Fixtures.bytes("raw/blocks_128x64.\(c)")
        #expect(mine.count == format.frameBytes && reference.count == format.frameBytes)
        let plane = Self.width * Self.height, cw = Self.width / 2, chromaCount = plane / 4
        var lumaOff = 0, chromaOff = 0
        for i in 0..<plane where mine[i] != reference[i] { lumaOff += 1 }
        for cy in 0..<(Self.height / 2) {
            for cx in 0..<cw where Self.chromaInterior(cx, cy) {
                let i = cy * cw + cx
                let (u, v) = c.pixelFormat == .nv12 ? (plane + 2 * i, plane + 2 * i + 1) : (plane + i, plane + chromaCount + i)
                if abs(Int(mine[u]) - Int(reference[u])) > 1 || abs(Int(mine[v]) - Int(reference[v])) > 1 { chromaOff += 1 }
            }
        }
        #expect(lumaOff == 0, "\(c): \(lumaOff) luma samples differ")
        #expect(chromaOff == 0, "\(c): \(chromaOff) chroma samples off by more than 1")
    }

    @Test(arguments: cases)
    func decodingMatchesFFmpeg(_ c: Case) throws {
        let format = try RawFrameFormat(width: Self.width, height: Self.height, pixelFormat: c.pixelFormat, matrix: c.matrix, range: c.range)
        let frame = try Fixtures.bytes("raw/blocks_128x64.\(c)")
        let reference = try Fixtures.bytes("raw/blocks_128x64.\(c).rgb24")
        let mine = frame.withUnsafeBufferPointer { format.decode($0) }
        var off = 0
        for y in 0..<Self.height {
            for x in 0..<Self.width where Self.pixelInterior(x, y) {
                for k in 0..<3 where abs(Int(mine.rgb[(y * Self.width + x) * 3 + k]) - Int(reference[(y * Self.width + x) * 3 + k])) > 2 { off += 1 }
            }
        }
        #expect(off == 0, "\(c): \(off) samples off by more than 2")
    }

    @Test func rgb24IsTheBytesThemselves() throws {
        let format = try RawFrameFormat(width: 3, height: 1, pixelFormat: .rgb24)
        let bytes: [UInt8] = [0, 1, 2, 250, 251, 252, 7, 8, 9]
        let image = bytes.withUnsafeBufferPointer { format.decode($0) }
        #expect(image.rgb == bytes.map { UInt16($0) })
        var out: [UInt8] = []
        format.encode(image, into: &out)
        #expect(out == bytes)
    }

    @Test func oddSizesAreRefusedFor420() {
        #expect(throws: RawFrameFormat.Invalid.self) { try RawFrameFormat(width: 31, height: 24, pixelFormat: .nv12) }
        #expect(throws: RawFrameFormat.Invalid.self) { try RawFrameFormat(width: 32, height: 23, pixelFormat: .yuv420p) }
        #expect(throws: RawFrameFormat.Invalid.self) { try RawFrameFormat(width: 0, height: 2, pixelFormat: .rgb24) }
        #expect((try? RawFrameFormat(width: 31, height: 23, pixelFormat: .rgb24)) != nil)
    }
}
