// swift-tools-version:6.0
// dcd: checkpoint -> graph -> model file -> runtime -> command line.
import PackageDescription

// Building for a device's CPU: `DCD_TARGET_CPU=<llvm cpu name> swift build -c release` compiles
// every target with `-target-cpu <name>` and, for CPUs with dot-product instructions, selects the
// runtime kernels that use them (the portable kernels otherwise). Without it the build targets
// the baseline of the host architecture and carries no unsafe flags. See README, "CPU targets".
let targetCPU = Context.environment["DCD_TARGET_CPU"] ?? ""
/// CPUs with AVX-512 VNNI (vpdpbusd on zmm registers).
let avx512VNNICPUs: Set<String> = [
    "cascadelake", "cooperlake", "icelake-client", "icelake-server", "tigerlake", "rocketlake", "sapphirerapids",
    "emeraldrapids", "graniterapids", "graniterapids-d", "znver4", "znver5",
]
/// Other x86-64 CPUs with AVX2 (vpmaddwd on ymm registers).
let avx2CPUs: Set<String> = [
    "haswell", "core-avx2", "broadwell", "skylake", "skylake-avx512", "alderlake", "raptorlake", "meteorlake",
    "arrowlake", "gracemont", "znver1", "znver2", "znver3",
]
/// Arm CPUs with the dot-product extension (sdot): Raspberry Pi 5's cortex-a76 and its kin.
let neonDotProductCPUs: Set<String> = [
    "cortex-a55", "cortex-a65", "cortex-a75", "cortex-a76", "cortex-a77", "cortex-a78", "cortex-a710", "cortex-a715",
    "cortex-x1", "cortex-x2", "neoverse-n1", "neoverse-n2", "neoverse-v1", "apple-m1", "apple-m2",
]
var cpuSettings: [SwiftSetting] = []
if !targetCPU.isEmpty {
    cpuSettings.append(.unsafeFlags(["-target-cpu", targetCPU]))
    if avx512VNNICPUs.contains(targetCPU) {
        cpuSettings.append(.define("DCD_AVX512VNNI"))
    } else if avx2CPUs.contains(targetCPU) {
        cpuSettings.append(.define("DCD_AVX2"))
    } else if neonDotProductCPUs.contains(targetCPU) {
        cpuSettings.append(.define("DCD_NEON_DOTPROD"))
    }
}

let package = Package(
    name: "dcd",
    products: [
        .library(name: "DCDRuntime", targets: ["DCDRuntime"]),
        .executable(name: "dcd-compile", targets: ["dcd-compile"]),
        .executable(name: "dcd-run", targets: ["dcd-run"]),
        .executable(name: "dcd-train", targets: ["dcd-train"]),
        .executable(name: "dcd-eval", targets: ["dcd-eval"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries, each behind one module map.
        .systemLibrary(name: "CLibPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // The runtime: Swift standard library only (no Foundation, no Glibc), so that it also
        // builds as Embedded Swift for camera firmware.
        .target(name: "DCDRuntime", exclude: ["ModelFile/FORMAT.md"], swiftSettings: cpuSettings),

        // Checkpoint readers, graph builder, model file writer.
        .target(name: "DCDCompiler", dependencies: ["DCDRuntime", "CZlib"]),

        // PNG and .npy I/O over libpng's simplified API.
        .target(name: "DCDImage", dependencies: ["CLibPNG", "DCDRuntime"]),

        // The trainer: reverse-mode differentiation of the DCD-GAN objective.
        .target(name: "DCDTrain", dependencies: ["DCDRuntime", "DCDPlatform"], swiftSettings: cpuSettings),

        // Full-reference image quality (PSNR, SSIM) as deraining papers report it.
        .target(name: "DCDMetrics"),

        // Host services for the command-line tools: files (atomic writes), directories, threads.
        .target(name: "DCDPlatform", dependencies: ["DCDRuntime"]),

        .executableTarget(name: "dcd-compile", dependencies: [
            "DCDCompiler", "DCDRuntime", "DCDImage", "DCDPlatform",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "dcd-train", dependencies: [
            "DCDTrain", "DCDCompiler", "DCDRuntime", "DCDImage", "DCDPlatform",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "dcd-eval", dependencies: [
            "DCDMetrics", "DCDImage", "DCDPlatform", "DCDRuntime",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmark of the trainer's convolution kernels on a generator's layer shapes.
        .executableTarget(name: "dcd-train-kernel-bench", dependencies: ["DCDTrain", "DCDRuntime", "DCDPlatform"],
                          path: "tools/train-kernel-bench"),
        .executableTarget(name: "dcd-run", dependencies: [
            "DCDRuntime", "DCDImage", "DCDPlatform",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "DCDTestSupport", dependencies: ["DCDPlatform", "DCDImage", "DCDRuntime"], path: "Tests/DCDTestSupport"),
        .testTarget(name: "DCDRuntimeTests", dependencies: ["DCDRuntime", "DCDTestSupport"]),
        .testTarget(name: "DCDCompilerTests", dependencies: ["DCDCompiler", "DCDRuntime", "DCDTestSupport"]),
        .testTarget(name: "DCDImageTests", dependencies: ["DCDImage", "DCDTestSupport"]),
        .testTarget(name: "DCDTrainTests", dependencies: ["DCDTrain", "DCDCompiler", "DCDImage", "DCDTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["DCDCompiler", "DCDRuntime", "DCDImage", "DCDPlatform", "DCDTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
