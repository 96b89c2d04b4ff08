/// Camera frames as firmware and video pipelines hand them over: 8-bit RGB24 (interleaved) or
/// NV12 (a Y plane, then interleaved Cb Cr at half resolution), each row `rowBytes` apart.
/// Shared by the C API (frames straight into the executors' interleaved maps, no intermediate
/// image) and by dcd-run's raw streams (`DCDImage.RawFrameFormat`), so that both convert alike.
public struct YCbCr: Sendable, Equatable {
    public enum Matrix: Sendable { case bt601, bt709 }
    public enum Range: Sendable { case limited, full }
    public var matrix: Matrix
    public var range: Range

    public init(matrix: Matrix, range: Range) {
        self.matrix = matrix
        self.range = range
    }

    /// Luma coefficients (Kr, Kb).
    var kr: Double { matrix == .bt601 ? 0.299 : 0.2126 }
    var kb: Double { matrix == .bt601 ? 0.114 : 0.0722 }

    /// R, G, B (0...255, rounded half up, clamped) of one Y, Cb, Cr sample triple.
    @inline(__always)
    public func rgb(y: UInt8, cb: UInt8, cr: UInt8) -> (UInt8, UInt8, UInt8) {
        let kr = self.kr, kb = self.kb, kg = 1 - kr - kb
        let yScale = range == .full ? 1.0 : 255.0 / 219, cScale = range == .full ? 1.0 : 255.0 / 224
        let luma = (Double(y) - (range == .full ? 0 : 16)) * yScale
        let u = (Double(cb) - 128) * cScale, v = (Double(cr) - 128) * cScale
        return (Self.byte(luma + 2 * (1 - kr) * v),
                Self.byte(luma - 2 * kb * (1 - kb) / kg * u - 2 * kr * (1 - kr) / kg * v),
                Self.byte(luma + 2 * (1 - kb) * u))
    }

    /// Y of one RGB pixel (0...255 scale of the range, rounded).
    @inline(__always)
    public func luma(_ r: UInt8, _ g: UInt8, _ b: UInt8) -> UInt8 {
        let l = kr * Double(r) + (1 - kr - kb) * Double(g) + kb * Double(b)
        return Self.byte(range == .full ? l : 16 + l * 219 / 255)
    }

    /// Cb and Cr of the mean chroma of `count` RGB pixels (their sums given).
    @inline(__always)
    public func chroma(red: Double, green: Double, blue: Double, count: Double) -> (UInt8, UInt8) {
        let l = (kr * red + (1 - kr - kb) * green + kb * blue) / count
        let scale = range == .full ? 1.0 : 224.0 / 255
        return (Self.byte(128 + (blue / count - l) / (2 * (1 - kb)) * scale), Self.byte(128 + (red / count - l) / (2 * (1 - kr)) * scale))
    }

    @inline(__always)
    static func byte(_ value: Double) -> UInt8 {
        let v = (value + 0.5).rounded(.down)
        return v <= 0 ? 0 : (v >= 255 ? 255 : UInt8(v))
    }
}

/// A frame in host memory.
public struct CameraFrame {
    public enum Format: Sendable, Equatable { case rgb24, nv12(YCbCr) }
    public var format: Format
    public var width: Int, height: Int
    /// Bytes between rows (of the Y plane and of the Cb Cr plane for NV12).
    public var rowBytes: Int

    public init(format: Format, width: Int, height: Int, rowBytes: Int? = nil) {
        self.format = format
        self.width = width
        self.height = height
        self.rowBytes = rowBytes ?? (format == .rgb24 ? width * 3 : width)
    }

    /// Bytes the frame occupies (NV12: the Y plane, then the Cb Cr plane right after it).
    public var byteCount: Int {
        switch format {
        case .rgb24: return rowBytes * height
        case .nv12: return rowBytes * height + rowBytes * (height / 2)
        }
    }

    /// Whether the frame can be read or written: sides >= 1, NV12 sides even, rows long enough.
    public var isValid: Bool {
        guard width >= 1, height >= 1 else { return false }
        switch format {
        case .rgb24: return rowBytes >= width * 3
        case .nv12: return width % 2 == 0 && height % 2 == 0 && rowBytes >= width
        }
    }

    /// Writes the frame into the top-left of `map` (3 channels; padding channels zeroed) and
    /// fills the rest of the map by reflection at the bottom and right edges, as
    /// `InterleavedMapKernels.interleave` does for tensors.
    func load<E: Numeric>(_ pixels: UnsafePointer<UInt8>, into map: InterleavedMap<E>, _ convert: (UInt8) -> E) {
        for y in 0..<height {
            for x in 0..<width {
                let target = map.pixel(y, x)
                let (r, g, b) = rgb(pixels, x, y)
                target[0] = convert(r); target[1] = convert(g); target[2] = convert(b)
                for c in 3..<map.channelStride { target[c] = 0 }
            }
        }
        for y in 0..<map.height {
            let sy = FloatReference.sourceIndex(y, height, .reflect)!
            for x in 0..<map.width where y >= height || x >= width {
                let sx = FloatReference.sourceIndex(x, width, .reflect)!
                map.pixel(y, x).update(from: map.pixel(sy, sx), count: map.channelStride)
            }
        }
    }

    @inline(__always)
    func rgb(_ p: UnsafePointer<UInt8>, _ x: Int, _ y: Int) -> (UInt8, UInt8, UInt8) {
        switch format {
        case .rgb24:
            let q = p + y * rowBytes + x * 3
            return (q[0], q[1], q[2])
        case .nv12(let conversion):
            let c = p + rowBytes * height + (y / 2) * rowBytes + (x / 2) * 2
            return conversion.rgb(y: p[y * rowBytes + x], cb: c[0], cr: c[1])
        }
    }

    /// Writes the top-left width x height pixels of `map` (channels 0...2, `toBytes(R, G, B)`
    /// per pixel) into the frame; NV12 chroma is the mean over each 2 x 2 block.
    func store<E>(_ map: InterleavedMap<E>, into pixels: UnsafeMutablePointer<UInt8>, _ toBytes: (E, E, E) -> (UInt8, UInt8, UInt8)) {
        @inline(__always) func bytes(_ y: Int, _ x: Int) -> (UInt8, UInt8, UInt8) {
            let s = map.pixel(y, x)
            return toBytes(s[0], s[1], s[2])
        }
        switch format {
        case .rgb24:
            for y in 0..<height {
                for x in 0..<width {
                    let q = pixels + y * rowBytes + x * 3
                    (q[0], q[1], q[2]) = bytes(y, x)
                }
            }
        case .nv12(let conversion):
            for y in 0..<height {
                for x in 0..<width {
                    let (r, g, b) = bytes(y, x)
                    pixels[y * rowBytes + x] = conversion.luma(r, g, b)
                }
            }
            for cy in 0..<(height / 2) {
                for cx in 0..<(width / 2) {
                    var r = 0.0, g = 0.0, b = 0.0
                    for dy in 0..<2 {
                        for dx in 0..<2 {
                            let p = bytes(2 * cy + dy, 2 * cx + dx)
                            r += Double(p.0); g += Double(p.1); b += Double(p.2)
                        }
                    }
                    let (cb, cr) = conversion.chroma(red: r, green: g, blue: b, count: 4)
                    let q = pixels + rowBytes * height + cy * rowBytes + cx * 2
                    q[0] = cb; q[1] = cr
                }
            }
        }
    }
}

/// A float pixel value (0...255 scale) as a byte: rounded half up, clamped to 0...255 (every
/// float output's rounding: the executors' frames, ColorAnchor.byte).
@inlinable
public func pixelByte(_ v: Float) -> UInt8 {
    let p = (v + 0.5).rounded(.down)
    return p >= 0 && p <= 255 ? UInt8(p) : (p > 255 ? 255 : 0)
}

/// A value of an executor's output map as a pixel value (0...255 scale, not rounded): int8 maps
/// hold pixels; float maps hold tanh's [-1, 1] unless the program outputs pixels.
protocol OutputMapValue {
    static func pixel(_ v: Self, networkRange: Bool) -> Double
}

extension UInt8: OutputMapValue {
    @inline(__always) static func pixel(_ v: UInt8, networkRange: Bool) -> Double { Double(v) }
}

extension Float: OutputMapValue {
    /// In Float, as FloatExecutor.derain(pixels:) converts, so that the anchor sees the values
    /// dcd-run's images anchor.
    @inline(__always) static func pixel(_ v: Float, networkRange: Bool) -> Double { Double(pixelValue(v, networkRange: networkRange)) }
    @inline(__always) static func pixelValue(_ v: Float, networkRange: Bool) -> Float { networkRange ? (v + 1) / 2 * 255 : v }
}

/// A derained frame's output map and the frame it came from, sampled for `ColorAnchor.fit`
/// (the input's RGB as the executors read it: NV12 through the frame's conversion).
struct FrameAnchorSamples<E: OutputMapValue>: ColorAnchorSamples {
    let frame: CameraFrame, pixels: UnsafePointer<UInt8>, map: InterleavedMap<E>, networkRange: Bool
    let grid: ColorAnchor.SampleGrid
    var count: Int { grid.count }

    init(frame: CameraFrame, pixels: UnsafePointer<UInt8>, map: InterleavedMap<E>, networkRange: Bool) {
        self.frame = frame; self.pixels = pixels; self.map = map; self.networkRange = networkRange
        grid = ColorAnchor.SampleGrid(width: frame.width, height: frame.height)
    }

    @inline(__always) func sample(_ i: Int, channel c: Int) -> (output: Double, input: Double) {
        let (x, y) = grid.position(i)
        let (r, g, b) = frame.rgb(pixels, x, y)
        return (E.pixel(map.pixel(y, x)[c], networkRange: networkRange) / 255, Double(c == 0 ? r : (c == 1 ? g : b)) / 255)
    }
}
