/// The fixed blur filters of int8 programs (blur-pool downsampling, blur upsampling) on
/// interleaved maps, vectorized across channels.
///
/// Definition (the reference: `Int8ReferenceExecutor.blur`): out = (sum tap * q + 2^(shift-1))
/// >> shift. The fast path requires what the compiler emits: one set of taps for all channels,
/// every tap >= 0, summing to 2^shift, so the result is a weighted mean of codes (0...255, no
/// clamp can trigger); the executor checks this at load and otherwise runs the reference.
/// A transposed (upsampling) filter of stride s sums to s^2 * 2^shift: each output pixel sees one
/// phase of it (taps ky = oy + p mod s, likewise x), and each phase must sum to at most 2^shift.
struct Int8BlurTaps {
    /// K x K taps, row-major.
    var taps: [Int32]
    var kernel: Int
    var shift: Int

    /// nil unless the filter has the shape the fast path requires (see above).
    init?(weight: ModelTensor, shift: Int, transposedStride: Int?) {
        let c = weight.dims[0], k = weight.dims[2]
        let first = Array(weight.integers[0..<(k * k)])
        guard first.allSatisfy({ $0 >= 0 }) else { return nil }
        let s = transposedStride ?? 1
        for py in 0..<s {
            for px in 0..<s {
                var sum: Int32 = 0
                for ky in stride(from: py, to: k, by: s) {
                    for kx in stride(from: px, to: k, by: s) { sum += first[ky * k + kx] }
                }
                guard sum <= Int32(1) << shift else { return nil }
            }
        }
        for ch in 1..<max(1, c) where Array(weight.integers[(ch * k * k)..<((ch + 1) * k * k)]) != first { return nil }
        taps = first
        kernel = k
        self.shift = shift
    }
}

enum Int8Blur {
    /// One output pixel: sum of `count` (tap, source pixel) pairs over all channels, rounded and
    /// shifted. Channels in chunks of 16 (one SIMD16<Int32> accumulator), then singly.
    @inline(__always)
    static func mean(_ sources: UnsafePointer<UnsafePointer<UInt8>>, _ weights: UnsafePointer<Int32>, count: Int,
                     channels: Int, shift: Int, into target: UnsafeMutablePointer<UInt8>) {
        let half: Int32 = shift > 0 ? 1 << (shift - 1) : 0
        var c = 0
        while c + 16 <= channels {
            var acc = SIMD16<Int32>(repeating: half)
            for t in 0..<count {
                let v = UnsafeRawPointer(sources[t] + c).loadUnaligned(as: SIMD16<UInt8>.self)
                acc &+= SIMD16<Int32>(truncatingIfNeeded: v) &* weights[t]
            }
            UnsafeMutableRawPointer(target + c).storeBytes(of: SIMD16<UInt8>(truncatingIfNeeded: acc &>> Int32(shift)), as: SIMD16<UInt8>.self)
            c += 16
        }
        while c < channels {
            var acc = half
            for t in 0..<count { acc &+= Int32(sources[t][c]) &* weights[t] }
            target[c] = UInt8(truncatingIfNeeded: acc >> Int32(shift))
            c += 1
        }
    }

    /// Depthwise (blur-pool) convolution: out(oy, ox) = sum over taps of x(src(oy*s+ky-p),
    /// src(ox*s+kx-p)), with `FloatReference.sourceIndex` for the border (zero mode: skipped).
    static func convolve(_ x: InterleavedByteMap, into y: InterleavedByteMap, _ f: Int8BlurTaps,
                         stride: Int, padding: Int, mode: PaddingMode, rows: Range<Int>) {
        BlurGather.convolve(x, into: y, taps: f.taps, kernel: f.kernel, stride: stride, padding: padding, mode: mode, rows: rows) {
            mean($0, $1, count: $2, channels: x.channels, shift: f.shift, into: $3)
        }
    }

    /// Depthwise transposed convolution (blur upsampling), gathered (see `BlurGather`).
    static func convolveTransposed(_ x: InterleavedByteMap, into y: InterleavedByteMap, _ f: Int8BlurTaps,
                                   stride: Int, padding: Int, rows: Range<Int>) {
        BlurGather.convolveTransposed(x, into: y, taps: f.taps, kernel: f.kernel, stride: stride, padding: padding, rows: rows) {
            mean($0, $1, count: $2, channels: x.channels, shift: f.shift, into: $3)
        }
    }
}

/// Which input pixels, with which tap, make each output pixel of a depthwise filter: shared by
/// the int8 and float blurs, which differ only in how they combine them (`combine(sources,
/// taps, count, target)`).
enum BlurGather {
    static func convolve<E, W>(_ x: InterleavedMap<E>, into y: InterleavedMap<E>, taps: [W], kernel k: Int, stride: Int, padding: Int,
                               mode: PaddingMode, rows: Range<Int>,
                               combine: (UnsafePointer<UnsafePointer<E>>, UnsafePointer<W>, Int, UnsafeMutablePointer<E>) -> Void) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<E>.self, capacity: k * k) { sources in
            withUnsafeTemporaryAllocation(of: W.self, capacity: k * k) { weights in
                for oy in rows {
                    for ox in 0..<y.width {
                        var n = 0
                        for ky in 0..<k {
                            guard let sy = FloatReference.sourceIndex(oy * stride + ky - padding, x.height, mode) else { continue }
                            for kx in 0..<k {
                                guard let sx = FloatReference.sourceIndex(ox * stride + kx - padding, x.width, mode) else { continue }
                                sources[n] = UnsafePointer(x.pixel(sy, sx))
                                weights[n] = taps[ky * k + kx]
                                n += 1
                            }
                        }
                        combine(sources.baseAddress!, weights.baseAddress!, n, y.pixel(oy, ox))
                    }
                }
            }
        }
    }

    /// Transposed, gathered: output (oy, ox) receives input (iy, ix) through tap (ky, kx) when
    /// oy = iy * s - p + ky (likewise x), the same sum a scatter forms.
    static func convolveTransposed<E, W>(_ x: InterleavedMap<E>, into y: InterleavedMap<E>, taps: [W], kernel k: Int, stride: Int,
                                         padding: Int, rows: Range<Int>,
                                         combine: (UnsafePointer<UnsafePointer<E>>, UnsafePointer<W>, Int, UnsafeMutablePointer<E>) -> Void) {
        withUnsafeTemporaryAllocation(of: UnsafePointer<E>.self, capacity: k * k) { sources in
            withUnsafeTemporaryAllocation(of: W.self, capacity: k * k) { weights in
                for oy in rows {
                    for ox in 0..<y.width {
                        var n = 0
                        for ky in 0..<k {
                            let ny = oy + padding - ky
                            guard ny >= 0, ny % stride == 0, ny / stride < x.height else { continue }
                            for kx in 0..<k {
                                let nx = ox + padding - kx
                                guard nx >= 0, nx % stride == 0, nx / stride < x.width else { continue }
                                sources[n] = UnsafePointer(x.pixel(ny / stride, nx / stride))
                                weights[n] = taps[ky * k + kx]
                                n += 1
                            }
                        }
                        combine(sources.baseAddress!, weights.baseAddress!, n, y.pixel(oy, ox))
                    }
                }
            }
        }
    }
}
