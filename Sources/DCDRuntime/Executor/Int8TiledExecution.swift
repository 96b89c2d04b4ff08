/// Frames larger than a memory budget, in overlapping tiles.
///
/// Every op of the generator is local except InstanceNorm, whose statistics cover the whole
/// plane. With the statistics fixed, each output pixel depends only on input pixels within the
/// receptive radius R, so a tile run with a halo of at least R (reflect padding at its own edges
/// only disturbs the halo) reproduces the frame's core pixels exactly. The statistics come from:
/// - `.exact`: a statistics pass per InstanceNorm layer L, over all tiles, running the ops up to
///   L with the statistics already found for the layers before it, and summing L's accumulators
///   over the tile cores (two sweeps: sums and extremes, then squared deviations); integer sums,
///   so the result is the untiled run's, bit for bit. Cost: the prefix of the network once per
///   InstanceNorm layer and sweep, about (layers + 1) times an untiled run.
/// - `.proxy(downscale:)`: one untiled run on the frame shrunk by box averaging (by `downscale`,
///   or more, by powers of 2, until the proxy fits the tile plan's budget), its statistics used
///   for the full frame (accumulators do not depend on resolution). One extra run of
///   1/downscale^2 the cost; the PSNR cost is measured (README, "Tiled frames").
/// Tile cores and halos are multiples of the size multiple, so the downsampling grids of every
/// tile align with the frame's.
public enum TiledStatistics: Sendable, Equatable {
    case exact
    case proxy(downscale: Int)
}

/// The tile layout a budget allows, and what it costs.
public struct TilePlan: Sendable, Equatable {
    /// Core tile side (pixels of the padded frame), the halo on each side.
    public var core: Int
    public var halo: Int
    public var tileCount: Int
    /// The budget the plan was made for (the proxy run of `.proxy` statistics must fit it too).
    public var budget: Int
    /// Bytes: the executor's working memory for the largest tile, the tiled driver's result
    /// frame (and padded input copy) and tile buffers, the packed weights. The caller's input
    /// image is not counted.
    public var workingBytes: Int
}

extension Int8Executor {
    /// Input pixels (of the full-resolution frame) that can influence an output pixel, per side:
    /// the sum over ops of each op's reach in its input's units times that input's scale. It
    /// counts every op once along program order, so residual skips make it conservative.
    public var receptiveRadius: Int {
        let m = program.sizeMultiple, side = 64 * m
        guard let shapes = try? program.inferShapes(height: side, width: side) else { return 0 }
        var radius = 0.0
        for op in program.ops {
            let scale = Double(side) / Double(shapes[op.input].height)
            let k = op.weight >= 0 ? program.tensors[op.weight].dims[2] : 0
            let reach: Int
            switch op.kind {
            case .conv2d, .depthwiseConv2d: reach = max(op.padding, k - 1 - op.padding)
            case .convTranspose2d, .depthwiseConvTranspose2d: reach = k
            case .pad, .crop: reach = max(op.top, op.bottom, op.left, op.right)
            case .instanceNorm, .relu, .add, .tanh: reach = 0
            }
            radius += Double(reach) * scale
        }
        return Int(radius.rounded(.up))
    }

    /// Bytes of the packed weights (int16 weights with the AVX2 kernel).
    var packedWeightBytes: Int { packedBytes }

    /// The largest square core whose tile fits `maxBytes` (see `TilePlan.workingBytes`), or the
    /// whole frame when it fits untiled.
    public func tilePlan(height: Int, width: Int, maxBytes: Int, core requested: Int? = nil) throws(RuntimeError) -> TilePlan {
        let m = program.sizeMultiple
        let ph = paddedSize(height), pw = paddedSize(width)
        let halo = (receptiveRadius + m - 1) / m * m
        // The runtime's own frame buffers: the result, and the padded copy of an input whose
        // sides are not multiples of m (the input itself is the caller's).
        let frameBytes = 3 * ph * pw * (ph == height && pw == width ? 1 : 2) + packedWeightBytes
        func cost(_ core: Int) throws(RuntimeError) -> Int {
            let th = min(ph, core + 2 * halo), tw = min(pw, core + 2 * halo)
            return frameBytes + 2 * 3 * th * tw + (try workingBytes(height: th, width: tw, banded: true))
        }
        func plan(_ core: Int) throws(RuntimeError) -> TilePlan {
            TilePlan(core: core, halo: halo, tileCount: ((ph + core - 1) / core) * ((pw + core - 1) / core), budget: maxBytes,
                     workingBytes: try cost(core))
        }
        if let requested { return try plan(max(m, requested / m * m)) }
        let whole = max(ph, pw)
        if try cost(whole) <= maxBytes { return try plan(whole) }
        // Binary search over cores of m...whole (multiples of m): cost grows with the core.
        var low = 1, high = whole / m
        guard try cost(m) <= maxBytes else {
            throw RuntimeError(.unsupportedInput, "a \(width)x\(height) frame needs at least \(try cost(m)) bytes in tiles of \(m) pixels (halo \(halo)); the budget is \(maxBytes)")
        }
        while low < high {
            let mid = (low + high + 1) / 2
            if try cost(mid * m) <= maxBytes { low = mid } else { high = mid - 1 }
        }
        return try plan(low * m)
    }

    /// Derains a frame in tiles of `plan` (from `tilePlan`), with InstanceNorm statistics from
    /// `statistics`. With `.exact` the output equals `derain`'s bit for bit.
    public func derainTiled(pixels image: ByteTensor, plan: TilePlan, statistics: TiledStatistics,
                            parallel: ParallelRunner = .serial) throws(RuntimeError) -> ByteTensor {
        guard !usesReference else {
            throw RuntimeError(.invalidProgram, "tiled runs need the optimized executor; this program runs on the reference (\(referenceReason ?? ""))")
        }
        guard image.channels == 3 else { throw RuntimeError(.unsupportedInput, "the network takes 3 channels, got \(image.channels)") }
        let ph = paddedSize(image.height), pw = paddedSize(image.width)
        guard image.height >= 1, image.width >= 1, ph - image.height < image.height, pw - image.width < image.width else {
            throw RuntimeError(.unsupportedInput, "a \(image.width)x\(image.height) image is too small: sides are padded to a multiple of \(program.sizeMultiple) by reflection")
        }
        let frame = ph == image.height && pw == image.width ? image
            : FloatReference.pad(image, mode: .reflect, top: 0, bottom: ph - image.height, left: 0, right: pw - image.width)
        let tiles = Self.tiles(height: ph, width: pw, core: plan.core, halo: plan.halo)
        var fixed: [Int: [InstanceNormChannel]] = [:]
        switch statistics {
        case .exact:
            for (index, op) in program.ops.enumerated() where op.epilogue.contains(.instanceNorm) {
                fixed[index] = try exactStatistics(of: index, frame, tiles, fixed, parallel)
            }
        case .proxy(let downscale):
            // The proxy runs untiled: shrink further (by powers of 2) until it fits the plan's
            // budget beside the result frame (the tile buffers are not allocated yet).
            var d = max(1, downscale)
            let resultBytes = 3 * ph * pw
            while d < 64, try workingBytes(height: max(1, ph / d), width: max(1, pw / d)) > plan.budget - min(plan.budget, resultBytes) { d *= 2 }
            let proxy = Self.shrink(frame, by: d, multiple: program.sizeMultiple)
            var control = RunControl()
            control.observe = { index, channels in fixed[index] = channels }
            _ = try runFrame(proxy, parallel, control)
            // The tiles that follow are planned banded; the proxy's plane-sized buffers go.
            releaseFrame()
        }
        var result = ByteTensor(channels: 3, height: ph, width: pw)
        var control = RunControl()
        control.fixed = fixed
        control.banded = true
        for t in tiles {
            let out = try runFrame(Self.cut(frame, t.region), parallel, control)!
            for c in 0..<3 {
                for y in t.core.rows {
                    for x in t.core.columns {
                        result[c, y, x] = out[c, y - t.region.rows.lowerBound, x - t.region.columns.lowerBound]
                    }
                }
            }
        }
        if ph == image.height && pw == image.width { return result }
        return FloatReference.crop(result, top: 0, bottom: ph - image.height, left: 0, right: pw - image.width)
    }

    struct Rectangle { var rows: Range<Int>; var columns: Range<Int> }
    struct Tile { var core: Rectangle; var region: Rectangle }

    static func tiles(height: Int, width: Int, core: Int, halo: Int) -> [Tile] {
        var tiles: [Tile] = []
        for y in stride(from: 0, to: height, by: core) {
            for x in stride(from: 0, to: width, by: core) {
                let c = Rectangle(rows: y..<min(height, y + core), columns: x..<min(width, x + core))
                let r = Rectangle(rows: max(0, y - halo)..<min(height, y + core + halo), columns: max(0, x - halo)..<min(width, x + core + halo))
                tiles.append(Tile(core: c, region: r))
            }
        }
        return tiles
    }

    static func cut(_ x: ByteTensor, _ r: Rectangle) -> ByteTensor {
        var t = ByteTensor(channels: x.channels, height: r.rows.count, width: r.columns.count)
        for c in 0..<x.channels {
            for y in r.rows { for xx in r.columns { t[c, y - r.rows.lowerBound, xx - r.columns.lowerBound] = x[c, y, xx] } }
        }
        return t
    }

    /// Box-average downscale by `d`, to a size that is a multiple of `multiple` (at least one).
    static func shrink(_ x: ByteTensor, by d: Int, multiple m: Int) -> ByteTensor {
        let h = max(m, x.height / d / m * m), w = max(m, x.width / d / m * m)
        var out = ByteTensor(channels: x.channels, height: h, width: w)
        for c in 0..<x.channels {
            for y in 0..<h {
                let y0 = y * x.height / h, y1 = max(y0 + 1, (y + 1) * x.height / h)
                for xx in 0..<w {
                    let x0 = xx * x.width / w, x1 = max(x0 + 1, (xx + 1) * x.width / w)
                    var sum = 0
                    for sy in y0..<y1 { for sx in x0..<x1 { sum += Int(x[c, sy, sx]) } }
                    let n = (y1 - y0) * (x1 - x0)
                    out[c, y, xx] = UInt8((sum + n / 2) / n)
                }
            }
        }
        return out
    }

    /// Layer `index`'s InstanceNorm channels over the whole frame, from its accumulators over
    /// the tile cores (the ops before it use `fixed`): sums and extremes, then squares.
    private func exactStatistics(of index: Int, _ frame: ByteTensor, _ tiles: [Tile], _ fixed: [Int: [InstanceNormChannel]],
                                 _ parallel: ParallelRunner) throws(RuntimeError) -> [InstanceNormChannel] {
        var sums: [Int64] = [], minima: [Int64] = [], maxima: [Int64] = [], squares: [Int64] = []
        var channels: [InstanceNormChannel] = []
        var planeCount = 0
        for sweep in 0..<2 {
            for t in tiles {
                var control = RunControl()
                control.fixed = fixed
                control.stopAfter = index
                control.banded = true
                control.inspect = { acc, band, shape in
                    // The core in this layer's coordinates: the tile region maps to the whole
                    // plane, so the scale is region side / plane side (an integer: cores and
                    // halos are multiples of the size multiple).
                    let scaleY = t.region.rows.count / shape.height, scaleX = t.region.columns.count / shape.width
                    let rows = ((t.core.rows.lowerBound - t.region.rows.lowerBound) / scaleY)..<((t.core.rows.upperBound - t.region.rows.lowerBound) / scaleY)
                    let columns = ((t.core.columns.lowerBound - t.region.columns.lowerBound) / scaleX)..<((t.core.columns.upperBound - t.region.columns.lowerBound) / scaleX)
                    if sums.isEmpty {
                        sums = [Int64](repeating: 0, count: shape.channels)
                        minima = [Int64](repeating: .max, count: shape.channels)
                        maxima = [Int64](repeating: .min, count: shape.channels)
                        squares = [Int64](repeating: 0, count: shape.channels)
                    }
                    if sweep == 0 { planeCount += rows.clamped(to: band).count * columns.count }
                    for y in rows.clamped(to: band) {
                        for x in columns {
                            let a = acc.pixel(y, x)
                            for c in 0..<shape.channels {
                                let v = Int64(a[c])
                                if sweep == 0 {
                                    sums[c] += v
                                    minima[c] = min(minima[c], v)
                                    maxima[c] = max(maxima[c], v)
                                } else {
                                    squares[c] += channels[c].squaredDeviation(v)
                                }
                            }
                        }
                    }
                }
                _ = try runFrame(Self.cut(frame, t.region), parallel, control)
            }
            if sweep == 0 {
                channels = (0..<sums.count).map { InstanceNormChannel(count: planeCount, sum: sums[$0], minimum: minima[$0], maximum: maxima[$0]) }
            }
        }
        guard case let .convolution(c) = steps[index] else { return channels }
        for ch in channels.indices {
            channels[ch].setGain(sumOfSquares: squares[ch], count: planeCount, epsilon: c.epsilon[ch], p: c.p, pk: c.pk)
        }
        return channels
    }
}
