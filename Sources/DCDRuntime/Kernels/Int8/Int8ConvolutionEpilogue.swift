/// From int32 accumulators (pixel-interleaved, `pixelStride` per pixel, see
/// `Int8ConvolutionKernel`) to 8-bit codes in an interleaved map: the requantization (mode 0)
/// and the integer InstanceNorm (mode 1) of `Int8OpParameters`, with the same arithmetic as
/// `Int8ReferenceExecutor` (shared through `FixedPoint` and `InstanceNormChannel`).
/// Each function works on a band of rows so the executor can split a frame over threads.
/// A band of accumulator rows: row `firstRow` is at `base` (the whole plane when 0 and the
/// buffer holds every row; a band of it when the executor accumulates band by band).
struct Int8AccumulatorRows {
    var base: UnsafePointer<Int32>
    var width: Int
    var pixelStride: Int
    var firstRow: Int = 0
    @inline(__always) func pixel(_ y: Int, _ x: Int) -> UnsafePointer<Int32> { base + ((y - firstRow) * width + x) * pixelStride }
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
    /// Vectorized over 8 channels, each with its own rounding shift r; the last C mod 8 channels
    /// are scalar.
    static func squares(_ acc: Int8AccumulatorRows, rows: Range<Int>, _ norms: UnsafeBufferPointer<InstanceNormChannel>,
                        into partial: UnsafeMutablePointer<Int64>) {
        let channels = norms.count
        for c in 0..<channels { partial[c] = 0 }
        let vectors = channels / 8
        withUnsafeTemporaryAllocation(of: SIMD8<Int64>.self, capacity: max(1, 5 * vectors)) { k in
            // Per 8 channels: running sum, mean, rounding term + bias, shift r, the bias shifted.
            // |d| < 2^32 (int32 accumulators): biased by 2^40 it is positive, so a logical shift
            // by r <= 33 is the floor division an arithmetic shift would be (AVX2 has no 64-bit
            // arithmetic shift).
            for v in 0..<vectors {
                let r = SIMD8<Int64>(lanes: { Int64(norms[8 * v + $0].r) })
                k[5 * v] = .zero
                k[5 * v + 1] = SIMD8<Int64>(lanes: { norms[8 * v + $0].mean })
                k[5 * v + 2] = SIMD8<Int64>(lanes: { norms[8 * v + $0].r == 0 ? 0 : 1 << (norms[8 * v + $0].r - 1) }) &+ (1 << 40)
                k[5 * v + 3] = r
                k[5 * v + 4] = SIMD8<Int64>(repeating: 1) &<< (SIMD8<Int64>(repeating: 40) &- r)
            }
            for oy in rows {
                for ox in 0..<acc.width {
                    let a = acc.pixel(oy, ox)
                    for v in 0..<vectors {
                        let x = SIMD8<Int64>(truncatingIfNeeded: UnsafeRawPointer(a + 8 * v).loadUnaligned(as: SIMD8<Int32>.self))
                        let shifted = SIMD8<UInt64>(truncatingIfNeeded: x &- k[5 * v + 1] &+ k[5 * v + 2]) &>> SIMD8<UInt64>(truncatingIfNeeded: k[5 * v + 3])
                        // |round(d / 2^r)| < 2^23 (r makes the sum of squares < 2^46): the square
                        // is a 32 x 32 -> 64-bit product (vpmuldq), not a 64-bit one.
                        let q = SIMD8<Int64>(truncatingIfNeeded: SIMD8<Int32>(truncatingIfNeeded: SIMD8<Int64>(truncatingIfNeeded: shifted) &- k[5 * v + 4]))
                        k[5 * v] &+= q &* q
                    }
                    for c in (8 * vectors)..<channels { partial[c] &+= norms[c].squaredDeviation(Int64(a[c])) }
                }
            }
            for v in 0..<vectors {
                for j in 0..<8 { partial[8 * v + j] = k[5 * v][j] }
            }
        }
    }

    /// InstanceNorm, step 3: out = clamp(zOut + normalized(acc) [+ round((r - zRes) Mres / 2^shRes)], low, high).
    /// Vectorized over 8 channels (`normalizeVector`) when every channel's gain is an ordinary
    /// fixed-point multiply (pre = 0, shift in 1...62); the scalar loop handles the rest.
    static func normalize(_ acc: Int8AccumulatorRows, rows: Range<Int>, _ norms: UnsafeBufferPointer<InstanceNormChannel>,
                          residual: InterleavedByteMap?, residualZero: Int64, residualMultiplier: Int64, residualShift: Int,
                          zOut: Int64, low: Int64, high: Int64, into y: InterleavedByteMap) {
        let ordinary = norms.allSatisfy { $0.pre == 0 && $0.shift >= 1 && $0.shift <= 62 }
        let vectorChannels = ordinary ? y.channels / 8 * 8 : 0
        withUnsafeTemporaryAllocation(of: SIMD8<Int64>.self, capacity: max(1, 3 * vectorChannels / 8)) { constants in
            // Per 8 channels: mean, multiplier, shift.
            for v in 0..<(vectorChannels / 8) {
                constants[3 * v] = SIMD8<Int64>(lanes: { norms[8 * v + $0].mean })
                constants[3 * v + 1] = SIMD8<Int64>(lanes: { norms[8 * v + $0].multiplier })
                constants[3 * v + 2] = SIMD8<Int64>(lanes: { Int64(norms[8 * v + $0].shift) })
            }
            for oy in rows {
                for ox in 0..<y.width {
                    let a = acc.pixel(oy, ox), target = y.pixel(oy, ox)
                    let r = residual?.pixel(oy, ox)
                    for v in 0..<(vectorChannels / 8) {
                        let x = SIMD8<Int64>(truncatingIfNeeded: UnsafeRawPointer(a + 8 * v).loadUnaligned(as: SIMD8<Int32>.self))
                        var value = SIMD8<Int64>(repeating: zOut) &+ multiplyRounded(x &- constants[3 * v], constants[3 * v + 1], constants[3 * v + 2])
                        if let r {
                            let codes = SIMD8<Int64>(truncatingIfNeeded: UnsafeRawPointer(r + 8 * v).loadUnaligned(as: SIMD8<UInt8>.self))
                            value &+= multiplyRounded(codes &- residualZero, SIMD8(repeating: residualMultiplier), SIMD8(repeating: Int64(residualShift)))
                        }
                        value = value.clamped(lowerBound: SIMD8(repeating: low), upperBound: SIMD8(repeating: high))
                        UnsafeMutableRawPointer(target + 8 * v).storeBytes(of: SIMD8<UInt8>(truncatingIfNeeded: value), as: SIMD8<UInt8>.self)
                    }
                    for c in vectorChannels..<y.channels {
                        var value = zOut + norms[c].normalized(Int64(a[c]), high: high)
                        if let r { value += FixedPoint.multiply(Int64(r[c]) - residualZero, residualMultiplier, shift: residualShift) }
                        target[c] = UInt8(truncatingIfNeeded: min(max(value, low), high))
                    }
                }
            }
        }
    }

    /// `FixedPoint.multiply` on 8 lanes: round(x * m / 2^sh) for |x * m| < 2^60, sh in 1...62.
    /// AVX2 has no 64-bit arithmetic shift, so the product is biased by 2^62 (positive), shifted
    /// logically, and the bias's shifted value 2^(62 - sh) subtracted: floor division either way.
    @inline(__always)
    static func multiplyRounded(_ x: SIMD8<Int64>, _ m: SIMD8<Int64>, _ sh: SIMD8<Int64>) -> SIMD8<Int64> {
        let one = SIMD8<Int64>(repeating: 1)
        let biased = x &* m &+ (one &<< (sh &- 1)) &+ SIMD8(repeating: 1 << 62)
        let shifted = SIMD8<Int64>(truncatingIfNeeded: SIMD8<UInt64>(truncatingIfNeeded: biased) &>> SIMD8<UInt64>(truncatingIfNeeded: sh))
        return shifted &- (one &<< (SIMD8(repeating: 62) &- sh))
    }
}
