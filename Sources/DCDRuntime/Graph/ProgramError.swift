/// Why a program, a model file or an input cannot be run. One error type for the whole runtime so
/// that every throwing function uses typed throws (Embedded Swift has no `any Error`).
public struct RuntimeError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The model file is truncated, corrupted, of another version, or inconsistent.
        case invalidModelFile
        /// The program refers to values or tensors that do not exist or have the wrong shape.
        case invalidProgram
        /// The input image cannot go through this network (too small, wrong channels).
        case unsupportedInput
        /// A run in host memory for a frame size no workspace was prepared for.
        case notPrepared
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// Host-memory runs (`prepare`) need the fast executors; `reason` says why a program is not on them.
    static func referenceOwnsMemory(_ reason: String) -> RuntimeError {
        RuntimeError(.invalidProgram, "this model runs on the reference executor (\(reason)), which allocates its own memory")
    }
}
