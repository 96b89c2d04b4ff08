// The trainer's convolution kernels on the layer shapes of a generator and discriminator:
// milliseconds and GMAC/s of the forward pass and of the backward pass (input and weight
// gradients), median of --runs runs. Built with the package:
//
//   DCD_TARGET_CPU=znver4 swift build -c release --scratch-path .build/znver4 --product dcd-train-kernel-bench
//   .build/znver4/release/dcd-train-kernel-bench [--ngf 16] [--ndf 16] [--crop 128] [--threads 2] [--runs 7]
import DCDPlatform
import DCDRuntime
import DCDTrain
#if canImport(Glibc)
import Glibc
#endif

var options = ["--ngf": 16, "--ndf": 16, "--crop": 128, "--threads": 2, "--runs": 7]
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard options[flag] != nil, let value = arguments.popFirst().flatMap({ Int($0) }) else {
        Files.writeStandardError("usage: dcd-train-kernel-bench [--ngf N] [--ndf N] [--crop N] [--threads N] [--runs N]\n")
        exit(64)
    }
    options[flag] = value
}
let (ngf, ndf, crop, runs) = (options["--ngf"]!, options["--ndf"]!, options["--crop"]!, options["--runs"]!)
Ops.parallel = ThreadPool.runner(threads: options["--threads"]!)

/// (name, input channels, padded input side, output channels, kernel)
let layers: [(String, Int, Int, Int, Int)] = [
    ("G in 7x7", 3, crop + 6, ngf, 7),
    ("G down1 3x3", ngf, crop + 2, 2 * ngf, 3),
    ("G down2 3x3", 2 * ngf, crop / 2 + 2, 4 * ngf, 3),
    ("G block 3x3", 4 * ngf, crop / 4 + 2, 4 * ngf, 3),
    ("G up1 3x3", 4 * ngf, crop / 2 + 2, 2 * ngf, 3),
    ("G up2 3x3", 2 * ngf, crop + 2, ngf, 3),
    ("G out 7x7", ngf, crop + 6, 3, 7),
    ("D 0 4x4", 3, crop + 2, ndf, 4),
    ("D 3 4x4", ndf, crop / 2 + 1, 2 * ndf, 4),
    ("D 11 4x4", 4 * ndf, crop / 8 + 1, 8 * ndf, 4),
]

func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
var seed: UInt64 = 1
func values(_ n: Int) -> [Float] {
    (0..<n).map { _ in
        seed = seed &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: seed >> 11) % 2001 - 1000) / 1000
    }
}
print("| layer | MMAC | forward ms | GMAC/s | backward ms | GMAC/s | weight gradient ms | GMAC/s |")
print("|---|---|---|---|---|---|---|---|")
var totals = (forward: 0.0, backward: 0.0, weights: 0.0, macs: 0.0)
for (name, ci, side, co, k) in layers {
    let out = side - k + 1
    let macs = Double(co * ci * k * k * out * out)
    let x = Variable<Float>(shape: [1, ci, side, side], values: values(ci * side * side), requiresGrad: true)
    let w = Variable<Float>(shape: [co, ci, k, k], values: values(co * ci * k * k), requiresGrad: true)
    let b = Variable<Float>(shape: [co], values: values(co), requiresGrad: true)
    let probe = values(co * out * out)
    var forward: [Double] = [], backward: [Double] = [], weights: [Double] = []
    // The weight (and bias) gradient alone: an input that needs no gradient, as the first layer's.
    let constant = Variable<Float>(shape: x.shape, values: x.values)
    for _ in 0..<runs {
        w.zeroGrad(); b.zeroGrad()
        let loss = Ops.weightedSum(Ops.conv2d(constant, w, b), probe)
        let t0 = ProcessClock.seconds()
        loss.backward()
        weights.append(ProcessClock.seconds() - t0)
    }
    for _ in 0..<runs {
        x.zeroGrad(); w.zeroGrad(); b.zeroGrad()
        let t0 = ProcessClock.seconds()
        let y = Ops.conv2d(x, w, b)
        let t1 = ProcessClock.seconds()
        let loss = Ops.weightedSum(y, probe)
        let t2 = ProcessClock.seconds()
        loss.backward()
        let t3 = ProcessClock.seconds()
        forward.append(t1 - t0)
        backward.append(t3 - t2)
    }
    let (f, bw, wg) = (median(forward), median(backward), median(weights))
    totals.forward += f; totals.backward += bw; totals.weights += wg; totals.macs += macs
    print("| \(name) \(ci)->\(co) @\(out) | \(fixed(macs / 1e6, 1)) | \(fixed(f * 1e3, 2)) | \(fixed(macs / f / 1e9, 1)) | \(fixed(bw * 1e3, 2)) | \(fixed(2 * macs / bw / 1e9, 1)) | \(fixed(wg * 1e3, 2)) | \(fixed(macs / wg / 1e9, 1)) |")
}
print("| total | \(fixed(totals.macs / 1e6, 1)) | \(fixed(totals.forward * 1e3, 2)) | \(fixed(totals.macs / totals.forward / 1e9, 1)) | \(fixed(totals.backward * 1e3, 2)) | \(fixed(2 * totals.macs / totals.backward / 1e9, 1)) | \(fixed(totals.weights * 1e3, 2)) | \(fixed(totals.macs / totals.weights / 1e9, 1)) |")
