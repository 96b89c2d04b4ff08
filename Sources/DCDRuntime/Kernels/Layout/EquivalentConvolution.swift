/// The stride-1-or-strided dense convolution the kernels run for a conv2d or convTranspose2d
/// weight, and where each of its weights goes in a packed block (shared by the int8 and float
/// packers, which differ only in element type).
///
/// A transposed convolution runs as the convolution of its zero-inserted input with
/// w'(co, ci, ky, kx) = w(ci, co, K-1-ky, K-1-kx) (`InterleavedMapKernels.dilate`).
struct EquivalentConvolution {
    let outputChannels: Int
    let inputChannels: Int
    let kernel: Int
    let transposed: Bool
    /// Input channels per pixel of the interleaved input (cp, a multiple of 4).
    var inputStride: Int { InterleavedByteMap.channelStride(inputChannels) }
    var blocks: Int { (outputChannels + 15) / 16 }

    /// weight dims: (Cout, Cin, K, K) for conv2d, (Cin, Cout, K, K) for transposed.
    init(weightDims d: [Int], transposed: Bool) {
        outputChannels = transposed ? d[1] : d[0]
        inputChannels = transposed ? d[0] : d[1]
        kernel = d[2]
        self.transposed = transposed
    }

    /// Index in the weight tensor of w'(co, ci, ky, kx).
    @inline(__always)
    func sourceIndex(_ co: Int, _ ci: Int, _ ky: Int, _ kx: Int) -> Int {
        let k = kernel
        return transposed ? ((ci * outputChannels + co) * k + (k - 1 - ky)) * k + (k - 1 - kx)
                          : ((co * inputChannels + ci) * k + ky) * k + kx
    }

    /// Index in the packed weights of w'(co, ci, ky, kx): block co / 16, tap ky * K + kx, then
    /// cp * 16 elements in `layout` (see `Int8PackedConvolution`).
    @inline(__always)
    func packedIndex(_ co: Int, _ ci: Int, _ ky: Int, _ kx: Int, layout: Int8ConvolutionKernel.WeightLayout) -> Int {
        let lane = co % 16
        let within: Int
        switch layout {
        case .quads: within = (ci / 4) * 64 + lane * 4 + ci % 4
        case .pairs: within = (ci / 2) * 32 + lane * 2 + ci % 2
        case .channelMajor: within = ci * 16 + lane
        }
        return ((co / 16) * kernel * kernel + ky * kernel + kx) * inputStride * 16 + within
    }
}
