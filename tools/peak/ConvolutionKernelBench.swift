#if canImport(Glibc)
import Glibc
#endif
// Throughput of the int8 convolution kernel alone, on the shapes that dominate the generator
// (ngf=64: 256->256 3x3 at 64x64 is 18 of the 22 convolutions' MACs). Compiled together with
// the runtime's sources by tools/peak/run.sh, so it reaches the internal kernel.
func seconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

func benchKernel(cin: Int, cout: Int, k: Int, height: Int, width: Int, repeats: Int) {
    var seed: UInt32 = 1
    func next() -> Int32 { seed = seed &* 1664525 &+ 1013904223; return Int32(seed >> 24) - 128 }
    let weight = ModelTensor(name: "w", dims: [cout, cin, k, k], type: .int8, integers: (0..<(cout * cin * k * k)).map { _ in max(-127, next()) })
    let packed = Int8PackedConvolution(weight: weight, transposed: false, stride: 1, bias: [], zIn: 3)
    let padded = FeatureShape(channels: cin, height: height + k - 1, width: width + k - 1)
    let count = InterleavedByteMap.byteCount(padded)
    let input = UnsafeMutablePointer<Int8ConvolutionKernel.Input>.allocate(capacity: count)
    for i in 0..<count { input[i] = Int8ConvolutionKernel.input(UInt8(truncatingIfNeeded: next() & 255)) }
    let map = InterleavedMap<Int8ConvolutionKernel.Input>(base: input, shape: padded)
    let out = UnsafeMutablePointer<Int32>.allocate(capacity: height * width * packed.blocks * 16)
    var best = Double.infinity
    packed.weights.withUnsafeBufferPointer { w in
        packed.initial.withUnsafeBufferPointer { initial in
            for _ in 0..<repeats {
                let start = seconds()
                Int8Convolution.accumulate(map, packed, weights: w.baseAddress!, initial: initial.baseAddress!, outputWidth: width,
                                           rows: 0..<height, blocks: 0..<packed.blocks, into: out)
                best = min(best, seconds() - start)
            }
        }
    }
    let macs = Double(cin * cout * k * k * height * width)
    print("\(Int8ConvolutionKernel.name) \(cin)->\(cout) \(k)x\(k) \(width)x\(height): \(Int(best * 1e6)) us, \(Int(macs / best / 1e9)) GMAC/s (1 thread)")
}

func benchFloatKernel(cin: Int, cout: Int, k: Int, height: Int, width: Int, repeats: Int) {
    var seed: UInt32 = 1
    func next() -> Float { seed = seed &* 1664525 &+ 1013904223; return Float(seed >> 8) / Float(1 << 24) - 0.5 }
    let weight = ModelTensor(name: "w", dims: [cout, cin, k, k], values: (0..<(cout * cin * k * k)).map { _ in next() })
    let packed = FloatPackedConvolution(weight: weight, transposed: false, stride: 1, bias: [])
    let padded = FeatureShape(channels: cin, height: height + k - 1, width: width + k - 1)
    let count = InterleavedByteMap.byteCount(padded)
    let input = UnsafeMutablePointer<Float>.allocate(capacity: count)
    for i in 0..<count { input[i] = next() }
    let map = InterleavedMap<Float>(base: input, shape: padded)
    let out = UnsafeMutablePointer<Float>.allocate(capacity: height * width * packed.blocks * 16)
    var best = Double.infinity
    packed.weights.withUnsafeBufferPointer { w in
        packed.initial.withUnsafeBufferPointer { initial in
            for _ in 0..<repeats {
                let start = seconds()
                FloatConvolution.accumulate(map, packed, weights: w.baseAddress!, initial: initial.baseAddress!, outputWidth: width,
                                            rows: 0..<height, blocks: 0..<packed.blocks, into: out)
                best = min(best, seconds() - start)
            }
        }
    }
    let macs = Double(cin * cout * k * k * height * width)
    print("float \(FloatConvolutionKernel.name) \(cin)->\(cout) \(k)x\(k) \(width)x\(height): \(Int(best * 1e6)) us, \(Int(macs / best / 1e9)) GFMA/s (1 thread)")
}

@main
struct ConvolutionKernelBench {
    static func main() {
        benchKernel(cin: 256, cout: 256, k: 3, height: 64, width: 64, repeats: 5)
        benchKernel(cin: 64, cout: 128, k: 3, height: 256, width: 256, repeats: 3)
        benchKernel(cin: 64, cout: 64, k: 3, height: 32, width: 32, repeats: 10)
        benchFloatKernel(cin: 256, cout: 256, k: 3, height: 64, width: 64, repeats: 5)
        benchFloatKernel(cin: 64, cout: 128, k: 3, height: 256, width: 256, repeats: 3)
    }
}
