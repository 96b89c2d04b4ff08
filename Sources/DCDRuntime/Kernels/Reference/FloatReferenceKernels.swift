/// Plain float32 kernels: the definition of every op, written for clarity, not speed.
///
/// They are the oracle the optimized kernels are tested against, and the executor's path for the
/// ops that are not worth optimizing (pads, blur filters, norms). Tensors are CHW (`FloatTensor`);
/// weights are PyTorch's layouts, stated per kernel.
public enum FloatReference {
    /// Source index for output index `i` (may be outside 0..<n) of a padded axis of length `n`,
    /// or nil for a zero. Reflect assumes pad < n (checked by shape inference).
    @inlinable
    static func sourceIndex(_ i: Int, _ n: Int, _ mode: PaddingMode) -> Int? {
        if i >= 0 && i < n { return i }
        switch mode {
        case .zero: return nil
        case .reflect: return i < 0 ? -i : 2 * (n - 1) - i
        case .replicate: return i < 0 ? 0 : n - 1
        }
    }

    /// Pads every plane by (top, bottom, left, right). Generic: the int8 executor pads its integer
    /// codes with the same definition, `zero` standing for real 0 (its zero point).
    public static func pad<E>(_ x: PlanarTensor<E>, mode: PaddingMode, top: Int, bottom: Int, left: Int, right: Int,
                              zero: E = 0) -> PlanarTensor<E> {
        let h = x.height + top + bottom, w = x.width + left + right
        var y = PlanarTensor<E>(channels: x.channels, height: h, width: w, repeating: zero)
        for c in 0..<x.channels {
            for oy in 0..<h {
                guard let sy = sourceIndex(oy - top, x.height, mode) else { continue }
                for ox in 0..<w {
                    guard let sx = sourceIndex(ox - left, x.width, mode) else { continue }
                    y[c, oy, ox] = x[c, sy, sx]
                }
            }
        }
        return y
    }

    /// The same padding on all four sides.
    public static func pad<E>(_ x: PlanarTensor<E>, mode: PaddingMode, all p: Int, zero: E = 0) -> PlanarTensor<E> {
        p == 0 ? x : pad(x, mode: mode, top: p, bottom: p, left: p, right: p, zero: zero)
    }

    public static func crop<E>(_ x: PlanarTensor<E>, top: Int, bottom: Int, left: Int, right: Int) -> PlanarTensor<E> {
        let h = x.height - top - bottom, w = x.width - left - right
        var y = PlanarTensor<E>(channels: x.channels, height: h, width: w)
        for c in 0..<x.channels {
            for oy in 0..<h {
                for ox in 0..<w { y[c, oy, ox] = x[c, oy + top, ox + left] }
            }
        }
        return y
    }

    /// Conv2d. weight: (Cout, Cin, K, K) flattened; bias: Cout values or empty; zero padding.
    public static func conv2d(_ x: FloatTensor, weight: [Float], outputChannels cout: Int, kernel k: Int,
                              bias: [Float], stride: Int, padding: Int) -> FloatTensor {
        let cin = x.channels
        let oh = (x.height + 2 * padding - k) / stride + 1
        let ow = (x.width + 2 * padding - k) / stride + 1
        var y = FloatTensor(channels: cout, height: oh, width: ow)
        for co in 0..<cout {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc: Float = bias.isEmpty ? 0 : bias[co]
                    for ci in 0..<cin {
                        for ky in 0..<k {
                            let iy = oy * stride + ky - padding
                            if iy < 0 || iy >= x.height { continue }
                            for kx in 0..<k {
                                let ix = ox * stride + kx - padding
                                if ix < 0 || ix >= x.width { continue }
                                acc += weight[((co * cin + ci) * k + ky) * k + kx] * x[ci, iy, ix]
                            }
                        }
                    }
                    y[co, oy, ox] = acc
                }
            }
        }
        return y
    }

    /// ConvTranspose2d. weight: (Cin, Cout, K, K) flattened (PyTorch's layout); bias: Cout or empty.
    /// Each input pixel (iy, ix) adds weight * x to output (iy*stride - padding + ky, ...).
    public static func convTranspose2d(_ x: FloatTensor, weight: [Float], outputChannels cout: Int, kernel k: Int,
                                       bias: [Float], stride: Int, padding: Int, outputPadding: Int) -> FloatTensor {
        let cin = x.channels
        let oh = (x.height - 1) * stride - 2 * padding + k + outputPadding
        let ow = (x.width - 1) * stride - 2 * padding + k + outputPadding
        var y = FloatTensor(channels: cout, height: oh, width: ow)
        for co in 0..<cout {
            let b: Float = bias.isEmpty ? 0 : bias[co]
            for i in 0..<(oh * ow) { y.storage[co * oh * ow + i] = b }
            for ci in 0..<cin {
                for ky in 0..<k {
                    for kx in 0..<k {
                        let w = weight[((ci * cout + co) * k + ky) * k + kx]
                        for iy in 0..<x.height {
                            let oy = iy * stride - padding + ky
                            if oy < 0 || oy >= oh { continue }
                            for ix in 0..<x.width {
                                let ox = ix * stride - padding + kx
                                if ox < 0 || ox >= ow { continue }
                                y[co, oy, ox] += w * x[ci, iy, ix]
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// Per-channel conv, weight (C, 1, K, K), no padding, no bias (the blur-pool filter).
    public static func depthwiseConv2d(_ x: FloatTensor, weight: [Float], kernel k: Int, stride: Int) -> FloatTensor {
        let oh = (x.height - k) / stride + 1, ow = (x.width - k) / stride + 1
        var y = FloatTensor(channels: x.channels, height: oh, width: ow)
        for c in 0..<x.channels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var acc: Float = 0
                    for ky in 0..<k {
                        for kx in 0..<k {
                            acc += weight[(c * k + ky) * k + kx] * x[c, oy * stride + ky, ox * stride + kx]
                        }
                    }
                    y[c, oy, ox] = acc
                }
            }
        }
        return y
    }

    /// Per-channel transposed conv, weight (C, 1, K, K), no bias (the blur-upsample filter).
    public static func depthwiseConvTranspose2d(_ x: FloatTensor, weight: [Float], kernel k: Int, stride: Int, padding: Int) -> FloatTensor {
        let oh = (x.height - 1) * stride - 2 * padding + k
        let ow = (x.width - 1) * stride - 2 * padding + k
        var y = FloatTensor(channels: x.channels, height: oh, width: ow)
        for c in 0..<x.channels {
            for iy in 0..<x.height {
                for ix in 0..<x.width {
                    let v = x[c, iy, ix]
                    for ky in 0..<k {
                        let oy = iy * stride - padding + ky
                        if oy < 0 || oy >= oh { continue }
                        for kx in 0..<k {
                            let ox = ix * stride - padding + kx
                            if ox < 0 || ox >= ow { continue }
                            y[c, oy, ox] += weight[(c * k + ky) * k + kx] * v
                        }
                    }
                }
            }
        }
        return y
    }

    /// InstanceNorm2d(affine=False): statistics in Double (biased variance), result in Float.
    public static func instanceNorm(_ x: FloatTensor, epsilon: Float) -> FloatTensor {
        var y = x
        let n = x.planeSize
        for c in 0..<x.channels {
            var sum = 0.0
            for i in 0..<n { sum += Double(x.storage[c * n + i]) }
            let mean = sum / Double(n)
            var sq = 0.0
            for i in 0..<n {
                let d = Double(x.storage[c * n + i]) - mean
                sq += d * d
            }
            let invStd = 1 / (sq / Double(n) + Double(epsilon)).squareRoot()
            for i in 0..<n {
                y.storage[c * n + i] = Float((Double(x.storage[c * n + i]) - mean) * invStd)
            }
        }
        return y
    }

    public static func relu(_ x: FloatTensor) -> FloatTensor {
        var y = x
        for i in y.storage.indices where y.storage[i] < 0 { y.storage[i] = 0 }
        return y
    }

    public static func tanh(_ x: FloatTensor) -> FloatTensor {
        var y = x
        for i in y.storage.indices { y.storage[i] = ElementaryFunctions.tanh(y.storage[i]) }
        return y
    }

    public static func add(_ a: FloatTensor, _ b: FloatTensor) -> FloatTensor {
        var y = a
        for i in y.storage.indices { y.storage[i] += b.storage[i] }
        return y
    }
}
