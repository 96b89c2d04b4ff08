/// The image ops of the generator and discriminator, NCHW, as the reference network composes
/// them: padding is a separate op (reflect or zero), convolutions have no padding of their own.
extension Ops {
    public enum Padding { case zero, reflect, replicate }

    /// Source index of padded position i (in padded coordinates, `before` pixels of padding) in
    /// a side of n pixels; nil for zero padding outside. Reflection as torch's ReflectionPad2d,
    /// replication as ReplicationPad2d.
    @inline(__always)
    static func source(_ i: Int, before: Int, _ n: Int, _ mode: Padding) -> Int? {
        var s = i - before
        if s >= 0 && s < n { return s }
        if mode == .replicate { return s < 0 ? 0 : n - 1 }
        guard mode == .reflect else { return nil }
        if s < 0 { s = -s }
        if s >= n { s = 2 * (n - 1) - s }
        return s
    }

    /// Pads H by (top, bottom) and W by (left, right).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func pad<T>(_ x: Variable<T>, top: Int, bottom: Int, left: Int, right: Int, mode: Padding) -> Variable<T> {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(mode == .zero || (top < h && bottom < h && left < w && right < w), "reflect padding must be smaller than the side")
        let oh = h + top + bottom, ow = w + left + right
        // For each output element, its source element (or -1).
        var index = [Int](repeating: -1, count: n * c * oh * ow)
        for plane in 0..<(n * c) {
            for oy in 0..<oh {
                guard let sy = source(oy, before: top, h, mode) else { continue }
                for ox in 0..<ow {
                    guard let sx = source(ox, before: left, w, mode) else { continue }
                    index[(plane * oh + oy) * ow + ox] = (plane * h + sy) * w + sx
                }
            }
        }
        return Variable(shape: [n, c, oh, ow], values: index.map { $0 >= 0 ? x.values[$0] : 0 }, parents: [x]) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count)
            for (i, s) in index.enumerated() where s >= 0 { gx[s] += g[i] }
            x.accumulate(gx)
        }
    }

    /// Rows top..<top+height and columns left..<left+width.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func crop<T>(_ x: Variable<T>, top: Int, left: Int, height: Int, width: Int) -> Variable<T> {
        let (h, w) = (x.shape[2], x.shape[3])
        return pad(x, top: -top, bottom: height - h + top, left: -left, right: width - w + left, mode: .zero)
    }

    /// out[n, o, y, x] = b[o] + sum w[o, i, ky, kx] * x[n, i, y*s + ky, x*s + kx].
    /// Stride 1 runs as row operations (out row += w * input row, and their transposes for the
    /// gradients) that the compiler vectorizes; other strides use the plain loops.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func conv2d<T>(_ x: Variable<T>, _ w: Variable<T>, _ b: Variable<T>?, stride s: Int = 1) -> Variable<T> {
        guard s == 1 else { return conv2dLoops(x, w, b, stride: s) }
        let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k) = (w.shape[0], w.shape[2])
        precondition(w.shape[1] == ci && w.shape[3] == k && h >= k && wd >= k, "conv2d: input \(x.shape), weight \(w.shape)")
        let oh = h - k + 1, ow = wd - k + 1
        var out = [T](repeating: 0, count: n * co * oh * ow)
        out.withUnsafeMutableBufferPointer { o in
            x.values.withUnsafeBufferPointer { xv in
                w.values.withUnsafeBufferPointer { wv in
                    // Output planes are independent: one task per (image, output channel).
                    Ops.parallel.run(taskCount: n * co) { task in
                        let b0 = task / co, oc = task % co
                        do {
                            let plane = o.baseAddress! + (b0 * co + oc) * oh * ow
                            let bias = b?.values[oc] ?? 0
                            for i in 0..<(oh * ow) { plane[i] = bias }
                            for i in 0..<ci {
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let weight = wv[((oc * ci + i) * k + ky) * k + kx]
                                        for oy in 0..<oh {
                                            let src = xv.baseAddress! + ((b0 * ci + i) * h + oy + ky) * wd + kx
                                            let dst = plane + oy * ow
                                            for ox in 0..<ow { dst[ox] += weight * src[ox] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Variable(shape: [n, co, oh, ow], values: out, parents: [x, w] + (b.map { [$0] } ?? [])) { y in
            var gx = [T](repeating: 0, count: x.count), gw = [T](repeating: 0, count: w.count), gb = [T](repeating: 0, count: co)
            y.grad!.withUnsafeBufferPointer { g in
                x.values.withUnsafeBufferPointer { xv in
                    w.values.withUnsafeBufferPointer { wv in
                        gw.withUnsafeMutableBufferPointer { gwv in
                            gb.withUnsafeMutableBufferPointer { gbv in
                                // Weight and bias gradients: one task per output channel (its weights).
                                Ops.parallel.run(taskCount: co) { oc in
                                    for b0 in 0..<n {
                                        let gplane = g.baseAddress! + (b0 * co + oc) * oh * ow
                                        var sum: T = 0
                                        for i in 0..<(oh * ow) { sum += gplane[i] }
                                        gbv[oc] += sum
                                        for i in 0..<ci {
                                            for ky in 0..<k {
                                                for kx in 0..<k {
                                                    var dot: T = 0
                                                    for oy in 0..<oh {
                                                        let src = xv.baseAddress! + ((b0 * ci + i) * h + oy + ky) * wd + kx
                                                        let grow = gplane + oy * ow
                                                        for ox in 0..<ow { dot += grow[ox] * src[ox] }
                                                    }
                                                    gwv[((oc * ci + i) * k + ky) * k + kx] += dot
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        gx.withUnsafeMutableBufferPointer { gxv in
                            // Input gradients: one task per (image, input channel) plane.
                            Ops.parallel.run(taskCount: n * ci) { task in
                                let b0 = task / ci, i = task % ci
                                for oc in 0..<co {
                                    let gplane = g.baseAddress! + (b0 * co + oc) * oh * ow
                                    for ky in 0..<k {
                                        for kx in 0..<k {
                                            let weight = wv[((oc * ci + i) * k + ky) * k + kx]
                                            for oy in 0..<oh {
                                                let dst = gxv.baseAddress! + ((b0 * ci + i) * h + oy + ky) * wd + kx
                                                let grow = gplane + oy * ow
                                                for ox in 0..<ow { dst[ox] += weight * grow[ox] }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            x.accumulate(gx)
            w.accumulate(gw)
            b?.accumulate(gb)
        }
    }

    /// The plain definition (any stride); `conv2d` uses it for strides other than 1.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func conv2dLoops<T>(_ x: Variable<T>, _ w: Variable<T>, _ b: Variable<T>?, stride s: Int) -> Variable<T> {
        let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k) = (w.shape[0], w.shape[2])
        precondition(w.shape[1] == ci && w.shape[3] == k && h >= k && wd >= k, "conv2d: input \(x.shape), weight \(w.shape)")
        let oh = (h - k) / s + 1, ow = (wd - k) / s + 1
        var out = [T](repeating: 0, count: n * co * oh * ow)
        for b0 in 0..<n {
            for o in 0..<co {
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var acc = b?.values[o] ?? 0
                        for i in 0..<ci {
                            for ky in 0..<k {
                                let row = ((b0 * ci + i) * h + oy * s + ky) * wd + ox * s
                                let wrow = ((o * ci + i) * k + ky) * k
                                for kx in 0..<k { acc += w.values[wrow + kx] * x.values[row + kx] }
                            }
                        }
                        out[((b0 * co + o) * oh + oy) * ow + ox] = acc
                    }
                }
            }
        }
        return Variable(shape: [n, co, oh, ow], values: out, parents: [x, w] + (b.map { [$0] } ?? [])) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count), gw = [T](repeating: 0, count: w.count), gb = [T](repeating: 0, count: co)
            for b0 in 0..<n {
                for o in 0..<co {
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let go = g[((b0 * co + o) * oh + oy) * ow + ox]
                            if go == 0 { continue }
                            gb[o] += go
                            for i in 0..<ci {
                                for ky in 0..<k {
                                    let row = ((b0 * ci + i) * h + oy * s + ky) * wd + ox * s
                                    let wrow = ((o * ci + i) * k + ky) * k
                                    for kx in 0..<k {
                                        gx[row + kx] += go * w.values[wrow + kx]
                                        gw[wrow + kx] += go * x.values[row + kx]
                                    }
                                }
                            }
                        }
                    }
                }
            }
            x.accumulate(gx)
            w.accumulate(gw)
            b?.accumulate(gb)
        }
    }

    /// The antialiasing filters: the same fixed K x K taps on every channel, stride s; or, with
    /// `transposed`, the transposed convolution (out[y*s + ky, x*s + kx] += taps * in[y, x];
    /// output (H - 1) s + K). No gradient to the taps (they are constants).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func blur<T>(_ x: Variable<T>, taps: [T], kernel k: Int, stride s: Int, transposed: Bool = false) -> Variable<T> {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = transposed ? ((h - 1) * s + k, (w - 1) * s + k) : ((h - k) / s + 1, (w - k) / s + 1)
        // Per (input element, output element, tap) triple, the plain definition both ways.
        func visit(_ body: (_ input: Int, _ output: Int, _ tap: T) -> Void) {
            let (sh, sw) = transposed ? (h, w) : (oh, ow)  // the side the stride steps over
            for plane in 0..<(n * c) {
                for a in 0..<sh {
                    for b in 0..<sw {
                        for ky in 0..<k {
                            for kx in 0..<k {
                                let (iy, ix, oy, ox) = transposed ? (a, b, a * s + ky, b * s + kx) : (a * s + ky, b * s + kx, a, b)
                                body((plane * h + iy) * w + ix, (plane * oh + oy) * ow + ox, taps[ky * k + kx])
                            }
                        }
                    }
                }
            }
        }
        var out = [T](repeating: 0, count: n * c * oh * ow)
        visit { i, o, t in out[o] += t * x.values[i] }
        return Variable(shape: [n, c, oh, ow], values: out, parents: [x]) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count)
            visit { i, o, t in gx[i] += t * g[o] }
            x.accumulate(gx)
        }
    }

    /// InstanceNorm2d without affine parameters: per (n, c) plane, (x - mean) / sqrt(var + eps)
    /// with the biased variance, as torch.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func instanceNorm<T>(_ x: Variable<T>, eps: T = 1e-5) -> Variable<T> {
        let planes = x.shape[0] * x.shape[1], size = x.shape[2] * x.shape[3]
        var out = x.values
        var inverse = [T](repeating: 0, count: planes)
        for p in 0..<planes {
            let range = (p * size)..<((p + 1) * size)
            var mean = 0.0, variance = 0.0
            for i in range { mean += Double(x.values[i]) }
            mean /= Double(size)
            for i in range { let d = Double(x.values[i]) - mean; variance += d * d }
            variance /= Double(size)
            let inv = 1 / (variance + Double(eps)).squareRoot()
            inverse[p] = T(inv)
            for i in range { out[i] = T((Double(x.values[i]) - mean) * inv) }
        }
        return Variable(shape: x.shape, values: out, parents: [x]) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count)
            for p in 0..<planes {
                let range = (p * size)..<((p + 1) * size)
                var meanG = 0.0, meanGY = 0.0
                for i in range { meanG += Double(g[i]); meanGY += Double(g[i]) * Double(out[i]) }
                meanG /= Double(size)
                meanGY /= Double(size)
                // dx = (g - mean(g) - y mean(g y)) / sigma.
                for i in range { gx[i] = T((Double(g[i]) - meanG - Double(out[i]) * meanGY) * Double(inverse[p])) }
            }
            x.accumulate(gx)
        }
    }
}
