#if canImport(Glibc)
import Glibc
#endif
import DCDImage
import DCDPlatform
import DCDRuntime

/// `dcd-run --raw WxH --pix-fmt F [IN] [-o OUT]`: headerless frames from standard input (or a
/// file) to standard output (or a file) in the same format, one derained frame per frame, so
/// that ffmpeg's rawvideo can sit on both sides. Frames per second go to standard error every
/// few seconds and at the end. A stream that ends inside a frame is an error (status 8) after
/// the whole frames before it were written; an output file is written under a temporary name
/// and renamed only when the stream ended cleanly. rgb24 and nv12 frames run in a workspace
/// prepared once (`PreparedFrames`, the C API's frame path); other streams through an image
/// per frame, as PNG files run.
///
/// Video-rate mode (`--reuse-statistics T`, int8 models): a frame whose 8x8-block mean luma
/// differs from the last key frame's by less than T levels on average (0...255 scale) is run
/// with the key frame's InstanceNorm statistics (`Int8Executor.derain(pixels:parallel:reusing:)`),
/// which skips the statistics passes and accumulates a band of rows at a time; any other frame
/// becomes the key frame.
struct RawStreamRun {
    var format: RawFrameFormat
    var input: String?
    var output: String?
    var deraining: Deraining
    var reuseThreshold: Double?

    func run() throws(RunFailure) -> ExitStatus {
        ByteStream.ignoreBrokenPipes()
        let source: ByteStream
        if let input, input != "-" {
            do { source = try ByteStream.reading(input) } catch { throw RunFailure(.inputUnreadable, "\(error)") }
        } else {
            source = ByteStream(descriptor: 0, name: "standard input")
        }
        // A regular file is written under a temporary name and renamed at the end; standard
        // output, a device or a FIFO is written as frames are done.
        let toFile = output != nil && output != "-" && !Files.isSpecialFile(output!)
        let temporary = toFile ? "\(output!).tmp-\(getpid())" : ""
        let sink: ByteStream
        if toFile {
            do { sink = try ByteStream.writing(temporary) } catch { throw RunFailure(.outputFailed, "\(output!): cannot create \(temporary): \(error.reason)") }
        } else if let output, output != "-" {
            do { sink = try ByteStream.writing(output) } catch { throw RunFailure(.outputFailed, "\(error)") }
        } else {
            sink = ByteStream(descriptor: 1, name: "standard output")
        }
        do throws(RunFailure) {
            let frames = try stream(from: source, to: sink)
            if toFile {
                do {
                    try sink.close(sync: true)
                    try ByteStream.rename(temporary, to: output!)
                } catch { throw RunFailure(.outputFailed, "\(error)") }
            }
            _ = frames
            return .success
        } catch {
            if toFile {
                try? sink.close(sync: false)
                ByteStream.remove(temporary)
                throw RunFailure(error.status, error.message + "; \(output!) was not written")
            }
            throw error
        }
    }

    /// Frames until the stream ends; returns how many.
    private func stream(from source: ByteStream, to sink: ByteStream) throws(RunFailure) -> Int {
        let frameBytes = format.frameBytes
        var frame = [UInt8](repeating: 0, count: frameBytes)
        var count = 0
        var videoRate = VideoRate()
        let start = ProcessClock.seconds()
        var lastReport = start
        let described = "\(format.width)x\(format.height) \(format.pixelFormat.rawValue)"
        // Without --reuse-statistics, rgb24 and nv12 frames run in a workspace prepared once
        // (`PreparedFrames`): nothing is allocated per frame. A stream it cannot serve (yuv420p,
        // the reference executors, over --max-memory, a size the model rejects) takes the image
        // path, which also names the frame in any error.
        let prepared = reuseThreshold == nil ? try? PreparedFrames(format, deraining) : nil
        var derained = [UInt8](repeating: 0, count: prepared == nil ? 0 : frameBytes)
        while true {
            let got: Int
            // (Typed-throws closures through withUnsafe*Bytes crash this compiler's IRGen.)
            var readFailure: Files.Failure?
            got = frame.withUnsafeMutableBytes { b in
                do throws(Files.Failure) { return try source.read(into: b) } catch { readFailure = error; return 0 }
            }
            if let readFailure { throw RunFailure(.streamTruncated, "\(readFailure)") }
            if got == 0 { break }
            guard got == frameBytes else {
                throw RunFailure(.streamTruncated, "\(source.name): the stream ended inside frame \(count + 1): \(got) of its \(frameBytes) bytes (\(described)); the \(count) whole frames before it were derained")
            }
            if let prepared {
                var failure: RuntimeError?
                frame.withUnsafeBufferPointer { i in
                    derained.withUnsafeMutableBufferPointer { o in
                        do throws(RuntimeError) { try prepared.derain(i.baseAddress!, into: o.baseAddress!) } catch { failure = error }
                    }
                }
                if let failure {
                    throw RunFailure(failure.kind == .unsupportedInput ? .inputUnsupported : .modelInvalid, "\(source.name) frame \(count + 1): \(failure)")
                }
                try Self.write(derained, to: sink)
            } else {
                try Self.write(derainedByImage(frame, name: "\(source.name) frame \(count + 1)", &videoRate), to: sink)
            }
            count += 1
            let now = ProcessClock.seconds()
            if now - lastReport >= 5 {
                Files.writeStandardError("dcd-run: frame \(count), \(fixed(Double(count) / (now - start), 2)) fps\n")
                lastReport = now
            }
        }
        let seconds = ProcessClock.seconds() - start
        var summary = "dcd-run: \(count) frame\(count == 1 ? "" : "s") of \(described) in \(fixed(seconds, 2)) s, \(fixed(seconds > 0 ? Double(count) / seconds : 0, 2)) fps"
        if reuseThreshold != nil {
            func ms(_ seconds: Double, _ n: Int) -> String { n == 0 ? "-" : fixed(seconds * 1000 / Double(n), 1) }
            let v = videoRate
            summary += "; InstanceNorm statistics reused on \(v.reused) of \(count) frames (network \(ms(v.ownSeconds, count - v.reused)) ms per key frame, \(ms(v.reusedSeconds, v.reused)) ms per reusing frame)"
        }
        Files.writeStandardError(summary + "\n")
        return count
    }

    private static func write(_ bytes: [UInt8], to sink: ByteStream) throws(RunFailure) {
        var writeFailure: Files.Failure?
        bytes.withUnsafeBytes { b in
            do throws(Files.Failure) { try sink.write(b) } catch { writeFailure = error }
        }
        if let writeFailure { throw RunFailure(sink.descriptor == 1 ? .streamTruncated : .outputFailed, "\(writeFailure)") }
    }

    /// Video-rate mode's state between frames: the key frame, and the frames that reused its
    /// statistics with the seconds inside the network for key frames and reusing ones.
    struct VideoRate {
        var key: (statistics: Int8Executor.FrameStatistics, thumbnail: [Float])?
        var reused = 0
        var ownSeconds = 0.0, reusedSeconds = 0.0
    }

    /// One frame through an image (decoded, derained by `Deraining`, encoded), with video-rate
    /// statistics reuse when asked for.
    private func derainedByImage(_ frame: [UInt8], name: String, _ videoRate: inout VideoRate) throws(RunFailure) -> [UInt8] {
        let image = frame.withUnsafeBufferPointer { format.decode($0) }
        let result: Image
        if let reuseThreshold, case .int8(let executor) = deraining.model {
            let thumbnail = Self.lumaThumbnail(image)
            let similar = videoRate.key.map { Self.meanAbsoluteDifference($0.thumbnail, thumbnail) < reuseThreshold } ?? false
            do {
                let pixels = image.byteTensor()
                let started = ProcessClock.seconds()
                let (out, statistics) = try executor.derain(pixels: pixels, parallel: deraining.parallel,
                                                            reusing: similar ? videoRate.key?.statistics : nil)
                let seconds = ProcessClock.seconds() - started
                if similar {
                    videoRate.reusedSeconds += seconds
                    videoRate.reused += 1
                } else {
                    videoRate.ownSeconds += seconds
                    if let statistics { videoRate.key = (statistics, thumbnail) }
                }
                result = deraining.finished(out, image).image
            } catch {
                throw RunFailure(error.kind == .unsupportedInput ? .inputUnsupported : .modelInvalid, "\(name): \(error)")
            }
        } else {
            result = try deraining.derain(image, name: name).image
        }
        var encoded: [UInt8] = []
        format.encode(result, into: &encoded)
        return encoded
    }

    /// Mean BT.601 luma of each 8x8 block (partial blocks at the edges included), 0...255.
    static func lumaThumbnail(_ image: Image) -> [Float] {
        let bw = (image.width + 7) / 8, bh = (image.height + 7) / 8
        var sums = [Float](repeating: 0, count: bw * bh), counts = [Float](repeating: 0, count: bw * bh)
        for y in 0..<image.height {
            for x in 0..<image.width {
                let p = (y * image.width + x) * 3
                let luma = 0.299 * Float(image.rgb[p]) + 0.587 * Float(image.rgb[p + 1]) + 0.114 * Float(image.rgb[p + 2])
                sums[(y / 8) * bw + x / 8] += luma
                counts[(y / 8) * bw + x / 8] += 1
            }
        }
        return zip(sums, counts).map { $0 / $1 }
    }

    static func meanAbsoluteDifference(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return .infinity }
        var total = 0.0
        for i in 0..<a.count { total += Double(abs(a[i] - b[i])) }
        return total / Double(a.count)
    }
}
