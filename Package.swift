// swift-tools-version:6.0
// dcd: checkpoint -> graph -> model file -> runtime -> command line.
import PackageDescription

let package = Package(
    name: "dcd",
    products: [
        .library(name: "DCDRuntime", targets: ["DCDRuntime"]),
        .executable(name: "dcd-compile", targets: ["dcd-compile"]),
        .executable(name: "dcd-run", targets: ["dcd-run"]),
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
        .target(name: "DCDRuntime", exclude: ["ModelFile/FORMAT.md"]),

        // Checkpoint readers, graph builder, model file writer.
        .target(name: "DCDCompiler", dependencies: ["DCDRuntime", "CZlib"]),

        // PNG and .npy I/O over libpng's simplified API.
        .target(name: "DCDImage", dependencies: ["CLibPNG", "DCDRuntime"]),

        // Host services for the command-line tools: files (atomic writes), directories, threads.
        .target(name: "DCDPlatform", dependencies: ["DCDRuntime"]),

        .executableTarget(name: "dcd-compile", dependencies: [
            "DCDCompiler", "DCDRuntime", "DCDImage", "DCDPlatform",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "dcd-run", dependencies: [
            "DCDRuntime", "DCDImage", "DCDPlatform",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .target(name: "DCDTestSupport", dependencies: ["DCDPlatform", "DCDImage", "DCDRuntime"], path: "Tests/DCDTestSupport"),
        .testTarget(name: "DCDRuntimeTests", dependencies: ["DCDRuntime", "DCDTestSupport"]),
        .testTarget(name: "DCDCompilerTests", dependencies: ["DCDCompiler", "DCDRuntime", "DCDTestSupport"]),
        .testTarget(name: "DCDImageTests", dependencies: ["DCDImage", "DCDTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["DCDCompiler", "DCDRuntime", "DCDImage", "DCDPlatform", "DCDTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
