import DCDRuntime

/// The compiler's front door: checkpoint bytes in, program (and model file bytes) out, with what
/// was found along the way for reports.
public struct CompiledGenerator {
    public var format: Checkpoint.Format
    public var stateDict: StateDict
    public var architecture: GeneratorArchitecture
    /// The program as imported: one op per PyTorch module.
    public var importedProgram: ModelProgram
    /// After the pass pipeline: what the model file holds.
    public var program: ModelProgram
    /// The checkpoint says its generator was trained with its outputs colour-anchored
    /// (dcd-train --color-anchor writes "dcd_color_anchor": "true" in the safetensors metadata):
    /// it is meant to run anchored.
    public var trainedWithColorAnchor: Bool

    /// Reads, unwraps, infers, checks, builds and optimizes. `network` chooses among several
    /// generators in one file ("G_A" or "G_B"); `observe` sees the graph after each pass.
    public init(checkpointBytes: [UInt8], network: String = "G_A", pipeline: PassPipeline = .standard,
                observe: (String, Graph) -> Void = { _, _ in }) throws {
        let checkpoint = try Checkpoint(bytes: checkpointBytes)
        format = checkpoint.format
        trainedWithColorAnchor = checkpoint.metadata.contains { $0 == ("dcd_color_anchor", "true") }
        stateDict = try StateDict(checkpoint: checkpoint, network: network)
        architecture = try GeneratorImporter.inferArchitecture(stateDict)
        importedProgram = try GeneratorImporter.program(stateDict, architecture)
        observe("import", Graph(importedProgram))
        program = try pipeline.run(Graph(importedProgram), observe: observe).program
    }

    public func modelFile() throws -> [UInt8] { try ModelFileWriter.write(program) }

    public var parameterCount: Int { stateDict.tensors.filter { !$0.name.hasSuffix(".filt") }.reduce(0) { $0 + $1.tensor.elementCount } }

    /// What --inspect prints.
    public func report(file: String) -> String {
        var lines = ["file: \(file)", "format: \(format.rawValue)"]
        lines += stateDict.notes.map { "note: \($0)" }
        lines.append("architecture: \(architecture)")
        lines.append("parameters: \(grouped(parameterCount)) (plus \(stateDict.tensors.count - stateDict.tensors.filter { !$0.name.hasSuffix(".filt") }.count) fixed blur filters)")
        if let macs = try? program.multiplyAccumulates(height: 256, width: 256) {
            lines.append("MACs at 256x256: \(grouped(macs)) (\(fixed(Double(macs) / 1e9, 2)) G)")
        }
        lines.append("tensors (\(stateDict.tensors.count)):")
        for t in stateDict.tensors {
            lines.append("  \(t.name)  \(t.tensor.dtype.rawValue)  \(t.tensor.shape)")
        }
        return lines.joined(separator: "\n")
    }
}

/// 1234567 -> "1,234,567".
public func grouped(_ n: Int) -> String {
    let digits = String(n.magnitude)
    var out = ""
    for (i, c) in digits.enumerated() {
        if i > 0 && (digits.count - i) % 3 == 0 { out.append(",") }
        out.append(c)
    }
    return n < 0 ? "-" + out : out
}

