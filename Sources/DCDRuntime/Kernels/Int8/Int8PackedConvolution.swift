/// A dense int8 convolution's weights, packed at load into the layout its kernel reads.
///
/// Output channels come in blocks of 16 (one 16-lane int32 accumulator), input channels padded
/// to the interleaved map's channel stride cp. For block b and tap t = ky * K + kx, cp * 16
/// elements hold the weights (co = 16b + lane, ci), at an offset within them set by the kernel's
/// `WeightLayout`:
/// - quads (AVX-512 VNNI): (ci / 4) * 64 + lane * 4 + ci % 4: one 64-byte load is the vpdpbusd
///   operand (each int32 lane: 4 input channels of one output channel);
/// - pairs (AVX2, int16 weights): (ci / 2) * 32 + lane * 2 + ci % 2: two 32-byte loads are the
///   vpmaddwd operands for lanes 0-7 and 8-15 (each int32 lane: 2 input channels);
/// - channelMajor (portable): ci * 16 + lane: one 16-element load is the 16 output channels of
///   one input channel.
/// Channels past Cout or Cin are zero weights.
///
/// Convolutions with at most 4 output channels (`RowDotLayout.suits`) are packed instead for
/// `Int8RowDotKernel`, in `RowDotLayout`'s rows (`rowDot` says so).
///
/// Transposed convolutions are packed as the equivalent stride-1 convolution of the zero-inserted
/// input (weight flipped, Cin and Cout swapped): see `Int8Convolution.dilate`.
struct Int8PackedConvolution {
    let outputChannels: Int
    let inputChannels: Int
    /// Input bytes per pixel (the interleaved map's channel stride).
    let inputStride: Int
    let kernel: Int
    /// Stride of the equivalent convolution (1 for a transposed one).
    let stride: Int
    let blocks: Int
    /// Elements per output-channel block: K * K * cp * 16.
    var blockElements: Int { kernel * kernel * inputStride * 16 }
    let weights: [Int8ConvolutionKernel.Weight]
    /// Set when the weights are packed for the few-output-channel kernel.
    let rowDot: RowDotLayout?
    /// Per padded output channel: the accumulator's starting value, bias - (zIn - zeroShift) *
    /// sum(w). The kernel sums w * (q - zeroShift) over the codes it reads
    /// (`Int8ConvolutionKernel.input`); starting here makes the result sum w * (q - zIn) + bias
    /// (wrapping int32 arithmetic, exact because the final value fits: checked at load).
    let initial: [Int32]

    /// weight: int8 values of (Cout, Cin, K, K) for conv2d, (Cin, Cout, K, K) for transposed.
    init(weight: ModelTensor, transposed: Bool, stride: Int, bias: [Int32], zIn: Int32,
         layout: Int8ConvolutionKernel.WeightLayout = Int8ConvolutionKernel.weightLayout) {
        let shape = EquivalentConvolution(weightDims: weight.dims, transposed: transposed)
        let k = shape.kernel, cout = shape.outputChannels, cin = shape.inputChannels
        outputChannels = cout
        inputChannels = cin
        inputStride = shape.inputStride
        kernel = k
        self.stride = transposed ? 1 : stride
        blocks = shape.blocks
        let rowDot = RowDotLayout.suits(outputChannels: cout) ? RowDotLayout(shape, stride: self.stride, chunk: Int8RowDotKernel.chunk) : nil
        self.rowDot = rowDot
        var packed = [Int8ConvolutionKernel.Weight](repeating: 0, count: rowDot?.weightCount ?? blocks * k * k * inputStride * 16)
        var initial = [Int32](repeating: 0, count: blocks * 16)
        for co in 0..<cout {
            var sum: Int32 = 0
            for ci in 0..<cin {
                for ky in 0..<k {
                    for kx in 0..<k {
                        let v = weight.integers[shape.sourceIndex(co, ci, ky, kx)]
                        sum += v
                        let index = rowDot?.packedIndex(co, ci, ky, kx) ?? shape.packedIndex(co, ci, ky, kx, layout: layout)
                        packed[index] = Int8ConvolutionKernel.Weight(v)
                    }
                }
            }
            initial[co] = (bias.isEmpty ? 0 : bias[co]) &- (zIn &- Int8ConvolutionKernel.zeroShift) &* sum
        }
        weights = packed
        self.initial = initial
    }
}
