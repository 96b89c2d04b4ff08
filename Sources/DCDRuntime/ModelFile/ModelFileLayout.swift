/// Byte layout of the compiled model file (.dcdm), shared by the reader here and the compiler's
/// writer. The format is specified in `ModelFile/FORMAT.md`; every number below appears there.
public enum ModelFileLayout {
    public static let magic: [UInt8] = Array("DCDMODEL".utf8)
    /// Bumped whenever the meaning of any byte changes. Version 1: float32 programs. Version 2
    /// adds int8 programs (integer tensor types, per-op parameter tensors). Version 3 adds the
    /// output colour field (anchor to the input by default), version 4 its colour-matrix value.
    /// This reader accepts 1 to 4; the writer writes the lowest version that can hold the program.
    public static let formatVersion: UInt32 = 4
    public static let oldestReadableVersion: UInt32 = 1
    public static let headerSize = 128
    public static let opRecordSize = 64
    public static let tensorRecordSize = 96
    public static let tensorNameCapacity = 64
    /// Tensor data offsets are multiples of this, so a runtime can use them in place with
    /// aligned vector loads (64 bytes = one cache line = one AVX-512 register).
    public static let dataAlignment = 64
    public static let checksumSize = 4


    public static let flagNoAntialias: UInt32 = 1
    public static let flagNoAntialiasUp: UInt32 = 2

    // Header field offsets.
    static let versionOffset = 8
    static let headerSizeOffset = 12
    static let fileSizeOffset = 16
    static let precisionOffset = 24
    static let sizeMultipleOffset = 28
    static let ngfOffset = 32
    static let blockCountOffset = 36
    static let flagsOffset = 40
    static let opCountOffset = 44
    static let encodingOffset = 52
    static let tensorCountOffset = 48
    static let opTableOffsetOffset = 56
    static let tensorTableOffsetOffset = 64
    static let dataOffsetOffset = 72
    /// u32: 0 = the generator's colours, 1 = anchor them to the input's (version 3).
    public static let outputColorOffset = 80
    static let reservedRange = 84..<128

    public static func alignUp(_ n: Int, _ a: Int = dataAlignment) -> Int { (n + a - 1) / a * a }
}
