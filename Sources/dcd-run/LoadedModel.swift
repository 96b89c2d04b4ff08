import DCDPlatform
import DCDRuntime

/// A model file read and validated, with the executor its precision needs.
enum LoadedModel {
    case float(FloatExecutor)
    case int8(Int8Executor)

    init(path: String) throws {
        let bytes = try Files.read(path)
        let program = try bytes.withUnsafeBytes { raw throws(RuntimeError) in try ModelFileReader.read(raw) }
        self = program.precision == .float32 ? .float(try FloatExecutor(program: program)) : .int8(try Int8Executor(program: program))
    }

    var program: ModelProgram {
        switch self {
        case .float(let e): e.program
        case .int8(let e): e.program
        }
    }
}
