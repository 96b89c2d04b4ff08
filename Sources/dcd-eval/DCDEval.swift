import ArgumentParser
import DCDImage
import DCDMetrics
import DCDPlatform
import DCDRuntime

/// dcd-eval: PSNR and SSIM of derained images against their clean references, as deraining
/// papers report them (Y channel) and on RGB.
@main
struct DCDEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-eval",
        abstract: "PSNR and SSIM (Y as deraining papers report them, and RGB) of test images against references.",
        discussion: """
            REFERENCE and TEST are two PNG files, or two folders whose PNGs are matched by file name \
            (every PNG of REFERENCE needs its namesake in TEST). Y is BT.601 luma as MATLAB's and \
            scikit-image's rgb2ycbcr compute it; SSIM uses Gaussian windows (sigma 1.5, 11 x 11) as \
            Wang et al. and scikit-image's structural_similarity(gaussian_weights=True, \
            use_sample_covariance=False, data_range=255). Non-finite values (PSNR of identical \
            images) are null in JSON.

            Exit status: 0 success, 4 an input is missing, unreadable or not a PNG, 5 a pair \
            differs in size or a folder lacks a matching file, 64 bad usage.
            """)

    @Argument(help: "The clean reference image or folder.") var reference: String
    @Argument(help: "The image or folder to score.") var test: String
    @Flag(help: "Print JSON (per-image entries and their mean) instead of a table.") var json = false

    struct Failure: Error, CustomStringConvertible {
        var status: Int32
        var description: String
    }

    func run() throws {
        do {
            let pairs = try Self.pairs(reference, test)
            var results: [(String, ImageQuality)] = []
            for (name, r, t) in pairs {
                results.append((name, try Self.measure(r, t)))
            }
            print(json ? Self.json(results) : Self.table(results))
        } catch let failure as Failure {
            Files.writeStandardError("dcd-eval: \(failure.description)\n")
            throw ExitCode(failure.status)
        }
    }

    /// (name, reference path, test path) for two files or two folders.
    static func pairs(_ reference: String, _ test: String) throws -> [(String, String, String)] {
        for path in [reference, test] where !Files.exists(path) { throw Failure(status: 4, description: "\(path): no such file or folder") }
        switch (Files.isDirectory(reference), Files.isDirectory(test)) {
        case (false, false):
            return [(String(reference.split(separator: "/").last ?? ""), reference, test)]
        case (true, true):
            let names: [String]
            do { names = try Files.contents(of: reference).filter { $0.lowercased().hasSuffix(".png") }.sorted() } catch {
                throw Failure(status: 4, description: "\(reference): \(error)")
            }
            guard !names.isEmpty else { throw Failure(status: 5, description: "\(reference): no PNG files") }
            return try names.map { name in
                let t = "\(test)/\(name)"
                guard Files.exists(t) else { throw Failure(status: 5, description: "\(t): missing (the reference has \(reference)/\(name))") }
                return (name, "\(reference)/\(name)", t)
            }
        default:
            throw Failure(status: 64, description: "\(reference) and \(test): give two files or two folders")
        }
    }

    /// RGB samples on the 0...255 scale.
    static func load(_ path: String) throws -> (width: Int, height: Int, rgb: [Double]) {
        let image: Image
        do { image = try PNGCodec.decode(try Files.read(path)) } catch {
            throw Failure(status: 4, description: "\(path): \(error)")
        }
        let scale = 255 / Double(image.maxValue)
        return (image.width, image.height, image.rgb.map { Double($0) * scale })
    }

    static func measure(_ referencePath: String, _ testPath: String) throws -> ImageQuality {
        let (r, t) = (try load(referencePath), try load(testPath))
        guard r.width == t.width && r.height == t.height else {
            throw Failure(status: 5, description: "\(testPath): \(t.width)x\(t.height), the reference \(referencePath) is \(r.width)x\(r.height)")
        }
        guard r.width >= 11 && r.height >= 11 else {
            throw Failure(status: 5, description: "\(referencePath): \(r.width)x\(r.height) is smaller than SSIM's 11 x 11 window")
        }
        return ImageQuality(reference: r.rgb, test: t.rgb, width: r.width, height: r.height)
    }

    static func mean(_ results: [(String, ImageQuality)]) -> ImageQuality {
        let n = Double(results.count)
        return ImageQuality(psnrY: results.map { $0.1.psnrY }.reduce(0, +) / n, ssimY: results.map { $0.1.ssimY }.reduce(0, +) / n,
                            psnrRGB: results.map { $0.1.psnrRGB }.reduce(0, +) / n, ssimRGB: results.map { $0.1.ssimRGB }.reduce(0, +) / n)
    }

    static func number(_ x: Double, _ digits: Int) -> String { x.isFinite ? fixed(x, digits) : "null" }

    static func json(_ results: [(String, ImageQuality)]) -> String {
        func entry(_ q: ImageQuality) -> String {
            "\"psnr_y\": \(number(q.psnrY, 4)), \"ssim_y\": \(number(q.ssimY, 6)), \"psnr_rgb\": \(number(q.psnrRGB, 4)), \"ssim_rgb\": \(number(q.ssimRGB, 6))"
        }
        let images = results.map { "    {\"name\": \(JSONText.quoted($0.0)), \(entry($0.1))}" }.joined(separator: ",\n")
        return "{\n  \"images\": [\n\(images)\n  ],\n  \"count\": \(results.count),\n  \"mean\": {\(entry(mean(results)))}\n}"
    }

    static func table(_ results: [(String, ImageQuality)]) -> String {
        var lines = ["image\tpsnr_y\tssim_y\tpsnr_rgb\tssim_rgb"]
        func row(_ name: String, _ q: ImageQuality) -> String {
            "\(name)\t\(number(q.psnrY, 2))\t\(number(q.ssimY, 4))\t\(number(q.psnrRGB, 2))\t\(number(q.ssimRGB, 4))"
        }
        lines += results.map { row($0.0, $0.1) }
        lines.append(row("mean (\(results.count))", mean(results)))
        return lines.joined(separator: "\n")
    }
}
