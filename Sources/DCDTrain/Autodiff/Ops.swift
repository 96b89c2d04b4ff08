import DCDRuntime
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The differentiable ops of DCD-GAN training, on `Variable`s. Images are NCHW, matrices
/// row-major [rows, columns]. Plain loops: the definitions the gradient checks hold to (the
/// fast convolutions come with the trainer's kernels). Every backward adds into its inputs'
/// gradients.
public enum Ops {
    /// The threads the heavy ops split their work over (`DCDRuntime.ParallelRunner`: the host's
    /// hook; serial by default). Tasks write disjoint outputs, so results do not depend on it.
    public nonisolated(unsafe) static var parallel: ParallelRunner = .serial

    // MARK: Elementwise

    /// y = scale * x + shift.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func affine<T>(_ x: Variable<T>, scale: T, shift: T = 0) -> Variable<T> {
        Variable(shape: x.shape, values: map(x.values) { scale * $0 + shift }, parents: [x]) { y in
            x.accumulate(map(y.grad!) { scale * $0 })
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func add<T>(_ a: Variable<T>, _ b: Variable<T>) -> Variable<T> {
        precondition(a.shape == b.shape, "add: shapes \(a.shape) and \(b.shape)")
        return Variable(shape: a.shape, values: map(a.values, b.values, +), parents: [a, b]) { y in
            a.accumulate(y.grad!)
            b.accumulate(y.grad!)
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func relu<T>(_ x: Variable<T>) -> Variable<T> { leakyRelu(x, slope: 0) }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func leakyRelu<T>(_ x: Variable<T>, slope: T) -> Variable<T> {
        Variable(shape: x.shape, values: map(x.values) { $0 > 0 ? $0 : slope * $0 }, parents: [x]) { y in
            x.accumulate(map(y.grad!, x.values) { $1 > 0 ? $0 : slope * $0 })
        }
    }

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func tanh<T>(_ x: Variable<T>) -> Variable<T> {
        let out = map(x.values) { v -> T in
            let e = T(exp(-2 * Double(v)))
            return (1 - e) / (1 + e)
        }
        return Variable(shape: x.shape, values: out, parents: [x]) { y in
            let g = y.grad!
            var d = [T](repeating: 0, count: g.count)
            for i in 0..<g.count {
                let o = out[i]
                d[i] = g[i] * (1 - o * o)
            }
            x.accumulate(d)
        }
    }

    // MARK: Reductions and losses

    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func mean<T>(_ x: Variable<T>) -> Variable<T> {
        let n = T(x.count)
        return Variable(shape: [1], values: [x.values.reduce(0, +) / n], parents: [x]) { y in
            x.accumulate([T](repeating: y.grad![0] / n, count: x.count))
        }
    }

    /// mean |a - b| (b may be a constant).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func l1<T>(_ a: Variable<T>, _ b: Variable<T>) -> Variable<T> {
        precondition(a.shape == b.shape, "l1: shapes \(a.shape) and \(b.shape)")
        let n = T(a.count)
        let value = zip(a.values, b.values).reduce(T(0)) { $0 + abs($1.0 - $1.1) } / n
        return Variable(shape: [1], values: [value], parents: [a, b]) { y in
            let g = y.grad![0] / n
            // The subgradient 0 at a == b, as PyTorch's sign().
            let d = zip(a.values, b.values).map { $0 > $1 ? g : ($0 < $1 ? -g : 0) }
            a.accumulate(d)
            b.accumulate(d.map { -$0 })
        }
    }

    /// Mean over rows of the cross-entropy of `logits` [rows, classes] against class 0 (the
    /// positive of PatchNCE).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func crossEntropyFirstClass<T>(_ logits: Variable<T>) -> Variable<T> {
        let rows = logits.shape[0], classes = logits.shape[1]
        var probabilities = [T](repeating: 0, count: logits.count)
        var total = 0.0
        for r in 0..<rows {
            let row = (r * classes)..<((r + 1) * classes)
            let top = logits.values[row].max()!
            var sum = 0.0
            for i in row { sum += exp(Double(logits.values[i] - top)) }
            for i in row { probabilities[i] = T(exp(Double(logits.values[i] - top)) / sum) }
            total += Double(top) + log(sum) - Double(logits.values[r * classes])
        }
        return Variable(shape: [1], values: [T(total / Double(rows))], parents: [logits]) { y in
            let g = y.grad![0] / T(rows)
            var d = probabilities.map { $0 * g }
            for r in 0..<rows { d[r * classes] -= g }
            logits.accumulate(d)
        }
    }

    // MARK: Matrices

    /// x [rows, in] times w [out, in] transposed, plus b [out]: [rows, out] (torch Linear).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func linear<T>(_ x: Variable<T>, _ w: Variable<T>, _ b: Variable<T>?) -> Variable<T> {
        if T.self == Float.self {
            return linearGEMM(x as! Variable<Float>, w as! Variable<Float>, b.map { $0 as! Variable<Float> }) as! Variable<T>
        }
        return linearLoops(x, w, b)
    }

    /// The plain loops of `linear` (Double, and the Float path's reference).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func linearLoops<T>(_ x: Variable<T>, _ w: Variable<T>, _ b: Variable<T>?) -> Variable<T> {
        let rows = x.shape[0], inputs = x.shape[1], outputs = w.shape[0]
        precondition(w.shape[1] == inputs, "linear: input \(x.shape), weight \(w.shape)")
        var out = [T](repeating: 0, count: rows * outputs)
        for r in 0..<rows {
            for o in 0..<outputs {
                var s = b?.values[o] ?? 0
                for i in 0..<inputs { s += x.values[r * inputs + i] * w.values[o * inputs + i] }
                out[r * outputs + o] = s
            }
        }
        return Variable(shape: [rows, outputs], values: out, parents: [x, w] + (b.map { [$0] } ?? [])) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count), gw = [T](repeating: 0, count: w.count), gb = [T](repeating: 0, count: outputs)
            for r in 0..<rows {
                for o in 0..<outputs {
                    let go = g[r * outputs + o]
                    gb[o] += go
                    for i in 0..<inputs {
                        gx[r * inputs + i] += go * w.values[o * inputs + i]
                        gw[o * inputs + i] += go * x.values[r * inputs + i]
                    }
                }
            }
            x.accumulate(gx)
            w.accumulate(gw)
            b?.accumulate(gb)
        }
    }

    /// a [m, d] times b [n, d] transposed: [m, n] (the cosine logits of normalised features).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func matmulTransposed<T>(_ a: Variable<T>, _ b: Variable<T>) -> Variable<T> {
        if T.self == Float.self {
            return matmulTransposedGEMM(a as! Variable<Float>, b as! Variable<Float>) as! Variable<T>
        }
        return matmulTransposedLoops(a, b)
    }

    /// The plain loops of `matmulTransposed` (Double, and the Float path's reference).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    static func matmulTransposedLoops<T>(_ a: Variable<T>, _ b: Variable<T>) -> Variable<T> {
        let m = a.shape[0], d = a.shape[1], n = b.shape[0]
        precondition(b.shape[1] == d, "matmulTransposed: \(a.shape) and \(b.shape)")
        var out = [T](repeating: 0, count: m * n)
        for i in 0..<m {
            for j in 0..<n {
                var s: T = 0
                for k in 0..<d { s += a.values[i * d + k] * b.values[j * d + k] }
                out[i * n + j] = s
            }
        }
        return Variable(shape: [m, n], values: out, parents: [a, b]) { y in
            let g = y.grad!
            var ga = [T](repeating: 0, count: a.count), gb = [T](repeating: 0, count: b.count)
            for i in 0..<m {
                for j in 0..<n {
                    let gij = g[i * n + j]
                    for k in 0..<d {
                        ga[i * d + k] += gij * b.values[j * d + k]
                        gb[j * d + k] += gij * a.values[i * d + k]
                    }
                }
            }
            a.accumulate(ga)
            b.accumulate(gb)
        }
    }

    /// Each row divided by (its L2 norm + eps), as the reference's Normalize (eps 1e-7).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func l2NormalizeRows<T>(_ x: Variable<T>, eps: T = 1e-7) -> Variable<T> {
        let rows = x.shape[0], d = x.shape[1]
        var norms = [T](repeating: 0, count: rows)
        var out = x.values
        for r in 0..<rows {
            var s: T = 0
            for k in 0..<d { s += x.values[r * d + k] * x.values[r * d + k] }
            norms[r] = T(Double(s).squareRoot())
            for k in 0..<d { out[r * d + k] /= norms[r] + eps }
        }
        return Variable(shape: x.shape, values: out, parents: [x]) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count)
            for r in 0..<rows {
                let n = norms[r], denominator = n + eps
                var dot: T = 0
                for k in 0..<d { dot += g[r * d + k] * x.values[r * d + k] }
                // d y_i / d x_j = delta_ij / (n + eps) - x_i x_j / (n (n + eps)^2).
                let coupling = n > 0 ? dot / (n * denominator * denominator) : 0
                for k in 0..<d { gx[r * d + k] = g[r * d + k] / denominator - x.values[r * d + k] * coupling }
            }
            x.accumulate(gx)
        }
    }

    /// A copy with the diagonal of a square matrix set to `value` (no gradient there): PatchNCE's
    /// negatives of a query with its own key.
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func fillDiagonal<T>(_ x: Variable<T>, _ value: T) -> Variable<T> {
        let n = x.shape[0]
        var out = x.values
        for i in 0..<min(n, x.shape[1]) { out[i * x.shape[1] + i] = value }
        return Variable(shape: x.shape, values: out, parents: [x]) { y in
            var g = y.grad!
            for i in 0..<min(n, x.shape[1]) { g[i * x.shape[1] + i] = 0 }
            x.accumulate(g)
        }
    }

    /// [rows, a] and [rows, b] side by side: [rows, a + b].
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func concatColumns<T>(_ a: Variable<T>, _ b: Variable<T>) -> Variable<T> {
        let rows = a.shape[0], ca = a.shape[1], cb = b.shape[1]
        precondition(b.shape[0] == rows, "concatColumns: \(a.shape) and \(b.shape)")
        var out = [T](repeating: 0, count: rows * (ca + cb))
        for r in 0..<rows {
            for k in 0..<ca { out[r * (ca + cb) + k] = a.values[r * ca + k] }
            for k in 0..<cb { out[r * (ca + cb) + ca + k] = b.values[r * cb + k] }
        }
        return Variable(shape: [rows, ca + cb], values: out, parents: [a, b]) { y in
            let g = y.grad!
            var ga = [T](repeating: 0, count: a.count), gb = [T](repeating: 0, count: b.count)
            for r in 0..<rows {
                for k in 0..<ca { ga[r * ca + k] = g[r * (ca + cb) + k] }
                for k in 0..<cb { gb[r * cb + k] = g[r * (ca + cb) + ca + k] }
            }
            a.accumulate(ga)
            b.accumulate(gb)
        }
    }

    /// Feature vectors of image 0 of x [N, C, H, W] at flat spatial positions: [positions, C]
    /// (PatchSampleF's x.flatten(2).permute(0, 2, 1)[:, ids]).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func gatherPositions<T>(_ x: Variable<T>, _ positions: [Int]) -> Variable<T> {
        let c = x.shape[1], plane = x.shape[2] * x.shape[3]
        var out = [T](repeating: 0, count: positions.count * c)
        for (r, p) in positions.enumerated() {
            for k in 0..<c { out[r * c + k] = x.values[k * plane + p] }
        }
        return Variable(shape: [positions.count, c], values: out, parents: [x]) { y in
            let g = y.grad!
            var gx = [T](repeating: 0, count: x.count)
            for (r, p) in positions.enumerated() {
                for k in 0..<c { gx[k * plane + p] += g[r * c + k] }
            }
            x.accumulate(gx)
        }
    }
}

extension Ops {
    /// sum x_i c_i for constant weights c: a scalar that weighs every element (the gradient
    /// checks' probe; also a weighted loss).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func weightedSum<T>(_ x: Variable<T>, _ c: [T]) -> Variable<T> {
        precondition(c.count == x.count, "weightedSum: \(x.count) values, \(c.count) weights")
        return Variable(shape: [1], values: [zip(x.values, c).reduce(T(0)) { $0 + $1.0 * $1.1 }], parents: [x]) { y in
            let g = y.grad![0]
            x.accumulate(c.map { $0 * g })
        }
    }
}

extension Ops {
    /// The same values, cut from the graph: no gradient flows back (PatchNCE's keys).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func detach<T>(_ x: Variable<T>) -> Variable<T> { Variable(shape: x.shape, values: x.values) }

    /// Row-wise dot products of a and b [rows, d]: [rows, 1] (PatchNCE's positive logits).
    @_specialize(where T == Float)
    @_specialize(where T == Double)
    public static func rowDot<T>(_ a: Variable<T>, _ b: Variable<T>) -> Variable<T> {
        precondition(a.shape == b.shape, "rowDot: \(a.shape) and \(b.shape)")
        let rows = a.shape[0], d = a.shape[1]
        var out = [T](repeating: 0, count: rows)
        for r in 0..<rows { for k in 0..<d { out[r] += a.values[r * d + k] * b.values[r * d + k] } }
        return Variable(shape: [rows, 1], values: out, parents: [a, b]) { y in
            let g = y.grad!
            var ga = [T](repeating: 0, count: a.count), gb = [T](repeating: 0, count: b.count)
            for r in 0..<rows {
                for k in 0..<d {
                    ga[r * d + k] = g[r] * b.values[r * d + k]
                    gb[r * d + k] = g[r] * a.values[r * d + k]
                }
            }
            a.accumulate(ga)
            b.accumulate(gb)
        }
    }
}
