import DCDRuntime

/// The colour anchor inside the training graph (`dcd-train --color-anchor`).
///
/// Why: the generator cannot see its input's brightness, contrast or colour cast
/// (`DCDRuntime.ColorAnchor`), so the reference objective makes it guess them from textures, and
/// the discriminator pushes those guesses from one palette to the next. Anchoring the generator's
/// output to its input, as dcd-run does at inference, inside every loss makes the losses blind to
/// the output's per-channel gain and offset: the generator spends its capacity on the rain. The
/// model it trains is meant to run anchored (dcd-compile --color-anchor).
extension Ops {
    /// Per channel of `x` and `y` ([1, C, H, W]): the weighted least-squares line
    /// y ~ a x + b over the elements (`weights`: one per element of x, 0 for elements outside
    /// the fit), applied to every element of x: a x + b.
    /// A channel whose weighted x has no spread (variance <= 1e-12) gives its weighted mean of y.
    ///
    /// Gradients flow into x and y (the weights are constants). With m_x, m_y the weighted means,
    /// S_w the weight sum, S_xx the weighted squared deviation and out_j = a (x_j - m_x) + m_y:
    ///   dL/dx_i = a g_i + w_i [A ((y_i - m_y) - 2 a (x_i - m_x)) / S_xx - a G / S_w]
    ///   dL/dy_i = w_i [A (x_i - m_x) / S_xx + G / S_w]
    /// where g is the incoming gradient, G = sum_j g_j and A = sum_j g_j (x_j - m_x). The output
    /// does not change when x changes by a gain and offset, and the x gradient sums to zero.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func weightedLineFit<T>(_ x: Variable<T>, to y: Variable<T>, weights: [T]) -> Variable<T> {
        precondition(x.shape == y.shape && x.shape.count == 4 && x.shape[0] == 1, "weightedLineFit: shapes \(x.shape) and \(y.shape), want [1, C, H, W]")
        let channels = x.shape[1], plane = x.shape[2] * x.shape[3]
        precondition(weights.count == x.count, "weightedLineFit: \(weights.count) weights for \(x.count) values")
        // Per channel: (a, m_x, m_y, S_w, S_xx, whether a line was fitted), in Double.
        var fits: [(a: Double, mx: Double, my: Double, sw: Double, sxx: Double, sloped: Bool)] = []
        var out = [T](repeating: 0, count: x.count)
        for c in 0..<channels {
            let base = c * plane
            var sw = 0.0, swx = 0.0, swy = 0.0
            for j in 0..<plane where weights[base + j] != 0 {
                let w = Double(weights[base + j])
                sw += w; swx += w * Double(x.values[base + j]); swy += w * Double(y.values[base + j])
            }
            precondition(sw > 0, "weightedLineFit: no positive weight")
            let mx = swx / sw, my = swy / sw
            var sxx = 0.0, sxy = 0.0
            for j in 0..<plane where weights[base + j] != 0 {
                let w = Double(weights[base + j]), dx = Double(x.values[base + j]) - mx
                sxx += w * dx * dx; sxy += w * dx * (Double(y.values[base + j]) - my)
            }
            let sloped = sxx > 1e-12 * sw, a = sloped ? sxy / sxx : 0
            fits.append((a, mx, my, sw, sxx, sloped))
            for j in 0..<plane { out[base + j] = T(a * (Double(x.values[base + j]) - mx) + my) }
        }
        return Variable(shape: x.shape, values: out, parents: [x, y]) { result in
            let g = result.grad!
            var dx = [T](repeating: 0, count: x.count), dy = [T](repeating: 0, count: y.count)
            for c in 0..<channels {
                let base = c * plane, (a, mx, my, sw, sxx, sloped) = fits[c]
                var total = 0.0, along = 0.0
                for j in 0..<plane {
                    let gj = Double(g[base + j])
                    total += gj; along += gj * (Double(x.values[base + j]) - mx)
                }
                for j in 0..<plane {
                    let gj = Double(g[base + j])
                    var gx = a * gj, gy = 0.0
                    if weights[base + j] != 0 {
                        let w = Double(weights[base + j]), ddx = Double(x.values[base + j]) - mx, ddy = Double(y.values[base + j]) - my
                        if sloped { gx += w * (along * (ddy - 2 * a * ddx) / sxx - a * total / sw) }
                        gy = w * ((sloped ? along * ddx / sxx : 0) + total / sw)
                    }
                    dx[base + j] = T(gx); dy[base + j] = T(gy)
                }
            }
            x.accumulate(dx)
            y.accumulate(dy)
        }
    }

    /// `output` (a generator's, [1, 3, H, W] in [-1, 1]) anchored to `input` (the image it came
    /// from): `ColorAnchor.fit` as dcd-run fits it, then one more IRLS pass as a weighted
    /// least-squares line (`weightedLineFit`) whose weights are constants, as PatchNCE's keys
    /// are. The anchored output stays in [-1, 1] units (unclamped).
    public static func colorAnchor<T>(_ output: Variable<T>, to input: Variable<T>) -> Variable<T> {
        precondition(output.shape == input.shape && output.shape.count == 4 && output.shape[0] == 1 && output.shape[1] == 3,
                     "colorAnchor: shapes \(output.shape) and \(input.shape), want [1, 3, H, W]")
        return weightedLineFit(output, to: input, weights: colorAnchorWeights(output: output.values, input: input.values,
                                                                              width: output.shape[3], height: output.shape[2]))
    }

    /// The weights of `colorAnchor`'s fit, CHW: each channel's IRLS weight at the sampled pixels,
    /// 0 elsewhere.
    static func colorAnchorWeights<T: BinaryFloatingPoint>(output: [T], input: [T], width: Int, height: Int) -> [T] {
        let samples = NetworkRangeSamples(output: output, input: input, grid: ColorAnchor.SampleGrid(width: width, height: height), plane: width * height)
        let anchor = ColorAnchor.fit(samples)
        var weights = [T](repeating: 0, count: 3 * width * height)
        for i in 0..<samples.count {
            for c in 0..<3 {
                let (x, y) = samples.sample(i, channel: c)
                weights[c * samples.plane + samples.grid.offset(i)] = T(anchor.irlsWeight(output: x, input: y, channel: c))
            }
        }
        return weights
    }

    /// Samples of CHW tensors in the network's range [-1, 1], as [0, 1] values.
    struct NetworkRangeSamples<T: BinaryFloatingPoint>: ColorAnchorSamples {
        let output: [T], input: [T], grid: ColorAnchor.SampleGrid, plane: Int
        var count: Int { grid.count }

        func sample(_ i: Int, channel c: Int) -> (output: Double, input: Double) {
            let k = c * plane + grid.offset(i)
            return ((Double(output[k]) + 1) / 2, (Double(input[k]) + 1) / 2)
        }
    }
}
