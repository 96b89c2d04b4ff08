import DCDRuntime

/// How close the int8 program is to the float one: per-layer SQNR on the calibration crops and
/// PSNR of the final output on held-out images.
public struct QuantizationReport {
    public struct Layer {
        public var op: Int
        public var description: String
        /// 10 log10(sum f^2 / sum (f - dequantized int8)^2) over the layer's output.
        public var sqnr: Double
    }

    public var layers: [Layer]
    /// PSNR (dB) of the int8 output bytes against the float output rounded to bytes, per held-out image.
    public var heldOutPSNR: [Double]
    public var meanPSNR: Double { heldOutPSNR.isEmpty ? .nan : heldOutPSNR.reduce(0, +) / Double(heldOutPSNR.count) }

    public static func measure(float: ModelProgram, int8: Quantizer.Result, layerImages: [FloatTensor], heldOut: [FloatTensor]) throws -> QuantizationReport {
        let fx = try FloatReferenceExecutor(program: float)
        let qx = try Int8ReferenceExecutor(program: int8.program)
        var signal = [Double](repeating: 0, count: float.ops.count), noise = signal
        for image in layerImages {
            var floats = [FloatTensor?](repeating: nil, count: float.ops.count)
            _ = try fx.derain(pixels: image) { i, v in floats[i] = v }
            _ = try qx.derain(pixels: bytes(image)) { i, v in
                guard let f = floats[i] else { return }
                let a = int8.activations[i + 1]
                for (x, q) in zip(f.storage, v.storage) {
                    let d = Double(x) - Double(a.dequantize(q))
                    signal[i] += Double(x) * Double(x)
                    noise[i] += d * d
                }
            }
        }
        var layers: [Layer] = []
        for (i, op) in float.ops.enumerated() where op.kind == .conv2d || op.kind == .convTranspose2d {
            let name = op.weight >= 0 ? float.tensors[op.weight].name : "\(op.kind)"
            layers.append(Layer(op: i, description: name, sqnr: 10 * log10(signal[i] / max(noise[i], 1e-30))))
        }
        var values: [Double] = []
        for image in heldOut {
            values.append(psnr(try qx.derain(pixels: bytes(image)), bytes(try fx.derain(pixels: image))))
        }
        return QuantizationReport(layers: layers, heldOutPSNR: values)
    }

    /// PSNR (dB) between two 8-bit images; 99 when identical.
    public static func psnr(_ a: ByteTensor, _ b: ByteTensor) -> Double {
        var se = 0.0
        for (x, y) in zip(a.storage, b.storage) {
            let d = Double(x) - Double(y)
            se += d * d
        }
        let mse = se / Double(max(1, a.storage.count))
        return mse == 0 ? 99 : 10 * log10(255 * 255 / mse)
    }

    /// Pixel-unit float image to bytes (round half up, clamp).
    public static func bytes(_ t: FloatTensor) -> ByteTensor {
        ByteTensor(channels: t.channels, height: t.height, width: t.width,
                   storage: t.storage.map { UInt8(min(255, max(0, ($0 + 0.5).rounded(.down)))) })
    }
}

/// log10 without Foundation (reports only): ln via atanh series on the mantissa.
func log10(_ x: Double) -> Double {
    guard x > 0 else { return -.infinity }
    var m = x, e = 0
    while m >= 2 { m /= 2; e += 1 }
    while m < 1 { m *= 2; e -= 1 }
    let z = (m - 1) / (m + 1), z2 = z * z
    var term = z, sum = 0.0, n = 1.0
    while n < 60 { sum += term / n; term *= z2; n += 2 }
    let ln = 2 * sum + Double(e) * 0.693147180559945309
    return ln / 2.302585092994045684
}
