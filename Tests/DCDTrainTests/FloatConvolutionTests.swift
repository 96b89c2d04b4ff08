import Testing
import DCDRuntime
@testable import DCDTrain
import DCDTestSupport

/// The float convolution on the SIMD kernels (forward, input, weight and bias gradients)
/// against the row-operation definition evaluated in Double on the same float inputs.
///
/// Tolerance, per element: the float32 reordered-sum bound (`Tolerance.reorderedSum`) over the
/// number of terms that element sums (K + 1 forward, co k k for an input gradient, the output
/// pixels for a weight or bias gradient), with the sum of the terms' magnitudes computed exactly as
/// the same Double convolution of |x|, |w|, |b| probed with |c|.
struct FloatConvolutionTests {
    struct Result { var output: [Double]; var gx: [Double]; var gw: [Double]; var gb: [Double] }

    static func run<T: BinaryFloatingPoint>(_ x: [Float], _ xs: [Int], _ w: [Float], _ ws: [Int], _ b: [Float], _ c: [Float],
                                            as: T.Type, float: Bool) -> Result {
        let xv = Variable<T>(shape: xs, values: x.map { T($0) }, requiresGrad: true)
        let wv = Variable<T>(shape: ws, values: w.map { T($0) }, requiresGrad: true)
        let bv = Variable<T>(shape: [ws[0]], values: b.map { T($0) }, requiresGrad: true)
        let y = float ? Ops.conv2d(xv, wv, bv) : Ops.conv2dRows(xv, wv, bv)
        Ops.weightedSum(y, c.map { T($0) }).backward()
        func d(_ a: [T]) -> [Double] { a.map { Double($0) } }
        return Result(output: d(y.values), gx: d(xv.gradient), gw: d(wv.gradient), gb: d(bv.gradient))
    }

    /// (input channels, height, width, output channels, kernel) of the padded input.
    @Test(arguments: [(3, 20, 17, 16, 7), (16, 13, 11, 3, 7), (8, 12, 12, 16, 3), (5, 9, 40, 1, 4), (32, 70, 9, 8, 3), (2, 5, 5, 2, 1), (4, 10, 66, 9, 3), (6, 7, 50, 5, 2), (16, 40, 130, 8, 3), (3, 30, 134, 16, 7)])
    func matchesRowDefinition(geometry: (Int, Int, Int, Int, Int)) {
        let (ci, h, wd, co, k) = geometry
        var rng = SeededRandom(seed: UInt64(ci * 7 + h * 131 + co * 17 + k))
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in rng.symmetric() } }
        let xs = [1, ci, h, wd], ws = [co, ci, k, k]
        let x = values(ci * h * wd), w = values(co * ci * k * k), b = values(co)
        let outputs = co * (h - k + 1) * (wd - k + 1)
        let c = values(outputs)
        let fast = Self.run(x, xs, w, ws, b, c, as: Float.self, float: true)
        let exact = Self.run(x, xs, w, ws, b, c, as: Double.self, float: false)
        let size = Self.run(x.map(abs), xs, w.map(abs), ws, b.map(abs), c.map(abs), as: Double.self, float: false)
        func check(_ name: String, _ a: [Double], _ e: [Double], _ m: [Double], terms: Int) {
            var worst = 0.0
            for i in 0..<a.count {
                let bound = Double(Tolerance.reorderedSum(terms: terms, sumOfMagnitudes: Float(m[i])))
                worst = max(worst, abs(a[i] - e[i]) / bound)
            }
            #expect(worst <= 1, "\(geometry) \(name): \(worst) of the bound")
        }
        let pixels = (h - k + 1) * (wd - k + 1)
        check("output", fast.output, exact.output, size.output, terms: ci * k * k + 1)
        check("input gradient", fast.gx, exact.gx, size.gx, terms: co * k * k)
        check("weight gradient", fast.gw, exact.gw, size.gw, terms: pixels)
        check("bias gradient", fast.gb, exact.gb, size.gb, terms: pixels)
    }

    /// Chunks are sized by the geometry and summed in chunk order: the same bits for any split.
    @Test func sameBitsForAnyTaskOrder() {
        var rng = SeededRandom(seed: 4)
        func values(_ n: Int) -> [Float] { (0..<n).map { _ in rng.symmetric() } }
        let x = values(8 * 40 * 36), w = values(16 * 8 * 9), b = values(16), c = values(16 * 38 * 34)
        let saved = Ops.parallel
        defer { Ops.parallel = saved }
        Ops.parallel = .serial
        let serial = Self.run(x, [1, 8, 40, 36], w, [16, 8, 3, 3], b, c, as: Float.self, float: true)
        Ops.parallel = ParallelRunner(workerCount: 3) { count, body in for i in (0..<count).reversed() { body(i) } }
        let reversed = Self.run(x, [1, 8, 40, 36], w, [16, 8, 3, 3], b, c, as: Float.self, float: true)
        #expect(serial.output == reversed.output && serial.gx == reversed.gx && serial.gw == reversed.gw && serial.gb == reversed.gb)
    }
}
