import DCDImage
import DCDPlatform

/// `dcd-run in_dir/ -o out_dir/ [-r] [--force]`: every PNG of a folder (and of its sub-folders
/// with -r), written under the same relative name in the output folder. An output newer than
/// its input is kept unless --force. A failing image is reported and the run goes on; the exit
/// status says whether all succeeded (0), some failed (7), or every one failed (that failure's).
struct FolderRun {
    var input: String
    var output: String
    var recursive: Bool
    var force: Bool
    var sideBySide: Bool
    var deraining: Deraining

    /// Relative paths of the PNG files to do, sorted; the output folder is never entered.
    func jobs() throws(RunFailure) -> [String] {
        var found: [String] = []
        func walk(_ relative: String) throws(RunFailure) {
            let directory = relative.isEmpty ? input : input + "/" + relative
            let names: [String]
            do { names = try Files.contents(of: directory) } catch { throw RunFailure(.inputUnreadable, "\(error)") }
            for name in names where !name.hasPrefix(".") {
                let path = relative.isEmpty ? name : relative + "/" + name
                if Files.isDirectory(input + "/" + path) {
                    if recursive && !Self.sameDirectory(input + "/" + path, output) { try walk(path) }
                } else if name.lowercased().hasSuffix(".png") {
                    found.append(path)
                }
            }
        }
        try walk("")
        return found
    }

    static func sameDirectory(_ a: String, _ b: String) -> Bool {
        func normal(_ p: String) -> String { p.split(separator: "/").filter { $0 != "." }.joined(separator: "/") }
        return normal(a) == normal(b)
    }

    func run() throws(RunFailure) -> ExitStatus {
        let list = try jobs()
        guard !list.isEmpty else {
            throw RunFailure(.inputUnreadable, "\(input): no PNG files" + (recursive ? "" : " (sub-folders are searched with -r)"))
        }
        var progress = Progress(total: list.count)
        var firstFailure: RunFailure?
        for relative in list {
            let source = input + "/" + relative, target = output + "/" + relative
            if !force, let written = Files.modificationTime(target), let read = Files.modificationTime(source), written >= read {
                progress.record(relative, .skipped)
                continue
            }
            let started = ProcessClock.seconds()
            do throws(RunFailure) {
                let image = try ImageFiles.read(source)
                let (result, pixels) = try deraining.derain(image, name: source)
                if let slash = target.lastIndex(of: "/") {
                    do { try Files.makeDirectory(String(target[..<slash])) } catch { throw RunFailure(.outputFailed, "\(error)") }
                }
                try ImageFiles.write(result, pixels: pixels, input: image, to: target, sideBySide: sideBySide)
                progress.record(relative, .derained(seconds: ProcessClock.seconds() - started))
            } catch {
                firstFailure = firstFailure ?? error
                progress.record(relative, .failed("dcd-run: \(error.message)"))
            }
        }
        Files.writeStandardError(progress.summary)
        guard let firstFailure else { return .success }
        return progress.failed == list.count - progress.skipped ? firstFailure.status : .someFailed
    }
}
