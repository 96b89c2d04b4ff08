/// Why a checkpoint cannot be imported. The message names what is wrong; the command-line tool
/// prefixes the file name.
public struct CheckpointError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
