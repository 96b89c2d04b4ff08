#if canImport(Glibc)
import Glibc
#endif
import DCDPlatform
import DCDRuntime

/// Progress of a folder run on standard error: on a terminal one bar redrawn in place (images
/// done, images per second, time left), failures as lines above it; otherwise (a log, a pipe)
/// one plain line per image.
struct Progress {
    let total: Int
    let interactive: Bool
    private(set) var derained = 0, skipped = 0, failed = 0
    private let start = ProcessClock.seconds()
    private var computeSeconds = 0.0

    init(total: Int) {
        self.total = total
        interactive = isatty(2) != 0
    }

    var finished: Int { derained + skipped + failed }

    enum Outcome { case derained(seconds: Double), skipped, failed(String) }

    mutating func record(_ name: String, _ outcome: Outcome) {
        switch outcome {
        case .derained(let seconds): derained += 1; computeSeconds += seconds
        case .skipped: skipped += 1
        case .failed: failed += 1
        }
        let counter = "[\(finished)/\(total)]"
        if interactive {
            if case .failed(let message) = outcome { Files.writeStandardError("\r\u{1B}[K\(message)\n") }
            let width = 24, filled = total == 0 ? width : width * finished / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            Files.writeStandardError("\r\u{1B}[K[\(bar)] \(finished)/\(total)  \(rateText)  ETA \(etaText)  \(name)")
            if finished == total { Files.writeStandardError("\n") }
        } else {
            switch outcome {
            case .derained(let seconds): Files.writeStandardError("\(counter) \(name): derained in \(fixed(seconds, 2)) s\n")
            case .skipped: Files.writeStandardError("\(counter) \(name): skipped (output newer than input; --force redoes it)\n")
            case .failed(let message): Files.writeStandardError("\(counter) \(message)\n")
            }
        }
    }

    /// Images per second over the images actually derained.
    private var rate: Double { computeSeconds > 0 ? Double(derained) / computeSeconds : 0 }
    private var rateText: String { "\(fixed(rate, 2)) images/s" }
    private var etaText: String {
        guard rate > 0 else { return "--:--" }
        let left = Int((Double(total - finished) / rate).rounded(.up))
        return "\(left / 60):" + (left % 60 < 10 ? "0" : "") + "\(left % 60)"
    }

    var summary: String {
        let elapsed = ProcessClock.seconds() - start
        return "\(total) image\(total == 1 ? "" : "s"): \(derained) derained, \(skipped) skipped (up to date), \(failed) failed; \(fixed(elapsed, 1)) s, \(rateText)\n"
    }
}
