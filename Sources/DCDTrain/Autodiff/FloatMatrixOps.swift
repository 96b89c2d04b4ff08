import DCDRuntime

/// The Float paths of the matrix ops on the packed SIMD multiply (`FloatGEMM`); `linear` and
/// `matmulTransposed` dispatch here for Float and keep their plain loops for Double (the gradient
/// checks, and the reference these paths are tested against).
extension Ops {
    /// C[m, n] = (accumulate ? C : 0) + A B over row-major arrays, A given as [m, k] or, with
    /// `transposeA`, stored as [k, m]; likewise B as [k, n] or stored [n, k].
    static func multiply(_ a: [Float], transposeA: Bool = false, _ b: [Float], transposeB: Bool = false,
                         m: Int, n: Int, k: Int, into c: inout [Float], accumulate: Bool = false) {
        let parallel = Ops.parallel
        a.withUnsafeBufferPointer { av in
            b.withUnsafeBufferPointer { bv in
                c.withUnsafeMutableBufferPointer { cv in
                    let aView = transposeA ? MatrixView(av.baseAddress!, rowStride: m).transposed : MatrixView(av.baseAddress!, rowStride: k)
                    let bView = transposeB ? MatrixView(bv.baseAddress!, rowStride: k).transposed : MatrixView(bv.baseAddress!, rowStride: n)
                    FloatGEMM.multiply(m: m, n: n, k: k, aView, bView, into: cv.baseAddress!, ldc: n, accumulate: accumulate, parallel: parallel)
                }
            }
        }
    }

    /// torch Linear: y[rows, out] = x[rows, in] W[out, in]^T + b.
    static func linearGEMM(_ x: Variable<Float>, _ w: Variable<Float>, _ b: Variable<Float>?) -> Variable<Float> {
        let rows = x.shape[0], inputs = x.shape[1], outputs = w.shape[0]
        precondition(w.shape[1] == inputs, "linear: input \(x.shape), weight \(w.shape)")
        var out = [Float](repeating: 0, count: rows * outputs)
        if let b { for r in 0..<rows { for o in 0..<outputs { out[r * outputs + o] = b.values[o] } } }
        multiply(x.values, w.values, transposeB: true, m: rows, n: outputs, k: inputs, into: &out, accumulate: b != nil)
        return Variable(shape: [rows, outputs], values: out, parents: [x, w] + (b.map { [$0] } ?? [])) { y in
            let g = y.grad!
            if x.requiresGrad {
                var gx = [Float](repeating: 0, count: x.count)
                multiply(g, w.values, m: rows, n: inputs, k: outputs, into: &gx)
                x.accumulate(gx)
            }
            var gw = [Float](repeating: 0, count: w.count)
            multiply(g, transposeA: true, x.values, m: outputs, n: inputs, k: rows, into: &gw)
            w.accumulate(gw)
            if let b {
                var gb = [Float](repeating: 0, count: outputs)
                for r in 0..<rows { for o in 0..<outputs { gb[o] += g[r * outputs + o] } }
                b.accumulate(gb)
            }
        }
    }

    /// a[m, d] b[n, d]^T.
    static func matmulTransposedGEMM(_ a: Variable<Float>, _ b: Variable<Float>) -> Variable<Float> {
        let m = a.shape[0], d = a.shape[1], n = b.shape[0]
        precondition(b.shape[1] == d, "matmulTransposed: \(a.shape) and \(b.shape)")
        var out = [Float](repeating: 0, count: m * n)
        multiply(a.values, b.values, transposeB: true, m: m, n: n, k: d, into: &out)
        return Variable(shape: [m, n], values: out, parents: [a, b]) { y in
            let g = y.grad!
            if a.requiresGrad {
                var ga = [Float](repeating: 0, count: a.count)
                multiply(g, b.values, m: m, n: d, k: n, into: &ga)
                a.accumulate(ga)
            }
            if b.requiresGrad {
                var gb = [Float](repeating: 0, count: b.count)
                multiply(g, transposeA: true, a.values, m: n, n: d, k: m, into: &gb)
                b.accumulate(gb)
            }
        }
    }
}
