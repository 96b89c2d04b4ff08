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
enum InterleavedMapKernels {
    /// Size of the padded input of a convolution: (H + 2p) x (W + 2p), or for a transposed
    /// convolution the zero-inserted map ((H - 1) s + 1 + 2 (K - 1 - p) + outputPadding) likewise.
    static func convolutionInput(_ op: ModelOp, input: FeatureShape, kernel k: Int) -> FeatureShape {
        if op.kind == .convTranspose2d {
            let lead = k - 1 - op.padding
            return FeatureShape(channels: input.channels,
                                height: (input.height - 1) * op.stride + 1 + 2 * lead + op.outputPadding,
                                width: (input.width - 1) * op.stride + 1 + 2 * lead + op.outputPadding)
        }
        return FeatureShape(channels: input.channels, height: input.height + 2 * op.padding, width: input.width + 2 * op.padding)
    }

    /// The zero-inserted input of a transposed convolution: x(iy, ix) at (lead + iy s, lead + ix s),
    /// lead = K - 1 - p; every other pixel is zIn (real 0). A stride-1 convolution of it with the
    /// flipped, transposed weight is the transposed convolution (`Int8PackedConvolution`).
    static func dilate<S, E: Numeric>(_ x: InterleavedMap<S>, into y: InterleavedMap<E>, stride s: Int, lead: Int, zero: E,
                                      rows: Range<Int>, convert: (S) -> E) {
        for oy in rows {
            let row = y.pixel(oy, 0)
            for ox in 0..<y.width {
                (row + ox * y.channelStride).update(repeating: zero, count: x.channels)
                (row + ox * y.channelStride + x.channels).update(repeating: 0, count: y.channelStride - x.channels)
            }
            let ny = oy - lead
            guard ny >= 0, ny % s == 0, ny / s < x.height else { continue }
            for ix in 0..<x.width {
                InterleavedMapKernels.copy(x.pixel(ny / s, ix), to: y.pixel(oy, lead + ix * s), count: x.channelStride, convert)
            }
        }
    }


    /// A CHW image into an interleaved map at least as large, reflecting the image at its
    /// bottom and right edges (the executors' padding to the size multiple); padding channels
    /// are zeroed.
    static func interleave<S, E: Numeric>(_ x: PlanarTensor<S>, into map: InterleavedMap<E>, convert: (S) -> E) {
        map.base.update(repeating: 0, count: map.byteCount)
        x.storage.withUnsafeBufferPointer { s in
            for y in 0..<map.height {
                let sy = FloatReference.sourceIndex(y, x.height, .reflect)!
                for xx in 0..<map.width {
                    let sx = FloatReference.sourceIndex(xx, x.width, .reflect)!
                    let target = map.pixel(y, xx)
                    for c in 0..<x.channels { target[c] = convert(s[(c * x.height + sy) * x.width + sx]) }
                }
            }
        }
    }

    /// The top-left `height` x `width` pixels of an interleaved map, as CHW.
    static func planar<S, E: Numeric>(_ map: InterleavedMap<S>, height: Int, width: Int, convert: (S) -> E) -> PlanarTensor<E> {
        var out = PlanarTensor<E>(channels: map.channels, height: height, width: width)
        out.storage.withUnsafeMutableBufferPointer { o in
            for c in 0..<map.channels {
                for y in 0..<height {
                    for x in 0..<width { o[(c * height + y) * width + x] = convert(map.pixel(y, x)[c]) }
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
