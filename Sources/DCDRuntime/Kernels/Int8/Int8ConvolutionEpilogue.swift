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

    /// InstanceNorm, step 1: per channel sum, minimum and maximum over a band of rows, for the
    /// channels `channels` of a plane of `channelCount`, into `partial` (3 * channelCount Int64:
    /// sums, then minima, then maxima; only the entries of `channels` are written, so tasks over
    /// disjoint channel ranges share one band's slot). Vectorized over 8 channels (int64 sums of
    /// the widened values, int32 extremes); the last of the range's channels mod 8 are scalar.
    static func statistics(_ acc: Int8AccumulatorRows, rows: Range<Int>, channels: Range<Int>, channelCount: Int,
                           into partial: UnsafeMutablePointer<Int64>) {
        let sums = partial, minima = partial + channelCount, maxima = partial + 2 * channelCount
        for c in channels { sums[c] = 0; minima[c] = Int64(Int32.max); maxima[c] = Int64(Int32.min) }
        let first = channels.lowerBound, vectors = channels.count / 8
        withUnsafeTemporaryAllocation(of: SIMD8<Int64>.self, capacity: max(1, vectors)) { s in
            withUnsafeTemporaryAllocation(of: SIMD8<Int32>.self, capacity: max(1, 2 * vectors)) { extremes in
                for v in 0..<vectors {
                    s[v] = .zero
                    extremes[2 * v] = SIMD8(repeating: .max)
                    extremes[2 * v + 1] = SIMD8(repeating: .min)
                }
                for oy in rows {
                    for ox in 0..<acc.width {
                        let a = acc.pixel(oy, ox) + first
                        for v in 0..<vectors {
                            let x = UnsafeRawPointer(a + 8 * v).loadUnaligned(as: SIMD8<Int32>.self)
                            s[v] &+= Lanes.widen(x)
                            extremes[2 * v] = pointwiseMin(extremes[2 * v], x)
                            extremes[2 * v + 1] = pointwiseMax(extremes[2 * v + 1], x)
                        }
                        for c in (first + 8 * vectors)..<channels.upperBound {
                            let x = Int64(a[c - first])
                            sums[c] &+= x
                            minima[c] = min(minima[c], x)
                            maxima[c] = max(maxima[c], x)
                        }
                    }
                }
                for v in 0..<vectors {
                    for j in 0..<8 {
                        sums[first + 8 * v + j] = s[v][j]
                        minima[first + 8 * v + j] = Int64(extremes[2 * v][j])
                        maxima[first + 8 * v + j] = Int64(extremes[2 * v + 1][j])
                    }
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
        withUnsafeTemporaryAllocation(of: SIMD8<Int64>.self, capacity: max(1, 4 * vectors)) { k in
            // Per 8 channels: running sum; 2^40 + the rounding term - mean; shift r; 2^(40 - r).
            // d = a - mean has |d| < 2^33 (int32 accumulators and mean): biased by 2^40 it is
            // positive, so a logical shift by r <= 33 is the floor division an arithmetic shift
            // would be (AVX2 has no 64-bit arithmetic shift).
            for v in 0..<vectors {
                let r = SIMD8<Int64>(lanes: { Int64(norms[8 * v + $0].r) })
                let rounding = SIMD8<Int64>(lanes: { norms[8 * v + $0].r == 0 ? 0 : 1 << (norms[8 * v + $0].r - 1) })
                k[4 * v] = .zero
                k[4 * v + 1] = rounding &+ (1 << 40) &- SIMD8<Int64>(lanes: { norms[8 * v + $0].mean })
                k[4 * v + 2] = r
                k[4 * v + 3] = SIMD8<Int64>(repeating: 1) &<< (SIMD8<Int64>(repeating: 40) &- r)
            }
            for oy in rows {
                for ox in 0..<acc.width {
                    let a = acc.pixel(oy, ox)
                    for v in 0..<vectors {
                        let x = Lanes.widen(UnsafeRawPointer(a + 8 * v).loadUnaligned(as: SIMD8<Int32>.self))
                        let shifted = Lanes.shiftRightLogical(x &+ k[4 * v + 1], k[4 * v + 2])
                        // |round(d / 2^r)| < 2^23 (r makes the sum of squares < 2^46): the square
                        // is a 32 x 32 -> 64-bit product (vpmuldq), not a 64-bit one.
                        let q = Lanes.widen(Lanes.low32(shifted &- k[4 * v + 3]))
                        k[4 * v] &+= q &* q
                    }
                    for c in (8 * vectors)..<channels { partial[c] &+= norms[c].squaredDeviation(Int64(a[c])) }
                }
            }
            for v in 0..<vectors {
                for j in 0..<8 { partial[8 * v + j] = k[4 * v][j] }
            }
        }
    }

    /// Whether `normalize` may take its vector path for these channels: every gain an ordinary
    /// fixed-point multiply (pre = 0, shift in 1...62) with a multiplier below 2^31 (the compiler's
    /// 30-bit p makes it so: M = p 2^31 / sigma with sigma >= 2^30), and the residual's multiplier
    /// below 2^31 with a shift in 1...62. Then each product is a 32 x 32 -> 64-bit multiply.
    static func vectorizable(_ norms: UnsafeBufferPointer<InstanceNormChannel>, residualMultiplier: Int64, residualShift: Int) -> Bool {
        norms.allSatisfy { $0.pre == 0 && $0.shift >= 1 && $0.shift <= 62 && $0.multiplier >= 0 && $0.multiplier <= Int64(Int32.max) }
            && residualMultiplier >= 0 && residualMultiplier <= Int64(Int32.max) && residualShift >= 1 && residualShift <= 62
    }

    /// InstanceNorm, step 3: out = clamp(zOut + normalized(acc) [+ round((r - zRes) Mres / 2^shRes)], low, high).
    /// Vectorized over 8 channels when `vectorizable`; the scalar loop handles the rest.
    ///
    /// The vector path clamps the deviation d = acc - mean to +-(2^31 - 1) before the 32 x 32-bit
    /// multiply. With the plane's own or exact tile statistics |d| < 2^28 (pre = 0), so the clamp
    /// never acts and the result is the reference's bit for bit; only approximate (proxy)
    /// statistics can put an accumulator that far from the mean, and there both saturate the
    /// output (|d M / 2^shift| far beyond the code range).
    static func normalize(_ acc: Int8AccumulatorRows, rows: Range<Int>, _ norms: UnsafeBufferPointer<InstanceNormChannel>,
                          residual: InterleavedByteMap?, residualZero: Int64, residualMultiplier: Int64, residualShift: Int,
                          zOut: Int64, low: Int64, high: Int64, into y: InterleavedByteMap) {
        let vectorChannels = vectorizable(norms, residualMultiplier: residualMultiplier, residualShift: residualShift) ? y.channels / 8 * 8 : 0
        withUnsafeTemporaryAllocation(of: Rounding.self, capacity: max(1, vectorChannels / 8)) { gains in
            withUnsafeTemporaryAllocation(of: SIMD8<Int64>.self, capacity: max(1, 2 * vectorChannels / 8)) { constants in
            // Per 8 channels: the gain; the mean; zOut minus the gain's unbias term.
            for v in 0..<(vectorChannels / 8) {
                gains[v] = Rounding(multipliers: SIMD8<Int64>(lanes: { norms[8 * v + $0].multiplier }),
                                    shifts: SIMD8<Int64>(lanes: { Int64(norms[8 * v + $0].shift) }))
                constants[2 * v] = SIMD8<Int64>(lanes: { norms[8 * v + $0].mean })
                constants[2 * v + 1] = SIMD8<Int64>(repeating: zOut) &- gains[v].unbias
            }
            let limit = SIMD8<Int64>(repeating: Int64(Int32.max))
            let lowVector = SIMD8<Int64>(repeating: low), highVector = SIMD8<Int64>(repeating: high)
            let residualTerms = Rounding(multipliers: SIMD8(repeating: residualMultiplier), shifts: SIMD8(repeating: Int64(residualShift)))
            let residualZeroVector = SIMD8<Int64>(repeating: residualZero)
            for oy in rows {
                for ox in 0..<y.width {
                    let a = acc.pixel(oy, ox), target = y.pixel(oy, ox)
                    let r = residual?.pixel(oy, ox)
                    for v in 0..<(vectorChannels / 8) {
                        let x = Lanes.widen(UnsafeRawPointer(a + 8 * v).loadUnaligned(as: SIMD8<Int32>.self))
                        let d = (x &- constants[2 * v]).clamped(lowerBound: 0 &- limit, upperBound: limit)
                        var value = gains[v].biasedProduct(d) &+ constants[2 * v + 1]
                        if let r {
                            let codes = Lanes.widen(UnsafeRawPointer(r + 8 * v).loadUnaligned(as: SIMD8<UInt8>.self))
                            value &+= residualTerms.apply(codes &- residualZeroVector)
                        }
                        value = value.clamped(lowerBound: lowVector, upperBound: highVector)
                        UnsafeMutableRawPointer(target + 8 * v).storeBytes(of: Lanes.low8(value), as: SIMD8<UInt8>.self)
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
    }

    /// `FixedPoint.multiply` on 8 lanes, round(x m / 2^sh) = floor((x m + 2^(sh-1)) / 2^sh), for
    /// |x| < 2^31, 0 <= m < 2^31, sh in 1...62. x and m are sign-extended 32-bit values, so the
    /// product is one vpmuldq. AVX2 has no 64-bit arithmetic shift, so the sum is biased by 2^62
    /// (positive), shifted logically, and the bias's shifted value 2^(62 - sh) subtracted:
    /// `biasedProduct` leaves that subtraction (`unbias`) to the caller, who may fold it into a
    /// constant; `apply` does it.
    struct Rounding {
        /// Per lane: m, sh, 2^(sh-1) + 2^62, 2^(62 - sh).
        var multiplier: SIMD8<Int64>, shift: SIMD8<Int64>, roundingAndBias: SIMD8<Int64>, unbias: SIMD8<Int64>

        init(multipliers: SIMD8<Int64>, shifts: SIMD8<Int64>) {
            let one = SIMD8<Int64>(repeating: 1)
            multiplier = multipliers
            shift = shifts
            roundingAndBias = (one &<< (shifts &- 1)) &+ (one &<< 62)
            unbias = one &<< (SIMD8(repeating: 62) &- shifts)
        }

        @inline(__always)
        func biasedProduct(_ x: SIMD8<Int64>) -> SIMD8<Int64> {
            let product = Lanes.widen(Lanes.low32(x)) &* Lanes.widen(Lanes.low32(multiplier))
            return Lanes.shiftRightLogical(product &+ roundingAndBias, shift)
        }

        @inline(__always)
        func apply(_ x: SIMD8<Int64>) -> SIMD8<Int64> { biasedProduct(x) &- unbias }
    }
}
