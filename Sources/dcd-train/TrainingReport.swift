import DCDImage
import DCDPlatform
import DCDRuntime
import DCDTrain

/// What a run shows a user: sample grids (real A | fake B | real B | fake A, one row per
/// sample) as PNGs under `<out>/samples/`, the loss history as `<out>/losses.tsv`, and
/// `<out>/index.html` with the loss curves as inline SVG and the grids, as the reference
/// code's web/ page. Everything is rewritten atomically at each sample step.
struct TrainingReport {
    let out: String
    static let series = ["D_A", "D_B", "G_A", "G_B", "NCE1", "NCE2", "idt_A", "idt_B", "cycle", "L1"]
    /// Columns of losses.tsv files written before `cycle` and `L1` were recorded (read as 0).
    static let earlierSeriesCount = 8
    /// What the columns of a sample grid show.
    var gridCaption = "real A (rainy) | fake B (derained) | real B (clean) | fake A"
    /// Per step (1-based step, values in `series` order).
    var history: [(step: Int, values: [Double])] = []
    var samples: [Int] = []

    init(out: String, resumingAt step: Int?) {
        self.out = out
        guard let step, let text = try? Files.read(out + "/losses.tsv") else { return }
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n").dropFirst() {
            let fields = line.split(separator: "\t").compactMap { Double($0) }
            guard fields.count == Self.series.count + 1 || fields.count == Self.earlierSeriesCount + 1, Int(fields[0]) <= step else { continue }
            let values = Array(fields.dropFirst())
            history.append((Int(fields[0]), values + [Double](repeating: 0, count: Self.series.count - values.count)))
        }
        samples = ((try? Files.contents(of: out + "/samples")) ?? []).compactMap { name in
            guard name.hasPrefix("step_"), name.hasSuffix(".png"), let n = Int(name.dropFirst(5).dropLast(4)), n <= step else { return nil }
            return n
        }.sorted()
    }

    mutating func record(step: Int, _ l: StepLosses) {
        history.append((step, [l.discriminatorA, l.discriminatorB, l.ganA, l.ganB, l.nce1, l.nce2, l.identityA, l.identityB, l.cycle, l.supervised]))
    }

    /// Writes the grid of this step's images and the report.
    mutating func sample(step: Int, images: [Variable<Float>]) throws {
        let side = images[0].shape[2], width = side * images.count
        var rgb = [UInt16](repeating: 0, count: side * width * 3)
        for (i, image) in images.enumerated() {
            for y in 0..<side {
                for x in 0..<side {
                    for c in 0..<3 {
                        let v = (image.values[(c * side + y) * side + x] + 1) / 2 * 255
                        rgb[(y * width + i * side + x) * 3 + c] = UInt16(max(0, min(255, (v + 0.5).rounded(.down))))
                    }
                }
            }
        }
        try Files.makeDirectory(out + "/samples")
        try Files.writeAtomically(try PNGCodec.encode(Image(width: width, height: side, bitDepth: 8, colorType: .rgb, rgb: rgb)),
                                  to: out + "/samples/" + Self.sampleName(step))
        samples.append(step)
        try write()
    }

    static func sampleName(_ step: Int) -> String { SavedRun.snapshotName(step) + ".png" }

    func write() throws {
        var tsv = "step\t" + Self.series.joined(separator: "\t") + "\n"
        for (step, values) in history { tsv += "\(step)\t" + values.map { "\($0)" }.joined(separator: "\t") + "\n" }
        try Files.writeAtomically(Array(tsv.utf8), to: out + "/losses.tsv")
        try Files.writeAtomically(Array(html().utf8), to: out + "/index.html")
    }

    /// The page: one SVG chart per loss pair, then the sample grids, newest first.
    func html() -> String {
        let colors = ["#1f77b4", "#d62728"]
        var page = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>dcd-train \(out)</title></head><body>\n"
        page += "<h1>dcd-train: \(out)</h1><p>\(history.last.map { "step \($0.step)" } ?? "no steps yet"); columns of each grid: \(gridCaption)</p>\n"
        for pair in stride(from: 0, to: Self.series.count, by: 2) {
            let w = 480.0, h = 160.0
            let all = history.flatMap { [$0.values[pair], $0.values[pair + 1]] }
            let lo = all.min() ?? 0, hi = max(all.max() ?? 1, lo + 1e-9)
            let last = Double(history.last?.step ?? 1), first = Double(history.first?.step ?? 0)
            page += "<h3>\(Self.series[pair]) (blue), \(Self.series[pair + 1]) (red): \(fixed(lo, 2))...\(fixed(hi, 2))</h3>\n"
            page += "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" style=\"border:1px solid #ccc\">"
            for k in 0..<2 {
                let points = history.map { e -> String in
                    let x = last > first ? (Double(e.step) - first) / (last - first) * (w - 10) + 5 : w / 2
                    let y = h - 5 - (e.values[pair + k] - lo) / (hi - lo) * (h - 10)
                    return "\(fixed(x, 2)),\(fixed(y, 2))"
                }
                page += "<polyline fill=\"none\" stroke=\"\(colors[k])\" points=\"\(points.joined(separator: " "))\"/>"
            }
            page += "</svg>\n"
        }
        for step in samples.reversed() { page += "<h3>step \(step)</h3><img src=\"samples/\(Self.sampleName(step))\">\n" }
        return page + "</body></html>\n"
    }
}
