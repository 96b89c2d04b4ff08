/// A float convolution's weights packed for `FloatConvolutionKernel`: output channels in blocks
/// of 16, for block b, tap t = ky * K + kx and input channel ci, 16 consecutive floats hold
/// weight (16b + lane, ci, ky, kx) (zero past Cout). One tap of one input channel is then two
/// 8-float loads (AVX2) or one 16-lane load (portable), multiplied by the broadcast input value.
/// Convolutions with at most 4 output channels are packed instead in `RowDotLayout`'s rows for
/// `FloatRowDotKernel` (`rowDot` says so).
/// Transposed convolutions are packed as the stride-1 convolution of the zero-inserted input
/// (weight flipped, Cin and Cout swapped), as in `Int8PackedConvolution`.
struct FloatPackedConvolution {
    let outputChannels: Int
    let inputChannels: Int
    /// Input floats per pixel (the interleaved map's channel stride).
    let inputStride: Int
    let kernel: Int
    let stride: Int
    let blocks: Int
    /// Floats per block of 16 output channels: K * K * cp * 16.
    var blockElements: Int { kernel * kernel * inputStride * 16 }
    let weights: [Float]
    /// Set when the weights are packed for the few-output-channel kernel.
    let rowDot: RowDotLayout?
    /// Per padded output channel: the bias (0 past Cout), the accumulators' start.
    let initial: [Float]

    init(weight: ModelTensor, transposed: Bool, stride: Int, bias: [Float]) {
        let shape = EquivalentConvolution(weightDims: weight.dims, transposed: transposed)
        let k = shape.kernel, cout = shape.outputChannels, cin = shape.inputChannels
        outputChannels = cout
        inputChannels = cin
        inputStride = shape.inputStride
        kernel = k
        self.stride = transposed ? 1 : stride
        blocks = shape.blocks
        let rowDot = RowDotLayout.suits(outputChannels: cout) ? RowDotLayout(shape, stride: self.stride, chunk: FloatRowDotKernel.chunk) : nil
        self.rowDot = rowDot
        var packed = [Float](repeating: 0, count: rowDot?.weightCount ?? blocks * k * k * inputStride * 16)
        var initial = [Float](repeating: 0, count: blocks * 16)
        for co in 0..<cout {
            initial[co] = bias.isEmpty ? 0 : bias[co]
            for ci in 0..<cin {
                for ky in 0..<k {
                    for kx in 0..<k {
                        let index = rowDot?.packedIndex(co, ci, ky, kx) ?? shape.packedIndex(co, ci, ky, kx, layout: .channelMajor)
                        packed[index] = weight.values[shape.sourceIndex(co, ci, ky, kx)]
                    }
                }
            }
        }
        weights = packed
        self.initial = initial
    }
}
