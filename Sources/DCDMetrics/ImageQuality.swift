#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Full-reference image quality as deraining papers report it, with scikit-image's definitions
/// (`skimage.metrics`, the values dcd-eval is tested against):
///
/// - Y: the luma of ITU-R BT.601 as MATLAB's and skimage's rgb2ycbcr compute it,
///   Y = 16 + 65.481 R + 128.553 G + 24.966 B for R, G, B in [0, 1] (so Y is in [16, 235]).
/// - PSNR = 10 log10(255^2 / MSE), data range 255, over all samples (RGB: all three channels).
/// - SSIM as Wang et al. (2004): Gaussian weights, sigma 1.5, radius 5 (11 x 11), population
///   covariances, K1 = 0.01, K2 = 0.03, L = 255; local statistics filtered with mirror-reflected
///   borders (scipy's "reflect") and the mean taken over the pixels at least 5 from every edge
///   (skimage's `gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255`).
///   RGB: the mean of the three channels' SSIM.
public struct ImageQuality: Equatable, Sendable {
    public var psnrY, ssimY, psnrRGB, ssimRGB: Double

    public init(psnrY: Double, ssimY: Double, psnrRGB: Double, ssimRGB: Double) {
        self.psnrY = psnrY
        self.ssimY = ssimY
        self.psnrRGB = psnrRGB
        self.ssimRGB = ssimRGB
    }

    /// Interleaved RGB samples on the 0...255 scale (8-bit values, or 16-bit ones divided by 257).
    public init(reference: [Double], test: [Double], width: Int, height: Int) {
        precondition(reference.count == width * height * 3 && test.count == reference.count, "RGB images of \(width) x \(height)")
        let (yr, yt) = (Self.luma(reference), Self.luma(test))
        psnrY = Self.psnr(yr, yt)
        ssimY = Self.ssim(yr, yt, width: width, height: height)
        psnrRGB = Self.psnr(reference, test)
        var s = 0.0
        for c in 0..<3 {
            let channel = { (x: [Double]) in stride(from: c, to: x.count, by: 3).map { x[$0] } }
            s += Self.ssim(channel(reference), channel(test), width: width, height: height)
        }
        ssimRGB = s / 3
    }

    /// BT.601 luma of interleaved RGB on the 0...255 scale.
    public static func luma(_ rgb: [Double]) -> [Double] {
        (0..<(rgb.count / 3)).map { i -> Double in
            let r: Double = 65.481 * rgb[3 * i], g: Double = 128.553 * rgb[3 * i + 1], b: Double = 24.966 * rgb[3 * i + 2]
            return 16 + (r + g + b) / 255
        }
    }

    /// Peak signal-to-noise ratio in dB for data range 255 (infinite for identical inputs).
    public static func psnr(_ a: [Double], _ b: [Double]) -> Double {
        var sum = 0.0
        for i in 0..<a.count { let d = a[i] - b[i]; sum += d * d }
        return 10 * log10(255 * 255 / (sum / Double(a.count)))
    }

    /// Mean structural similarity of two planes (data range 255).
    public static func ssim(_ x: [Double], _ y: [Double], width: Int, height: Int) -> Double {
        let radius = 5
        precondition(width > 2 * radius && height > 2 * radius, "SSIM needs images larger than 11 x 11")
        let filter = GaussianFilter(sigma: 1.5, radius: radius)
        let ux = filter.apply(x, width, height), uy = filter.apply(y, width, height)
        let uxx = filter.apply(zip(x, x).map { $0 * $1 }, width, height)
        let uyy = filter.apply(zip(y, y).map { $0 * $1 }, width, height)
        let uxy = filter.apply(zip(x, y).map { $0 * $1 }, width, height)
        let c1 = (0.01 * 255.0) * (0.01 * 255.0), c2 = (0.03 * 255.0) * (0.03 * 255.0)
        var total = 0.0
        for row in radius..<(height - radius) {
            for column in radius..<(width - radius) {
                let i = row * width + column
                let vx = uxx[i] - ux[i] * ux[i], vy = uyy[i] - uy[i] * uy[i], vxy = uxy[i] - ux[i] * uy[i]
                let numerator = (2 * ux[i] * uy[i] + c1) * (2 * vxy + c2)
                let denominator = (ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2)
                total += numerator / denominator
            }
        }
        return total / Double((height - 2 * radius) * (width - 2 * radius))
    }
}

/// A separable Gaussian (scipy.ndimage.gaussian_filter: taps exp(-x^2 / 2 sigma^2) for
/// |x| <= radius, normalised) with mirror-reflected borders (d c b a | a b c d | d c b a).
struct GaussianFilter {
    let taps: [Double]
    let radius: Int

    init(sigma: Double, radius: Int) {
        let raw = (-radius...radius).map { x in exp(-0.5 * Double(x * x) / (sigma * sigma)) }
        let sum = raw.reduce(0, +)
        taps = raw.map { $0 / sum }
        self.radius = radius
    }

    /// The index a reflected read at i lands on in 0..<n.
    static func reflect(_ i: Int, _ n: Int) -> Int {
        var i = i
        let period = 2 * n
        i %= period
        if i < 0 { i += period }
        return i < n ? i : period - 1 - i
    }

    func apply(_ x: [Double], _ width: Int, _ height: Int) -> [Double] {
        var rows = [Double](repeating: 0, count: x.count)
        // Two 1-D correlations, along rows then down columns (the order changes only rounding).
        for r in 0..<height {
            for c in 0..<width {
                var s = 0.0
                for (k, t) in taps.enumerated() { s += t * x[r * width + Self.reflect(c + k - radius, width)] }
                rows[r * width + c] = s
            }
        }
        var out = [Double](repeating: 0, count: x.count)
        for r in 0..<height {
            for c in 0..<width {
                var s = 0.0
                for (k, t) in taps.enumerated() { s += t * rows[Self.reflect(r + k - radius, height) * width + c] }
                out[r * width + c] = s
            }
        }
        return out
    }
}
