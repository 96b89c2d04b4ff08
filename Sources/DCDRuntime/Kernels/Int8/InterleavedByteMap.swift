/// A feature map in the layout the int8 kernels read: channels interleaved per pixel.
///
/// Layout (HWC, padded channels): pixel (y, x) occupies `channelStride` consecutive elements at
/// element offset `(y * width + x) * channelStride`; elements 0..<channels are the channel codes,
/// the rest (up to `channelStride`, a multiple of 4: one 4-channel dot-product group) are padding
/// that convolution weights multiply by zero. A pixel's channels are one broadcast load away,
/// which is what the dot-product instructions consume (vpdpbusd, sdot: 4 channels per lane;
/// vpmaddwd: 2). int8 activations are bytes (`InterleavedByteMap`); a convolution's padded
/// input copy has the element type its kernel reads (`Int8ConvolutionKernel.Input`); the float
/// executor keeps Float maps in the same layout.
///
/// The map does not own its memory: it points into the executor's arena, planned at load.
typealias InterleavedByteMap = InterleavedMap<UInt8>

struct InterleavedMap<Element> {
    var base: UnsafeMutablePointer<Element>
    var channels: Int
    var height: Int
    var width: Int
    var channelStride: Int

    static func channelStride(_ channels: Int) -> Int { (channels + 3) / 4 * 4 }
    /// Elements of a map of this shape (bytes for byte maps).
    static func byteCount(_ shape: FeatureShape) -> Int { shape.height * shape.width * channelStride(shape.channels) }

    init(base: UnsafeMutablePointer<Element>, shape: FeatureShape) {
        self.base = base
        channels = shape.channels
        height = shape.height
        width = shape.width
        channelStride = Self.channelStride(shape.channels)
    }

    /// Elements per row and in all (bytes for byte maps).
    var rowBytes: Int { width * channelStride }
    var shape: FeatureShape { FeatureShape(channels: channels, height: height, width: width) }
    var byteCount: Int { height * rowBytes }

    @inline(__always)
    func pixel(_ y: Int, _ x: Int) -> UnsafeMutablePointer<Element> { base + (y * width + x) * channelStride }
}

/// Layout conversions and the data-movement ops of int8 programs (pad, crop), on interleaved
/// maps. Plain loops: they move bytes, a few percent of the time of a convolution.
enum InterleavedByteKernels {
    /// CHW bytes -> interleaved; padding channels are zeroed.
    static func interleave(_ x: ByteTensor, into map: InterleavedByteMap) {
        precondition(x.channels == map.channels && x.height == map.height && x.width == map.width)
        map.base.update(repeating: 0, count: map.byteCount)
        x.storage.withUnsafeBufferPointer { s in
            for c in 0..<x.channels {
                for y in 0..<x.height {
                    for xx in 0..<x.width { map.pixel(y, xx)[c] = s[(c * x.height + y) * x.width + xx] }
                }
            }
        }
    }

    /// Interleaved -> CHW bytes (the first `channels` channels).
    static func planar(_ map: InterleavedByteMap) -> ByteTensor {
        var out = ByteTensor(channels: map.channels, height: map.height, width: map.width)
        out.storage.withUnsafeMutableBufferPointer { o in
            for c in 0..<map.channels {
                for y in 0..<map.height {
                    for x in 0..<map.width { o[(c * map.height + y) * map.width + x] = map.pixel(y, x)[c] }
                }
            }
        }
        return out
    }

    /// Pads by (top, bottom, left, right): whole pixels (all `channelStride` elements) are
    /// copied from their source pixel (`FloatReference.sourceIndex`), or filled with `zero` in
    /// zero mode (padding channels with 0). The output has the input's channel stride; its
    /// element type may differ (bytes widened to the int16 a kernel reads).
    static func pad<S, E: Numeric>(_ x: InterleavedMap<S>, into y: InterleavedMap<E>, mode: PaddingMode,
                                   top: Int, left: Int, zero: E, rows: Range<Int>, convert: (S) -> E) {
        let stride = x.channelStride
        for oy in rows {
            let sy = FloatReference.sourceIndex(oy - top, x.height, mode)
            for ox in 0..<y.width {
                let target = y.pixel(oy, ox)
                if let sy, let sx = FloatReference.sourceIndex(ox - left, x.width, mode) {
                    copy(x.pixel(sy, sx), to: target, count: stride, convert)
                } else {
                    target.update(repeating: zero, count: x.channels)
                    (target + x.channels).update(repeating: 0, count: stride - x.channels)
                }
            }
        }
    }

    /// `count` elements, converted; a memory copy when the types are the same.
    @inline(__always)
    static func copy<S, E>(_ source: UnsafePointer<S>, to target: UnsafeMutablePointer<E>, count: Int, _ convert: (S) -> E) {
        if S.self == E.self {
            UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: count * MemoryLayout<S>.stride)
        } else {
            for c in 0..<count { target[c] = convert(source[c]) }
        }
    }

    /// Removes `top` rows and `left` columns (the output's size says how many remain).
    static func crop<E>(_ x: InterleavedMap<E>, into y: InterleavedMap<E>, top: Int, left: Int, rows: Range<Int>) {
        for oy in rows {
            y.pixel(oy, 0).update(from: x.pixel(oy + top, left), count: y.rowBytes)
        }
    }
}
