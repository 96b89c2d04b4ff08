import Testing
import DCDCompiler
import DCDRuntime
import DCDTestSupport

/// Tiled execution against the untiled run: equal bytes when the InstanceNorm statistics are
/// exact, whatever the tile size.
struct Int8TiledTests {
    /// Exact statistics from per-tile sweeps: 2 x 2 tiles of a small frame (the statistics
    /// sums over tile cores; the halo covers the frame here, so the sweeps are what is tested).
    @Test func exactStatisticsReproduceTheUntiledRun() throws {
        let program = try Int8ExecutorTests.quantized("noaa_ngf2_b1.pth")
        let executor = try Int8Executor(program: program)
        let image = Int8ExecutorTests.bytes(7, 24, 28)
        let untiled = try executor.derain(pixels: image)
        let plan = try executor.tilePlan(height: 24, width: 28, maxBytes: .max, core: 16)
        #expect(plan.tileCount == 4)
        #expect(try executor.derainTiled(pixels: image, plan: plan, statistics: .exact) == untiled)
    }

    /// Tiles whose regions are smaller than the frame (2 x 2 tiles, each with a frame border on
    /// two sides and a halo on the other two): with the untiled statistics (a proxy that is the
    /// frame itself), the halo must make every core pixel exact.
    @Test func haloMakesInteriorTilesExact() throws {
        let program = try Int8ExecutorTests.quantized("noaa_ngf2_b1.pth")
        let executor = try Int8Executor(program: program)
        let plan0 = try executor.tilePlan(height: 8, width: 8, maxBytes: .max, core: 8)
        let core = 2 * plan0.halo + 8, h = 2 * core, w = 2 * core - 4
        let image = Int8ExecutorTests.bytes(8, h, w)
        let untiled = try executor.derain(pixels: image)
        let plan = try executor.tilePlan(height: h, width: w, maxBytes: .max, core: core)
        #expect(plan.tileCount == 4, "halo \(plan.halo)")
        #expect(plan.core + plan.halo < w, "regions smaller than the frame")
        #expect(try executor.derainTiled(pixels: image, plan: plan, statistics: .proxy(downscale: 1)) == untiled)
    }
}

/// Tile plans for camera frames: within the budget, and the budget is what makes them tile.
struct Int8TilePlanTests {
    @Test(arguments: [(1920, 1080, 32 << 20), (3840, 2160, 48 << 20)])
    func largeFramesFitTheirBudget(width: Int, height: Int, budget: Int) throws {
        let executor = try Int8Executor(program: try Int8ExecutorTests.quantized("aa_ngf8_b2.pth"))
        #expect(try executor.workingBytes(height: height, width: width) > budget, "untiled would not fit")
        let plan = try executor.tilePlan(height: height, width: width, maxBytes: budget)
        #expect(plan.workingBytes <= budget)
        #expect(plan.tileCount > 1 && plan.core % 4 == 0 && plan.halo >= executor.receptiveRadius)
        // A budget below the smallest tile is an error, not an overrun.
        #expect(throws: RuntimeError.self) { _ = try executor.tilePlan(height: height, width: width, maxBytes: 1 << 20) }
    }
}
