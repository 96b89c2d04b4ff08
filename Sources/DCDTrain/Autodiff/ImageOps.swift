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

    /// Pads H by (top, bottom) and W by (left, right) (negative amounts crop).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func pad<T>(_ x: Variable<T>, top: Int, bottom: Int, left: Int, right: Int, mode: Padding) -> Variable<T> {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        precondition(mode == .zero || (top < h && bottom < h && left < w && right < w), "reflect padding must be smaller than the side")
        let oh = h + top + bottom, ow = w + left + right
        // Source row of every output row and source column of every output column (-1: zero).
        let rows = (0..<oh).map { source($0, before: top, h, mode) ?? -1 }
        let columns = (0..<ow).map { source($0, before: left, w, mode) ?? -1 }
        // The output columns that copy a contiguous run of the source row: left ..< left + w
        // clipped to the output.
        let run = max(0, left)..<min(ow, left + w)
        let planes = n * c
        // Planes are independent tasks when the tensor is large enough to be worth splitting.
        let parallel = planes * oh * ow >= 2 * Ops.elementwiseGrain ? Ops.parallel : .serial
        var out = [T](repeating: 0, count: planes * oh * ow)
        out.withUnsafeMutableBufferPointer { o in
            x.values.withUnsafeBufferPointer { xv in
                parallel.run(taskCount: planes) { plane in
                    for oy in 0..<oh where rows[oy] >= 0 {
                        let src = xv.baseAddress! + (plane * h + rows[oy]) * w, dst = o.baseAddress! + (plane * oh + oy) * ow
                        for ox in 0..<run.lowerBound where columns[ox] >= 0 { dst[ox] = src[columns[ox]] }
                        if !run.isEmpty { (dst + run.lowerBound).update(from: src + run.lowerBound - left, count: run.count) }
                        for ox in run.upperBound..<ow where columns[ox] >= 0 { dst[ox] = src[columns[ox]] }
                    }
                }
            }
        }
        return Variable(shape: [n, c, oh, ow], values: out, parents: [x]) { y in
            var gx = [T](repeating: 0, count: x.count)
            gx.withUnsafeMutableBufferPointer { gv in
                y.grad!.withUnsafeBufferPointer { g in
                    parallel.run(taskCount: planes) { plane in
                        for oy in 0..<oh where rows[oy] >= 0 {
                            let src = g.baseAddress! + (plane * oh + oy) * ow, dst = gv.baseAddress! + (plane * h + rows[oy]) * w
                            for ox in 0..<run.lowerBound where columns[ox] >= 0 { dst[columns[ox]] += src[ox] }
                            for ox in run { dst[ox - left] += src[ox] }
                            for ox in run.upperBound..<ow where columns[ox] >= 0 { dst[columns[ox]] += src[ox] }
                        }
                    }
                }
            }
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
    /// Stride 1 runs on the SIMD kernels in Float and as row operations in Double; other strides
    /// use the plain loops.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func conv2d<T>(_ x: Variable<T>, _ w: Variable<T>, _ b: Variable<T>?, stride s: Int = 1) -> Variable<T> {
        guard s == 1 else { return conv2dLoops(x, w, b, stride: s) }
        if T.self == Float.self {
            return conv2dFloat(x as! Variable<Float>, w as! Variable<Float>, b.map { $0 as! Variable<Float> }) as! Variable<T>
        }
        return conv2dRows(x, w, b)
    }

    /// Float stride-1 convolutions on the SIMD kernels (`FloatConvolution`): forward, input and
    /// weight gradients, each split over `Ops.parallel`.
    static func conv2dFloat(_ x: Variable<Float>, _ w: Variable<Float>, _ b: Variable<Float>?) -> Variable<Float> {
        let (n, ci, h, wd) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (co, k) = (w.shape[0], w.shape[2])
        precondition(w.shape[1] == ci && w.shape[3] == k && h >= k && wd >= k, "conv2d: input \(x.shape), weight \(w.shape)")
        let g = FloatConvolution.Geometry(channels: ci, height: h, width: wd, outputs: co, kernel: k)
        let (inputSize, outputSize) = (ci * h * wd, co * g.outputHeight * g.outputWidth)
        let parallel = Ops.parallel
        let out: [Float] = Ops.filled(n * outputSize) { o in
            x.values.withUnsafeBufferPointer { xv in
                w.values.withUnsafeBufferPointer { wv in
                    func run(_ bias: UnsafePointer<Float>?) {
                        for image in 0..<n {
                            FloatConvolution.forward(xv.baseAddress! + image * inputSize, wv.baseAddress!, bias: bias, g,
                                                    into: o.baseAddress! + image * outputSize, parallel: parallel)
                        }
                    }
                    if let b { b.values.withUnsafeBufferPointer { run($0.baseAddress!) } } else { run(nil) }
                }
            }
        }
        return Variable(shape: [n, co, g.outputHeight, g.outputWidth], values: out, parents: [x, w] + (b.map { [$0] } ?? [])) { y in
            y.grad!.withUnsafeBufferPointer { gv in
                if x.requiresGrad {
                    let gx: [Float] = Ops.filled(x.count) { gxv in
                        w.values.withUnsafeBufferPointer { wv in
                            for image in 0..<n {
                                FloatConvolution.inputGradient(gv.baseAddress! + image * outputSize, wv.baseAddress!, g,
                                                              into: gxv.baseAddress! + image * inputSize, parallel: parallel)
                            }
                        }
                    }
                    x.accumulate(gx)
                }
                if w.requiresGrad || b?.requiresGrad == true {
                    var gw = [Float](repeating: 0, count: w.count), gb = [Float](repeating: 0, count: co)
                    gw.withUnsafeMutableBufferPointer { gwv in
                        gb.withUnsafeMutableBufferPointer { gbv in
                            x.values.withUnsafeBufferPointer { xv in
                                for image in 0..<n {
                                    FloatConvolution.weightGradient(xv.baseAddress! + image * inputSize, gv.baseAddress! + image * outputSize, g,
                                                                   into: gwv.baseAddress!, bias: gbv.baseAddress!, parallel: parallel)
                                }
                            }
                        }
                    }
                    w.accumulate(gw)
                    b?.accumulate(gb)
                }
            }
        }
    }

    /// Stride-1 convolutions as row operations (out row += w * input row, and their transposes
    /// for the gradients): the Double path of the gradient checks, and the reference the Float
    /// SIMD path is tested against.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func conv2dRows<T>(_ x: Variable<T>, _ w: Variable<T>, _ b: Variable<T>?) -> Variable<T> {
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

    /// The antialiasing filters: the same fixed separable K x K filter taps[ky] taps[kx] on every
    /// channel, stride s; or, with `transposed`, the transposed convolution
    /// (out[y*s + ky, x*s + kx] += taps[ky] taps[kx] in[y, x]; output (H - 1) s + K). No gradient
    /// to the taps (they are constants). Each direction runs as two 1-D passes (rows, then
    /// columns, or the reverse); planes are independent tasks.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func blur<T>(_ x: Variable<T>, taps: [T], stride s: Int, transposed: Bool = false) -> Variable<T> {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let k = taps.count
        let (oh, ow) = transposed ? ((h - 1) * s + k, (w - 1) * s + k) : ((h - k) / s + 1, (w - k) / s + 1)
        // The strided side: "fine" is the side indexed y*s + ky, "coarse" the side indexed y.
        let (fineH, fineW, coarseH, coarseW) = transposed ? (oh, ow, h, w) : (h, w, oh, ow)
        /// coarse[y, x] = sum taps[ky] taps[kx] fine[y*s + ky, x*s + kx] (gather), per plane;
        /// `mid` holds fineH x coarseW.
        func gather(_ fine: UnsafePointer<T>, _ coarse: UnsafeMutablePointer<T>, _ mid: UnsafeMutablePointer<T>) {
            for r in 0..<fineH {
                let src = fine + r * fineW, dst = mid + r * coarseW
                for x in 0..<coarseW {
                    var sum: T = 0
                    for kx in 0..<k { sum += taps[kx] * src[x * s + kx] }
                    dst[x] = sum
                }
            }
            for y in 0..<coarseH {
                let dst = coarse + y * coarseW
                for x in 0..<coarseW { dst[x] = 0 }
                for ky in 0..<k {
                    let t = taps[ky], src = mid + (y * s + ky) * coarseW
                    for x in 0..<coarseW { dst[x] += t * src[x] }
                }
            }
        }
        /// fine[y*s + ky, x*s + kx] = sum of taps[ky] taps[kx] coarse[y, x] (scatter), per plane.
        func scatter(_ coarse: UnsafePointer<T>, _ fine: UnsafeMutablePointer<T>, _ mid: UnsafeMutablePointer<T>) {
            mid.update(repeating: 0, count: fineH * coarseW)
            for y in 0..<coarseH {
                let src = coarse + y * coarseW
                for ky in 0..<k {
                    let t = taps[ky], dst = mid + (y * s + ky) * coarseW
                    for x in 0..<coarseW { dst[x] += t * src[x] }
                }
            }
            fine.update(repeating: 0, count: fineH * fineW)
            for r in 0..<fineH {
                let src = mid + r * coarseW, dst = fine + r * fineW
                for x in 0..<coarseW {
                    for kx in 0..<k { dst[x * s + kx] += taps[kx] * src[x] }
                }
            }
        }
        let parallel = Ops.parallel
        func each(_ input: [T], _ inputPlane: Int, _ outputPlane: Int,
                  _ body: (UnsafePointer<T>, UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) -> Void) -> [T] {
            Ops.filled(n * c * outputPlane) { o in
                input.withUnsafeBufferPointer { i in
                    parallel.run(taskCount: n * c) { plane in
                        let mid = UnsafeMutablePointer<T>.allocate(capacity: fineH * coarseW)
                        defer { mid.deallocate() }
                        body(i.baseAddress! + plane * inputPlane, o.baseAddress! + plane * outputPlane, mid)
                    }
                }
            }
        }
        let out = each(x.values, h * w, oh * ow, transposed ? scatter : gather)
        return Variable(shape: [n, c, oh, ow], values: out, parents: [x]) { y in
            x.accumulate(each(y.grad!, oh * ow, h * w, transposed ? gather : scatter))
        }
    }

    /// InstanceNorm2d without affine parameters: per (n, c) plane, (x - mean) / sqrt(var + eps)
    /// with the biased variance, as torch. Sums run in `PlaneSums` (vector partial sums, then
    /// Double); planes are independent tasks.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func instanceNorm<T>(_ x: Variable<T>, eps: T = 1e-5) -> Variable<T> {
        let planes = x.shape[0] * x.shape[1], size = x.shape[2] * x.shape[3]
        var inverse = [Double](repeating: 0, count: planes)
        let parallel = Ops.parallel
        let out: [T] = Ops.filled(x.count) { o in
            inverse.withUnsafeMutableBufferPointer { inv in
                x.values.withUnsafeBufferPointer { xv in
                    parallel.run(taskCount: planes) { p in
                        let src = xv.baseAddress! + p * size, dst = o.baseAddress! + p * size
                        let mean = PlaneSums.sum(src, size) / Double(size)
                        let variance = PlaneSums.squaredDeviations(src, size, from: T(mean)) / Double(size)
                        let scale = 1 / (variance + Double(eps)).squareRoot()
                        inv[p] = scale
                        let (m, s) = (T(mean), T(scale))
                        for i in 0..<size { dst[i] = (src[i] - m) * s }
                    }
                }
            }
        }
        return Variable(shape: x.shape, values: out, parents: [x]) { y in
            let gx: [T] = Ops.filled(x.count) { gv in
                y.grad!.withUnsafeBufferPointer { g in
                    out.withUnsafeBufferPointer { o in
                        parallel.run(taskCount: planes) { p in
                            let gp = g.baseAddress! + p * size, yp = o.baseAddress! + p * size, dst = gv.baseAddress! + p * size
                            let meanG = T(PlaneSums.sum(gp, size) / Double(size))
                            let meanGY = T(PlaneSums.dot(gp, yp, size) / Double(size))
                            // dx = (g - mean(g) - y mean(g y)) / sigma.
                            let scale = T(inverse[p])
                            for i in 0..<size { dst[i] = (gp[i] - meanG - yp[i] * meanGY) * scale }
                        }
                    }
                }
            }
            x.accumulate(gx)
        }
    }
}

/// Sums over a plane for the normalisations: 16 partial sums in T along the plane (independent
/// chains the compiler vectorizes, each adding every 16th element in order), then added in
/// Double. A fixed order, so the result does not depend on threads.
enum PlaneSums {
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func sum<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>, _ n: Int) -> Double {
        reduce(n) { p[$0] }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func squaredDeviations<T: BinaryFloatingPoint>(_ p: UnsafePointer<T>, _ n: Int, from mean: T) -> Double {
        reduce(n) { let d = p[$0] - mean; return d * d }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func dot<T: BinaryFloatingPoint>(_ a: UnsafePointer<T>, _ b: UnsafePointer<T>, _ n: Int) -> Double {
        reduce(n) { a[$0] * b[$0] }
    }

    @inline(__always)
    static func reduce<T: BinaryFloatingPoint>(_ n: Int, _ term: (Int) -> T) -> Double {
        var partial = InlineArray<16, T>(repeating: 0)
        var i = 0
        while i + 16 <= n {
            for l in 0..<16 { partial[l] += term(i + l) }
            i += 16
        }
        var total = 0.0
        for l in 0..<16 { total += Double(partial[l]) }
        while i < n { total += Double(term(i)); i += 1 }
        return total
    }
}
