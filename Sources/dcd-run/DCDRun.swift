import ArgumentParser
import DCDImage
import DCDPlatform
import DCDRuntime

/// Thin command line over the runtime: read the model and the image, run, write atomically.
@main
struct DCDRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-run",
        abstract: "Derain a PNG image with a compiled dcd model.",
        discussion: """
            The output keeps the input's size, bit depth, colour type and alpha. An output path \
            ending in .npy gets float32 values (y+1)/2, HxWx3, unclamped, for numerical checks. \
            Outputs are written to a temporary name and renamed: never half-written.
            """)

    @Option(name: .shortAndLong, help: "Compiled model file (.dcdm).")
    var model: String = DCDRun.defaultModel

    @Argument(help: "Input PNG file.")
    var input: String

    @Option(name: .shortAndLong, help: "Output file (.png, or .npy for float values).")
    var output: String

    @Option(help: "Worker threads (default: all cores).")
    var threads: Int = ThreadPool.availableCores

    static let defaultModel = "models/default.dcdm"

    func validate() throws {
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256, got \(threads)") }
        guard output.hasSuffix(".png") || output.hasSuffix(".npy") else {
            throw ValidationError("output '\(output)' must end in .png or .npy")
        }
    }

    /// A loaded model: the executor its precision needs.
    enum Model {
        case float(FloatExecutor)
        case int8(Int8ReferenceExecutor)
    }

    func run() throws {
        let model: Model
        do {
            let bytes = try Files.read(self.model)
            let program = try bytes.withUnsafeBytes { raw throws(RuntimeError) in try ModelFileReader.read(raw) }
            model = program.precision != .float32 ? .int8(try Int8ReferenceExecutor(program: program)) : .float(try FloatExecutor(program: program))
        } catch {
            throw Failure("\(self.model): \(error)")
        }
        let image: Image
        do {
            image = try PNGCodec.decode(try Files.read(input))
        } catch let e as Files.Failure {
            throw Failure("\(e)")
        } catch {
            throw Failure("\(input): \(error)")
        }
        // Output in pixel units (0...255), as float for .npy and as the image's samples for .png.
        let pixels: [Float]
        let result: Image
        do {
            switch model {
            case .float(let executor):
                let out = try executor.derain(pixels: image.pixelTensor(), parallel: ThreadPool.runner(threads: threads))
                pixels = out.storage
                result = image.replacingColor(withPixels: out)
            case .int8(let executor):
                let out = try executor.derain(pixels: image.byteTensor())
                pixels = out.storage.map { Float($0) }
                result = image.replacingColor(withBytes: out)
            }
        } catch {
            throw Failure("\(input): \(error)")
        }
        let bytes: [UInt8]
        if output.hasSuffix(".npy") {
            // HxWx3, (y + 1) / 2, not clamped (int8 models: their bytes / 255).
            let plane = image.height * image.width
            var hwc = [Float](repeating: 0, count: plane * 3)
            for p in 0..<plane { for c in 0..<3 { hwc[p * 3 + c] = pixels[c * plane + p] / 255 } }
            bytes = NPY.encode(float32: hwc, shape: [image.height, image.width, 3])
        } else {
            do { bytes = try PNGCodec.encode(result) } catch { throw Failure("\(output): \(error)") }
        }
        do { try Files.writeAtomically(bytes, to: output) } catch { throw Failure("\(error)") }
    }
}

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
