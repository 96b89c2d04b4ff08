/// dcd-run's exit statuses: one per kind of failure, so that scripts and camera pipelines can
/// tell a bad model from a bad frame from a full disk. Documented in `--help` and the README.
enum ExitStatus: Int32, CaseIterable {
    case success = 0
    case modelUnreadable = 2
    case modelInvalid = 3
    case inputUnreadable = 4
    case inputUnsupported = 5
    case outputFailed = 6
    case someFailed = 7
    case streamTruncated = 8
    /// swift-argument-parser's status for validation errors (EX_USAGE).
    case usage = 64

    var meaning: String {
        switch self {
        case .success: "success"
        case .modelUnreadable: "the model file is missing or unreadable"
        case .modelInvalid: "the model file is not a dcd model, is corrupt, or has another format version"
        case .inputUnreadable: "an input is missing, unreadable, or not a valid PNG"
        case .inputUnsupported: "an image is too small for the network, or too large for --max-memory with a float model"
        case .outputFailed: "an output could not be written (disk full, permissions); nothing was half-written"
        case .someFailed: "a folder run: some images failed (each reported), the others were written"
        case .streamTruncated: "a raw stream ended inside a frame, or could not be read or written"
        case .usage: "a bad flag, value or combination of flags"
        }
    }

    /// The table for `--help`.
    static var table: String {
        allCases.map { "  \($0.rawValue)  \($0.meaning)" }.joined(separator: "\n")
    }
}

/// A failure that ends dcd-run (or, in a folder run, one image): a one-line message that names
/// the file and what is wrong, and the exit status of its kind.
struct RunFailure: Error, CustomStringConvertible {
    var status: ExitStatus
    var message: String
    init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }
    var description: String { message }
}
