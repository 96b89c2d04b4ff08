import DCDRuntime

/// Raw video frames as camera pipelines and ffmpeg's rawvideo muxer move them: rgb24, nv12 and
/// yuv420p, 8 bits per sample, no headers or padding between frames.
///
/// Layouts (W x H, both even for the 4:2:0 formats):
/// - rgb24: W * H * 3 bytes, R G B per pixel, row-major.
/// - nv12: the Y plane (W * H bytes), then one plane of interleaved U V pairs at half resolution
///   ((W / 2) * (H / 2) * 2 bytes).
/// - yuv420p: the Y plane, then the U plane, then the V plane, each (W / 2) * (H / 2) bytes.
///
/// YCbCr <-> RGB with the BT.601 or BT.709 luma coefficients (Kr, Kb), in limited range
/// (Y 16...235, Cb/Cr 16...240, as video usually is) or full range (0...255), by the runtime's
/// `YCbCr` (Double arithmetic, rounded half up, clamped). Decoding replicates each chroma
/// sample over its 2 x 2 luma pixels; encoding averages the 2 x 2 RGB pixels' chroma.
public struct RawFrameFormat: Equatable, Sendable {
    public enum PixelFormat: String, CaseIterable, Sendable { case rgb24, nv12, yuv420p }
    public enum Matrix: String, CaseIterable, Sendable { case bt601, bt709 }
    public enum Range: String, CaseIterable, Sendable { case limited, full }

    public var width: Int
    public var height: Int
    public var pixelFormat: PixelFormat
    public var matrix: Matrix
    public var range: Range

    public struct Invalid: Error, CustomStringConvertible { public var description: String }

    public init(width: Int, height: Int, pixelFormat: PixelFormat, matrix: Matrix = .bt601, range: Range = .limited) throws(Invalid) {
        guard width >= 1, height >= 1, width <= 16384, height <= 16384 else {
            throw Invalid(description: "frame size \(width)x\(height) is outside 1x1...16384x16384")
        }
        if pixelFormat != .rgb24 && (width % 2 != 0 || height % 2 != 0) {
            throw Invalid(description: "\(pixelFormat.rawValue) needs an even width and height (4:2:0 chroma), got \(width)x\(height)")
        }
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.matrix = matrix
        self.range = range
    }

    /// Bytes of one frame.
    public var frameBytes: Int {
        pixelFormat == .rgb24 ? width * height * 3 : width * height + 2 * (width / 2) * (height / 2)
    }

    /// The conversion, shared with the runtime's C API (`DCDRuntime.YCbCr`).
    var conversion: YCbCr {
        YCbCr(matrix: matrix == .bt601 ? .bt601 : .bt709, range: range == .limited ? .limited : .full)
    }

    /// The runtime's description of one frame (packed rows), for the layouts the executors'
    /// camera-frame path reads (rgb24, nv12); nil for yuv420p.
    public var cameraFrame: CameraFrame? {
        switch pixelFormat {
        case .rgb24: CameraFrame(format: .rgb24, width: width, height: height)
        case .nv12: CameraFrame(format: .nv12(conversion), width: width, height: height)
        case .yuv420p: nil
        }
    }

    /// One frame's bytes as an 8-bit RGB image.
    public func decode(_ frame: UnsafeBufferPointer<UInt8>) -> Image {
        precondition(frame.count >= frameBytes, "a frame needs \(frameBytes) bytes")
        let w = width, h = height
        var rgb = [UInt16](repeating: 0, count: w * h * 3)
        if pixelFormat == .rgb24 {
            for i in 0..<(w * h * 3) { rgb[i] = UInt16(frame[i]) }
            return Image(width: w, height: h, bitDepth: 8, colorType: .rgb, rgb: rgb)
        }
        let conversion = self.conversion
        let chroma = w * h, cw = w / 2
        for y in 0..<h {
            for x in 0..<w {
                let ci = (y / 2) * cw + x / 2
                let cb: UInt8, cr: UInt8
                if pixelFormat == .nv12 {
                    cb = frame[chroma + 2 * ci]; cr = frame[chroma + 2 * ci + 1]
                } else {
                    cb = frame[chroma + ci]; cr = frame[chroma + (w / 2) * (h / 2) + ci]
                }
                let (r, g, b) = conversion.rgb(y: frame[y * w + x], cb: cb, cr: cr)
                let p = (y * w + x) * 3
                rgb[p] = UInt16(r); rgb[p + 1] = UInt16(g); rgb[p + 2] = UInt16(b)
            }
        }
        return Image(width: w, height: h, bitDepth: 8, colorType: .rgb, rgb: rgb)
    }

    /// An 8-bit RGB image of this size as one frame's bytes, appended to `out`.
    public func encode(_ image: Image, into out: inout [UInt8]) {
        precondition(image.width == width && image.height == height && image.bitDepth == 8, "the image must be 8-bit \(width)x\(height)")
        let w = width, h = height, rgb = image.rgb
        if pixelFormat == .rgb24 {
            out.append(contentsOf: rgb.lazy.map { UInt8($0) })
            return
        }
        let conversion = self.conversion
        out.reserveCapacity(out.count + frameBytes)
        for p in 0..<(w * h) { out.append(conversion.luma(UInt8(rgb[3 * p]), UInt8(rgb[3 * p + 1]), UInt8(rgb[3 * p + 2]))) }
        let cw = w / 2, ch = h / 2
        var u = [UInt8](repeating: 0, count: cw * ch), v = [UInt8](repeating: 0, count: cw * ch)
        for cy in 0..<ch {
            for cx in 0..<cw {
                var r = 0.0, g = 0.0, b = 0.0
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let p = ((2 * cy + dy) * w + 2 * cx + dx) * 3
                    r += Double(rgb[p]); g += Double(rgb[p + 1]); b += Double(rgb[p + 2])
                }
                (u[cy * cw + cx], v[cy * cw + cx]) = conversion.chroma(red: r, green: g, blue: b, count: 4)
            }
        }
        if pixelFormat == .nv12 {
            for i in 0..<(cw * ch) { out.append(u[i]); out.append(v[i]) }
        } else {
            out.append(contentsOf: u)
            out.append(contentsOf: v)
        }
    }
}
