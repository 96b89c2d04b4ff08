/// The layout of convolutions with few output channels (the generator's last layer: 3 RGB
/// outputs), which the 16-channel block kernels would run at 3/16 of their width.
///
/// In an interleaved map one kernel row of an output pixel's receptive field is a contiguous
/// run of K * cp elements (K pixels of cp channels). So each output channel is K dot products
/// of such runs with the matching weight rows, computed `chunk` elements at a time in vector
/// lanes and summed across lanes at the end: every lane of every multiply does useful work.
///
/// Packed weights: for kernel row ky and output channel o in 0..<`outputs` (4; channels past
/// Cout are zero), a row of `paddedRun` elements: weight (o, ci, ky, kx) at kx * cp + ci, zero
/// past Cin and past the run (K * cp rounded up to the chunk). Reads of the last chunk may run
/// up to chunk - 1 elements past a pixel's run: into the next pixels (times zero weights), or
/// past the map into `slack` elements the buffer must have.
struct RowDotLayout {
    /// Output channels per tile (the accumulators of one pixel).
    static let outputs = 4
    /// Elements the padded input buffer needs after the map: a whole chunk of the widest kernel.
    static let slack = 64

    let outputChannels: Int
    let inputChannels: Int
    /// Input elements per pixel (the interleaved map's channel stride cp).
    let inputStride: Int
    let kernel: Int
    let stride: Int
    let chunk: Int
    /// K * cp.
    var run: Int { kernel * inputStride }
    /// The run rounded up to the chunk.
    var paddedRun: Int { (run + chunk - 1) / chunk * chunk }
    var weightCount: Int { kernel * Self.outputs * paddedRun }

    /// Whether a convolution with this many output channels should take this layout.
    static func suits(outputChannels: Int) -> Bool { outputChannels <= outputs }

    init(_ shape: EquivalentConvolution, stride: Int, chunk: Int) {
        outputChannels = shape.outputChannels
        inputChannels = shape.inputChannels
        inputStride = shape.inputStride
        kernel = shape.kernel
        self.stride = stride
        self.chunk = chunk
    }

    /// Index of weight (co, ci, ky, kx) of the equivalent convolution in the packed rows.
    @inline(__always)
    func packedIndex(_ co: Int, _ ci: Int, _ ky: Int, _ kx: Int) -> Int {
        (ky * Self.outputs + co) * paddedRun + kx * inputStride + ci
    }
}
