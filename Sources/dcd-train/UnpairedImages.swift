import DCDImage
import DCDPlatform
import DCDTrain

/// Unpaired training folders as the reference's unaligned dataset reads them: the A image of a
/// step goes through the folder in order (wrapping), the B image is drawn at random; each is
/// resized to load x load (bilinear; the reference uses PIL's bicubic), cropped at a random
/// position to crop x crop and flipped horizontally with probability 1/2, then scaled to
/// [-1, 1]. All randomness comes from the run's generator, so a seed fixes the batches.
struct UnpairedImages {
    let rainy: [String], clean: [String]
    let loadSize: Int, crop: Int

    init(rainy: String, clean: String, loadSize: Int, crop: Int) throws {
        func pngs(_ dir: String) throws -> [String] {
            let names = try Files.contents(of: dir).filter { $0.lowercased().hasSuffix(".png") }
            guard !names.isEmpty else { throw TrainingError("\(dir): no PNG files") }
            return names.map { dir + "/" + $0 }
        }
        self.rainy = try pngs(rainy)
        self.clean = try pngs(clean)
        self.loadSize = loadSize
        self.crop = crop
    }

    /// The batch of step `step` (0-based): (rainy A, clean B) as 1 x 3 x crop x crop tensors.
    func batch(step: Int, _ random: inout TrainingRandom) throws -> (Variable<Float>, Variable<Float>) {
        let a = try load(rainy[step % rainy.count], &random)
        let b = try load(clean[random.below(clean.count)], &random)
        return (a, b)
    }

    /// The supervised baseline's batch: rainy image `step` (in order) and its namesake in the
    /// clean folder, both with the same crop and flip.
    func pairedBatch(step: Int, _ random: inout TrainingRandom) throws -> (Variable<Float>, Variable<Float>) {
        let path = rainy[step % rainy.count]
        let name = path.split(separator: "/").last.map(String.init) ?? path
        guard let partner = clean.first(where: { $0.hasSuffix("/" + name) }) else {
            throw TrainingError("\(path): no image of the same name in the clean folder (--supervised needs paired folders)")
        }
        let state = random
        let a = try load(path, &random)
        var same = state
        let b = try load(partner, &same)
        return (a, b)
    }

    func load(_ path: String, _ random: inout TrainingRandom) throws -> Variable<Float> {
        let image: Image
        do { image = try PNGCodec.decode(try Files.read(path)) } catch { throw TrainingError("\(path): \(error)") }
        let scale = Float(image.maxValue)
        let top = random.below(loadSize - crop + 1), left = random.below(loadSize - crop + 1)
        let flip = random.uniform() < 0.5
        var values = [Float](repeating: 0, count: 3 * crop * crop)
        // Bilinear sample of the image at the centre of each resized pixel (align_corners false).
        let sy = Float(image.height) / Float(loadSize), sx = Float(image.width) / Float(loadSize)
        for y in 0..<crop {
            let fy = max(0, (Float(top + y) + 0.5) * sy - 0.5)
            let y0 = min(Int(fy), image.height - 1), y1 = min(y0 + 1, image.height - 1), wy = fy - Float(y0)
            for x in 0..<crop {
                let rx = flip ? crop - 1 - x : x
                let fx = max(0, (Float(left + rx) + 0.5) * sx - 0.5)
                let x0 = min(Int(fx), image.width - 1), x1 = min(x0 + 1, image.width - 1), wx = fx - Float(x0)
                for c in 0..<3 {
                    func at(_ yy: Int, _ xx: Int) -> Float { Float(image.rgb[(yy * image.width + xx) * 3 + c]) / scale }
                    let v = (at(y0, x0) * (1 - wx) + at(y0, x1) * wx) * (1 - wy) + (at(y1, x0) * (1 - wx) + at(y1, x1) * wx) * wy
                    values[(c * crop + y) * crop + x] = v * 2 - 1
                }
            }
        }
        return Variable(shape: [1, 3, crop, crop], values: values)
    }
}
