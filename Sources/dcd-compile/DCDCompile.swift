import ArgumentParser
import DCDCompiler
import DCDPlatform
import DCDRuntime

/// Thin command line over DCDCompiler: parse, call the library, write atomically.
@main
struct DCDCompile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dcd-compile",
        abstract: "Compile a DCD-GAN generator checkpoint into a dcd model file.",
        discussion: """
            Reads PyTorch checkpoints (.pth/.pt/.ckpt, zip or legacy format) and safetensors, \
            including nested ('state_dict', 'netG_A.') and DataParallel ('module.') files. \
            The architecture (ngf, n_blocks, no_antialias, no_antialias_up) is inferred from the keys.
            """)

    @Argument(help: "Checkpoint file (.pth, .pt, .ckpt, .safetensors).")
    var checkpoint: String

    @Option(name: .shortAndLong, help: "Output model file (default: the checkpoint's name with .dcdm).")
    var output: String?

    @Option(help: "Numeric precision of the compiled model. This version compiles 'float' (float32).")
    var precision: String = "float"

    @Option(help: "Which generator of a multi-network checkpoint to compile (G_A derains, G_B adds rain).")
    var network: String = "G_A"

    @Flag(help: "Print what the checkpoint holds (format, architecture, parameters, MACs, tensors) and exit.")
    var inspect = false

    @Flag(help: "Print the graph as imported and after each pass, as text.")
    var dumpGraph = false

    func validate() throws {
        guard precision == "float" else {
            throw ValidationError("--precision \(precision): this version compiles float models only (int8 and mixed are not available yet)")
        }
    }

    func run() throws {
        let bytes: [UInt8]
        do { bytes = try Files.read(checkpoint) } catch { throw CommandFailure("\(error)") }
        let compiled: CompiledGenerator
        do {
            compiled = try CompiledGenerator(checkpointBytes: bytes, network: network) { pass, graph in
                if dumpGraph { print("== \(pass)\n\(graph.dump())\n") }
            }
        } catch {
            throw CommandFailure("\(checkpoint): \(error)")
        }
        if inspect {
            print(compiled.report(file: checkpoint))
            return
        }
        let destination = output ?? Self.defaultOutput(for: checkpoint)
        do {
            try Files.writeAtomically(try compiled.modelFile(), to: destination)
        } catch {
            throw CommandFailure("\(error)")
        }
        for note in compiled.stateDict.notes { print("note: \(note)") }
        print("\(checkpoint): \(compiled.architecture), \(grouped(compiled.parameterCount)) parameters -> \(destination) (\(precision))")
    }

    static func defaultOutput(for path: String) -> String {
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        if let dot = path[slash...].lastIndex(of: "."), dot > slash { return String(path[..<dot]) + ".dcdm" }
        return path + ".dcdm"
    }
}

/// A failure reported as one line, exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
