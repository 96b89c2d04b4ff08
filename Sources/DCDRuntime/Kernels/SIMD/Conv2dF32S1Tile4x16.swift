/// Stride-1 float32 convolution, register-blocked 4 output channels x 16 pixels.
///
/// Why 4x16: the tile keeps 8 SIMD8<Float> accumulators (4 channels x 2 vectors of 8 pixels) in
/// registers; each kernel tap loads 2 input vectors and 4 broadcast weights for 8 multiply-adds,
/// which fits the 16 vector registers of SSE/AVX2 with room for the loads. Rows shorter than 16
/// finish with an 8-pixel tile and then scalar pixels.
///
/// Reference: `FloatReference.conv2d` with stride 1 and padding 0 (padding is applied before).

/// Weights repacked for the tile: for output-channel block b (channels 4b..4b+3),
/// `values[((b * cin + ci) * K + ky) * K + kx) * 4 + j]` is weight (4b + j, ci, ky, kx);
/// channels past Cout are zero. `bias` is padded the same way.
public struct PackedConvWeights: Sendable {
    public let outputChannels: Int
    public let inputChannels: Int
    public let kernel: Int
    public var blockCount: Int { (outputChannels + 3) / 4 }
    public private(set) var values: [Float]
    public private(set) var bias: [Float]

    /// weight: (Cout, Cin, K, K) flattened; bias: Cout values or empty.
    public init(weight: [Float], bias biasValues: [Float], outputChannels cout: Int, inputChannels cin: Int, kernel k: Int) {
        outputChannels = cout
        inputChannels = cin
        kernel = k
        let blocks = (cout + 3) / 4
        var packed = [Float](repeating: 0, count: blocks * cin * k * k * 4)
        var packedBias = [Float](repeating: 0, count: blocks * 4)
        for co in 0..<cout {
            let b = co / 4, j = co % 4
            if !biasValues.isEmpty { packedBias[co] = biasValues[co] }
            for ci in 0..<cin {
                for t in 0..<(k * k) {
                    packed[((b * cin + ci) * k * k + t) * 4 + j] = weight[(co * cin + ci) * k * k + t]
                }
            }
        }
        values = packed
        bias = packedBias
    }
}

public enum Conv2dF32S1Tile4x16 {
    /// Computes output rows `rows` of channel block `block`.
    /// - input: CHW, `cin` planes of inputHeight x inputWidth (already padded).
    /// - output: CHW, Cout planes of outputHeight x outputWidth, outputWidth = inputWidth - K + 1.
    @inline(__always)
    public static func run(input: UnsafePointer<Float>, inputHeight: Int, inputWidth: Int,
                           weights: PackedConvWeights, packed: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                           block: Int, rows: Range<Int>,
                           output: UnsafeMutablePointer<Float>, outputHeight: Int, outputWidth: Int) {
        let cin = weights.inputChannels, k = weights.kernel
        let inPlane = inputHeight * inputWidth, outPlane = outputHeight * outputWidth
        let channelsHere = min(4, weights.outputChannels - block * 4)
        let w0 = packed + block * cin * k * k * 4
        let b = bias + block * 4
        let outBase = output + block * 4 * outPlane

        @inline(__always) func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
            UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
        }
        @inline(__always) func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
        }

        for oy in rows {
            var ox = 0
            // 4 channels x 16 pixels.
            while ox + 16 <= outputWidth {
                var a0 = SIMD8<Float>(repeating: b[0]), a1 = a0
                var c0 = SIMD8<Float>(repeating: b[1]), c1 = c0
                var d0 = SIMD8<Float>(repeating: b[2]), d1 = d0
                var e0 = SIMD8<Float>(repeating: b[3]), e1 = e0
                var wp = w0
                for ci in 0..<cin {
                    let plane = input + ci * inPlane
                    for ky in 0..<k {
                        let row = plane + (oy + ky) * inputWidth + ox
                        for kx in 0..<k {
                            let v0 = load8(row + kx), v1 = load8(row + kx + 8)
                            let wa = wp[0], wb = wp[1], wc = wp[2], wd = wp[3]
                            a0 += v0 * wa; a1 += v1 * wa
                            c0 += v0 * wb; c1 += v1 * wb
                            d0 += v0 * wc; d1 += v1 * wc
                            e0 += v0 * wd; e1 += v1 * wd
                            wp += 4
                        }
                    }
                }
                let o = outBase + oy * outputWidth + ox
                store8(a0, o); store8(a1, o + 8)
                if channelsHere > 1 { store8(c0, o + outPlane); store8(c1, o + outPlane + 8) }
                if channelsHere > 2 { store8(d0, o + 2 * outPlane); store8(d1, o + 2 * outPlane + 8) }
                if channelsHere > 3 { store8(e0, o + 3 * outPlane); store8(e1, o + 3 * outPlane + 8) }
                ox += 16
            }
            // 4 channels x 8 pixels.
            while ox + 8 <= outputWidth {
                var a0 = SIMD8<Float>(repeating: b[0]), c0 = SIMD8<Float>(repeating: b[1])
                var d0 = SIMD8<Float>(repeating: b[2]), e0 = SIMD8<Float>(repeating: b[3])
                var wp = w0
                for ci in 0..<cin {
                    let plane = input + ci * inPlane
                    for ky in 0..<k {
                        let row = plane + (oy + ky) * inputWidth + ox
                        for kx in 0..<k {
                            let v0 = load8(row + kx)
                            a0 += v0 * wp[0]; c0 += v0 * wp[1]; d0 += v0 * wp[2]; e0 += v0 * wp[3]
                            wp += 4
                        }
                    }
                }
                let o = outBase + oy * outputWidth + ox
                store8(a0, o)
                if channelsHere > 1 { store8(c0, o + outPlane) }
                if channelsHere > 2 { store8(d0, o + 2 * outPlane) }
                if channelsHere > 3 { store8(e0, o + 3 * outPlane) }
                ox += 8
            }
            // Remaining pixels, one at a time, 4 channels as one SIMD4.
            while ox < outputWidth {
                var acc = SIMD4<Float>(b[0], b[1], b[2], b[3])
                var wp = w0
                for ci in 0..<cin {
                    let plane = input + ci * inPlane
                    for ky in 0..<k {
                        let row = plane + (oy + ky) * inputWidth + ox
                        for kx in 0..<k {
                            acc += UnsafeRawPointer(wp).loadUnaligned(as: SIMD4<Float>.self) * row[kx]
                            wp += 4
                        }
                    }
                }
                let o = outBase + oy * outputWidth + ox
                for j in 0..<channelsHere { o[j * outPlane] = acc[j] }
                ox += 1
            }
        }
    }
}
