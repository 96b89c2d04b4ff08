/// From int32 accumulators (pixel-interleaved, `pixelStride` per pixel, see
/// `Int8ConvolutionKernel`) to 8-bit codes in an interleaved map: the requantization (mode 0)
/// and the integer InstanceNorm (mode 1) of `Int8OpParameters`, with the same arithmetic as
/// `Int8ReferenceExecutor` (shared through `FixedPoint` and `InstanceNormChannel`).
/// Each function works on a band of rows so the executor can split a frame over threads.
struct Int8AccumulatorRows {
    var base: UnsafePointer<Int32>
    var width: Int
    var pixelStride: Int
    @inline(__always) func pixel(_ y: Int, _ x: Int) -> UnsafePointer<Int32> { base + (y * width + x) * pixelStride }
}

enum Int8ConvolutionEpilogue {
    /// Mode 0: q = clamp(zOut + round(acc * M_c / 2^sh_c), low, high) (the bias is already in
    /// the accumulator), then out = table[q] when there is a table.
    static func requantize(_ acc: Int8AccumulatorRows, rows: Range<Int>, into y: InterleavedByteMap,
                           zOut: Int64, low: Int64, high: Int64, multipliers: [Int64], shifts: [Int], table: [UInt8]) {
        for oy in rows {
            for ox in 0..<y.width {
                let a = acc.pixel(oy, ox), target = y.pixel(oy, ox)
                for c in 0..<y.channels {
                    let q = min(max(zOut + FixedPoint.multiply(Int64(a[c]), multipliers[c], shift: shifts[c]), low), high)
                    target[c] = table.isEmpty ? UInt8(truncatingIfNeeded: q) : table[Int(q)]
                }
            }
        }
    }

    /// InstanceNorm, step 1: per channel sum, minimum and maximum over a band of rows, into
    /// `partial` (3 * channels Int64: sums, then minima, then maxima).
    static func statistics(_ acc: Int8AccumulatorRows, rows: Range<Int>, channels: Int, into partial: UnsafeMutablePointer<Int64>) {
        let sums = partial, minima = partial + channels, maxima = partial + 2 * channels
        for c in 0..<channels { sums[c] = 0; minima[c] = Int64(Int32.max); maxima[c] = Int64(Int32.min) }
        for oy in rows {
            for ox in 0..<acc.width {
                let a = acc.pixel(oy, ox)
                for c in 0..<channels {
                    let v = Int64(a[c])
                    sums[c] &+= v
                    minima[c] = min(minima[c], v)
                    maxima[c] = max(maxima[c], v)
                }
            }
        }
    }

    /// InstanceNorm, step 2: per channel sum of `squaredDeviation` over a band, into `partial`.
    static func squares(_ acc: Int8AccumulatorRows, rows: Range<Int>, _ norms: UnsafeBufferPointer<InstanceNormChannel>,
                        into partial: UnsafeMutablePointer<Int64>) {
        let channels = norms.count
        for c in 0..<channels { partial[c] = 0 }
        for oy in rows {
            for ox in 0..<acc.width {
                let a = acc.pixel(oy, ox)
                for c in 0..<channels { partial[c] &+= norms[c].squaredDeviation(Int64(a[c])) }
            }
        }
    }

    /// InstanceNorm, step 3: out = clamp(zOut + normalized(acc) [+ round((r - zRes) Mres / 2^shRes)], low, high).
    static func normalize(_ acc: Int8AccumulatorRows, rows: Range<Int>, _ norms: UnsafeBufferPointer<InstanceNormChannel>,
                          residual: InterleavedByteMap?, residualZero: Int64, residualMultiplier: Int64, residualShift: Int,
                          zOut: Int64, low: Int64, high: Int64, into y: InterleavedByteMap) {
        for oy in rows {
            for ox in 0..<y.width {
                let a = acc.pixel(oy, ox), target = y.pixel(oy, ox)
                let r = residual?.pixel(oy, ox)
                for c in 0..<y.channels {
                    var value = zOut + norms[c].normalized(Int64(a[c]), high: high)
                    if let r { value += FixedPoint.multiply(Int64(r[c]) - residualZero, residualMultiplier, shift: residualShift) }
                    target[c] = UInt8(truncatingIfNeeded: min(max(value, low), high))
                }
            }
        }
    }
}
