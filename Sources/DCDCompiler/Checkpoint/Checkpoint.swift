/// A checkpoint file as read: its format, every tensor it holds under its full dotted path, and
/// metadata (safetensors only).
public struct Checkpoint {
    public enum Format: String, Sendable {
        case torchZip = "PyTorch zip (torch.save)"
        case torchLegacy = "PyTorch legacy (torch.save, _use_new_zipfile_serialization=False)"
        case safetensors = "safetensors"
    }

    public var format: Format
    public var tensors: [(name: String, tensor: CheckpointTensor)]
    public var metadata: [(String, String)]

    /// Detects the format from the bytes (never from the file name) and reads it.
    public init(bytes: [UInt8]) throws {
        if ZipArchive.looksLikeZip(bytes) {
            format = .torchZip
            tensors = try TorchCheckpoint.readZip(bytes).map { (name: $0.0, tensor: $0.1) }
            metadata = []
        } else if Safetensors.looksLikeSafetensors(bytes) {
            format = .safetensors
            let r = try Safetensors.read(bytes)
            tensors = r.tensors.map { (name: $0.0, tensor: $0.1) }
            metadata = r.metadata
        } else if TorchCheckpoint.looksLikeLegacy(bytes) {
            format = .torchLegacy
            tensors = try TorchCheckpoint.readLegacy(bytes).map { (name: $0.0, tensor: $0.1) }
            metadata = []
        } else {
            throw CheckpointError("not a checkpoint: neither a PyTorch zip or legacy file nor safetensors (\(bytes.count) bytes)")
        }
    }
}

/// The tensors of one network, with the prefixes that wrapped them removed, and what was done.
public struct StateDict {
    public var tensors: [(name: String, tensor: CheckpointTensor)]
    /// The path prefix the network's keys had in the file ("", "module.", "state_dict.netG_A.").
    public var prefix: String
    /// Human-readable notes on what was unwrapped and which other networks the file holds.
    public var notes: [String]

    public subscript(name: String) -> CheckpointTensor? {
        tensors.first { $0.name == name }?.tensor
    }

    /// Finds the generator named `network` ("G_A") in a checkpoint. Generators are recognised by
    /// their first convolution, `<prefix>model.1.weight`; the prefix tells which network it is
    /// ("netG_A." or "G_A." is G_A; "module." and "state_dict." are wrappers). A file with one
    /// unnamed generator (a plain state_dict) is used whatever `network` says.
    public init(checkpoint: Checkpoint, network: String) throws {
        let anchor = "model.1.weight"
        let prefixes = checkpoint.tensors.compactMap { t -> String? in
            guard t.name == anchor || t.name.hasSuffix("." + anchor) else { return nil }
            return String(t.name.dropLast(anchor.count))
        }
        guard !prefixes.isEmpty else {
            let sample = checkpoint.tensors.prefix(5).map(\.name).joined(separator: ", ")
            throw CheckpointError("no ResnetGenerator in this checkpoint (no key ending in '\(anchor)'; first keys: \(sample.isEmpty ? "none" : sample))")
        }
        let named = prefixes.map { (prefix: $0, name: Self.networkName(prefix: $0)) }
        let chosen: (prefix: String, name: String?)
        if named.count == 1 && named[0].name == nil {
            chosen = named[0]
        } else if let match = named.first(where: { $0.name == network }) {
            chosen = match
        } else {
            let available = named.map { $0.name ?? "(unnamed)" }.joined(separator: ", ")
            throw CheckpointError("this checkpoint has no generator '\(network)'; it has: \(available) (choose with --network)")
        }
        prefix = chosen.prefix
        tensors = checkpoint.tensors.compactMap { t in
            t.name.hasPrefix(chosen.prefix) ? (name: String(t.name.dropFirst(chosen.prefix.count)), tensor: t.tensor) : nil
        }
        var notes: [String] = []
        let wrappers = chosen.prefix.split(separator: ".").map(String.init)
        if !wrappers.isEmpty {
            notes.append("unwrapped key prefix '\(chosen.prefix)' (\(wrappers.map { Self.describe(component: $0) }.joined(separator: ", ")))")
        }
        let others = named.filter { $0.prefix != chosen.prefix }.map { $0.name ?? "(unnamed at '\($0.prefix)')" }
        if !others.isEmpty {
            notes.append("took generator \(chosen.name ?? "(unnamed)"); the file also holds \(others.joined(separator: ", ")) (choose with --network)")
        }
        self.notes = notes
    }

    /// The network a prefix names: the last component that is not a known wrapper, without
    /// a leading "net" (netG_A -> G_A).
    static func networkName(prefix: String) -> String? {
        let wrappers: Set<String> = ["module", "state_dict", "model", "_orig_mod", "net", "generator", "params"]
        for c in prefix.split(separator: ".").reversed() where !wrappers.contains(String(c)) {
            return c.hasPrefix("net") && c.count > 3 ? String(c.dropFirst(3)).droppingPrefix("_") : String(c)
        }
        return nil
    }

    static func describe(component c: String) -> String {
        switch c {
        case "module": return "DataParallel 'module.'"
        case "state_dict": return "nested 'state_dict'"
        case "_orig_mod": return "torch.compile '_orig_mod.'"
        default: return "network '\(c)'"
        }
    }
}

extension String {
    func droppingPrefix(_ p: String) -> String { hasPrefix(p) ? String(dropFirst(p.count)) : self }
}
