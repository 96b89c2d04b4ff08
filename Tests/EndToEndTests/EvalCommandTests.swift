import Testing
import DCDPlatform
import DCDTestSupport

/// dcd-eval against scikit-image on committed fixtures (tools/make_eval_fixtures.py): PSNR within
/// 0.01 dB and SSIM within 1e-4, on Y and RGB, per image and for the mean; and its failures.
///
/// Tolerances: the issue's. Both sides compute in double precision with the same definitions and
/// agree to every digit dcd-eval prints (4 decimals of dB, 6 of SSIM); the bounds are what a user
/// comparing tables would notice.
struct EvalCommandTests {
    /// "key": number pairs per entry of a JSON object list, keyed by the entry's "name" (dcd-eval's
    /// output) or by the enclosing object's key (expected.json).
    static func values(_ json: String) -> [String: [String: Double]] {
        var out: [String: [String: Double]] = [:]
        var current = ""
        for var line in json.split(separator: "\n") {
            if line.contains("\"mean\""), let brace = line.firstIndex(of: "{") {
                current = "mean"
                line = line[line.index(after: brace)...]
            }
            for field in line.split(separator: ",") {
                let parts = field.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: " {}[]\"") }
                guard parts.count == 2 else { continue }
                if parts[0] == "name" || parts[1].isEmpty { current = parts[0] == "name" ? parts[1] : parts[0]; continue }
                if let v = Double(parts[1]) { out[current, default: [:]][parts[0]] = v }
            }
        }
        return out
    }

    @Test func matchesScikitImage() throws {
        let dir = Fixtures.path("eval")
        let r = TestProcess.run("dcd-eval", [dir + "/reference", dir + "/test", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let got = Self.values(r.stdout)
        let expected = Self.values(String(decoding: try Files.read(dir + "/expected.json"), as: UTF8.self))
        #expect(expected.count == 3)
        var sums: [String: Double] = [:]
        for (name, metrics) in expected {
            for key in ["psnr_y", "ssim_y", "psnr_rgb", "ssim_rgb"] {
                let e = metrics[key]!, g = got[name]?[key] ?? .nan
                #expect(abs(g - e) <= (key.hasPrefix("psnr") ? 0.01 : 1e-4), "\(name) \(key): dcd-eval \(g), scikit-image \(e)")
                sums[key, default: 0] += e
            }
        }
        for (key, sum) in sums {
            let g = got["mean"]?[key] ?? .nan
            #expect(abs(g - sum / 3) <= (key.hasPrefix("psnr") ? 0.01 : 1e-4), "mean \(key): \(g) vs \(sum / 3)")
        }
        // Two files give the same numbers as their pair in the folders.
        let one = TestProcess.run("dcd-eval", [dir + "/reference/noisy_40x32.png", dir + "/test/noisy_40x32.png", "--json"])
        #expect(one.status == 0 && abs((Self.values(one.stdout)["noisy_40x32.png"]?["psnr_y"] ?? 0) - expected["noisy_40x32.png"]!["psnr_y"]!) <= 0.01)
    }

    @Test func identicalImagesHaveInfinitePSNR() {
        let file = Fixtures.path("eval/reference/noisy_40x32.png")
        let r = TestProcess.run("dcd-eval", [file, file, "--json"])
        #expect(r.status == 0 && r.stdout.contains("\"psnr_y\": null") && r.stdout.contains("\"ssim_y\": 1.000000"), "\(r.stdout)")
    }

    @Test func failuresNameTheFile() throws {
        let dir = TestProcess.temporaryDirectory()
        let eval = Fixtures.path("eval")
        // A folder without the reference's namesake.
        try Files.makeDirectory(dir + "/partial")
        try Files.writeAtomically(try Files.read(eval + "/test/noisy_40x32.png"), to: dir + "/partial/noisy_40x32.png")
        var r = TestProcess.run("dcd-eval", [eval + "/reference", dir + "/partial"])
        #expect(r.status == 5 && r.stderr.contains(dir + "/partial/dark_shift_16x48.png: missing"), "\(r.stderr)")
        // Sizes differ.
        r = TestProcess.run("dcd-eval", [eval + "/reference/noisy_40x32.png", eval + "/test/streaks_33x29.png"])
        #expect(r.status == 5 && r.stderr.contains("streaks_33x29.png: 33x29"), "\(r.stderr)")
        // Not a PNG; a missing path; a file against a folder.
        try Files.writeAtomically(Array("not a png".utf8), to: dir + "/bad.png")
        r = TestProcess.run("dcd-eval", [dir + "/bad.png", eval + "/test/noisy_40x32.png"])
        #expect(r.status == 4 && r.stderr.contains(dir + "/bad.png"), "\(r.stderr)")
        r = TestProcess.run("dcd-eval", [dir + "/none.png", eval + "/test/noisy_40x32.png"])
        #expect(r.status == 4 && r.stderr.contains("none.png: no such file"), "\(r.stderr)")
        r = TestProcess.run("dcd-eval", [eval + "/reference", eval + "/test/noisy_40x32.png"])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = self
        while let c = s.first, set.contains(c) { s.removeFirst() }
        while let c = s.last, set.contains(c) { s.removeLast() }
        return String(s)
    }
}
