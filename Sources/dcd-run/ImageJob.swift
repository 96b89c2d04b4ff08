import DCDImage
import DCDPlatform
import DCDRuntime

/// How every mode runs one image through the model: precision, threads, memory budget.
struct Deraining {
    var model: LoadedModel
    var parallel: ParallelRunner
    var budget: MemoryBudget?
    var statistics: TileStatisticsOption
    /// --color-anchor, --anchor-fit: give the output the input's brightness, contrast and colour
    /// cast by this anchor (nil: not).
    var colorAnchor: ColorAnchor.Fit?

    /// The derained image (same size, bit depth, colour type and alpha) and its colour in pixel
    /// units (CHW, 0...255, unclamped for float models) for .npy outputs. `name` is the file
    /// the image came from, for messages.
    func derain(_ image: Image, name: String) throws(RunFailure) -> (image: Image, pixels: [Float]) {
        do {
            switch model {
            case .float(let executor):
                if let budget {
                    let needed = try executor.workingBytes(height: image.height, width: image.width)
                    guard needed <= budget.bytes else {
                        throw RunFailure(.inputUnsupported, "\(name): a float model needs \(needed) bytes of working memory for this \(image.width)x\(image.height) image, over the --max-memory budget of \(budget.bytes) (float models run untiled; int8 models tile)")
                    }
                }
                let out = try executor.derain(pixels: image.pixelTensor(), parallel: parallel)
                if let colorAnchor { return anchored(out.storage, to: image, colorAnchor) }
                return (image.replacingColor(withPixels: out), out.storage)
            case .int8(let executor):
                let (out, _) = try LoadedModel.derainInt8(executor, image.byteTensor(), budget: budget, statistics: statistics, parallel: parallel)
                return finished(out, image)
            }
        } catch let failure as RunFailure {
            throw failure
        } catch let error as RuntimeError {
            throw RunFailure(error.kind == .unsupportedInput ? .inputUnsupported : .modelInvalid, "\(name): \(error)")
        } catch {
            throw RunFailure(.inputUnsupported, "\(name): \(error)")
        }
    }
}

extension Deraining {
    /// An int8 model's output as the image (anchored with --color-anchor) and its pixels.
    func finished(_ out: ByteTensor, _ image: Image) -> (image: Image, pixels: [Float]) {
        let pixels = out.storage.map { Float($0) }
        if let colorAnchor { return anchored(pixels, to: image, colorAnchor) }
        return (image.replacingColor(withBytes: out), pixels)
    }

    /// `output` (CHW pixel units) mapped by the ColorAnchor of `model` fitted to `image`, then
    /// rounded and clamped into the image as any float output is.
    func anchored(_ output: [Float], to image: Image, _ model: ColorAnchor.Fit) -> (image: Image, pixels: [Float]) {
        let input = image.pixelTensor().storage
        let anchor = input.withUnsafeBufferPointer { i in
            output.withUnsafeBufferPointer { ColorAnchor.fit(output: $0, input: i, width: image.width, height: image.height, model) }
        }
        let plane = image.width * image.height
        var pixels = FloatTensor(channels: 3, height: image.height, width: image.width)
        for p in 0..<plane {
            let v = anchor.apply(SIMD3(Double(output[p]), Double(output[plane + p]), Double(output[2 * plane + p])))
            pixels.storage[p] = Float(v.x); pixels.storage[plane + p] = Float(v.y); pixels.storage[2 * plane + p] = Float(v.z)
        }
        return (image.replacingColor(withPixels: pixels), pixels.storage)
    }
}

/// Reading a PNG input and writing an output, with the statuses of their failures.
enum ImageFiles {
    static func read(_ path: String) throws(RunFailure) -> Image {
        do {
            return try PNGCodec.decode(try Files.read(path))
        } catch let e as Files.Failure {
            throw RunFailure(.inputUnreadable, "\(e)")
        } catch {
            throw RunFailure(.inputUnreadable, "\(path): \(error)")
        }
    }

    /// Writes the result atomically: a PNG like the input (or input | output side by side), or
    /// .npy float32 (y + 1) / 2, HxWx3, unclamped (int8 models: their bytes / 255).
    static func write(_ result: Image, pixels: [Float], input: Image, to path: String, sideBySide: Bool) throws(RunFailure) {
        let bytes: [UInt8]
        if path.hasSuffix(".npy") {
            let plane = result.height * result.width
            var hwc = [Float](repeating: 0, count: plane * 3)
            for p in 0..<plane { for c in 0..<3 { hwc[p * 3 + c] = pixels[c * plane + p] / 255 } }
            bytes = NPY.encode(float32: hwc, shape: [result.height, result.width, 3])
        } else {
            do { bytes = try PNGCodec.encode(sideBySide ? input.besideHorizontally(result) : result) } catch {
                throw RunFailure(.outputFailed, "\(path): \(error)")
            }
        }
        do { try Files.writeAtomically(bytes, to: path) } catch { throw RunFailure(.outputFailed, "\(error)") }
    }
}

extension Image {
    /// This image and `other` (same height and format) next to each other: self on the left.
    func besideHorizontally(_ other: Image) -> Image {
        precondition(other.height == height && other.bitDepth == bitDepth && other.colorType == colorType, "images differ in height or format")
        let w = width + other.width
        var rgb = [UInt16](repeating: 0, count: w * height * 3)
        var alpha = [UInt16](repeating: 0, count: colorType.hasAlpha ? w * height : 0)
        for y in 0..<height {
            for x in 0..<w {
                let (source, sx) = x < width ? (self, x) : (other, x - width)
                for c in 0..<3 { rgb[(y * w + x) * 3 + c] = source.rgb[(y * source.width + sx) * 3 + c] }
                if colorType.hasAlpha { alpha[y * w + x] = source.alpha[y * source.width + sx] }
            }
        }
        return Image(width: w, height: height, bitDepth: bitDepth, colorType: colorType, rgb: rgb, alpha: alpha)
    }
}
