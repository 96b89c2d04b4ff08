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
    /// Per padded output channel: the accumulator's starting value, bias - zIn * sum(w). The
    /// kernel sums w * q over raw codes; starting here makes the result sum w * (q - zIn) + bias
    /// (wrapping int32 arithmetic, exact because the final value fits: checked at load).
    let initial: [Int32]

    /// weight: int8 values of (Cout, Cin, K, K) for conv2d, (Cin, Cout, K, K) for transposed.
    init(weight: ModelTensor, transposed: Bool, stride: Int, bias: [Int32], zIn: Int32,
         layout: Int8ConvolutionKernel.WeightLayout = Int8ConvolutionKernel.weightLayout) {
        let k = weight.dims[2]
        let cout = transposed ? weight.dims[1] : weight.dims[0]
        let cin = transposed ? weight.dims[0] : weight.dims[1]
        outputChannels = cout
        inputChannels = cin
        inputStride = InterleavedByteMap.channelStride(cin)
        kernel = k
        self.stride = transposed ? 1 : stride
        blocks = (cout + 15) / 16
        let cp = inputStride
        var packed = [Int8ConvolutionKernel.Weight](repeating: 0, count: blocks * k * k * cp * 16)
        var initial = [Int32](repeating: 0, count: blocks * 16)
        for co in 0..<cout {
            var sum: Int32 = 0
            for ci in 0..<cin {
                for ky in 0..<k {
                    for kx in 0..<k {
                        // Transposed: w'(co, ci, ky, kx) = w(ci, co, K-1-ky, K-1-kx).
                        let v = transposed ? weight.integers[((ci * cout + co) * k + (k - 1 - ky)) * k + (k - 1 - kx)]
                                           : weight.integers[((co * cin + ci) * k + ky) * k + kx]
                        sum += v
                        let b = co / 16, lane = co % 16
                        let base = (b * k * k + ky * k + kx) * cp * 16
                        let within: Int
                        switch layout {
                        case .quads: within = (ci / 4) * 64 + lane * 4 + ci % 4
                        case .pairs: within = (ci / 2) * 32 + lane * 2 + ci % 2
                        case .channelMajor: within = ci * 16 + lane
                        }
                        packed[base + within] = Int8ConvolutionKernel.Weight(v)
                    }
                }
            }
            initial[co] = (bias.isEmpty ? 0 : bias[co]) &- zIn &* sum
        }
        weights = packed
        self.initial = initial
    }
}
