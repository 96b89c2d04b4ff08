import DCDRuntime

/// The compiler's IR: a program under transformation.
///
/// Ops are the runtime's `ModelOp`s (typed, SSA: op i defines value i + 1), so every stage of the
/// pipeline is something the runtime can execute and a test can compare numerically. Shapes are
/// not stored: they follow from the input size by shape inference, which `verify` runs at probe
/// sizes after every pass.
public struct Graph: Equatable {
    public var program: ModelProgram

    public init(_ program: ModelProgram) { self.program = program }

    public var ops: [ModelOp] {
        get { program.ops }
        set { program.ops = newValue }
    }

    /// Probe input sizes for verification: small, multiples of 4, not square.
    static let probeSizes = [(32, 48), (44, 36)]

    /// Structural checks (references, shapes, channels), shape inference at the probe sizes, and
    /// no dead ops: every value but the output is read by a later op.
    public func verify() throws {
        do {
            try program.validate()
            for (h, w) in Self.probeSizes { _ = try program.inferShapes(height: h, width: w) }
        } catch {
            throw CheckpointError("graph verification failed: \(error)")
        }
        let uses = useCounts()
        for v in 1..<program.valueCount - 1 where uses[v] == 0 {
            throw CheckpointError("graph verification failed: value %\(v) (op \(v - 1), \(program.ops[v - 1].kind)) is never used")
        }
    }

    /// How many ops read each value.
    public func useCounts() -> [Int] {
        var uses = [Int](repeating: 0, count: program.valueCount)
        for op in program.ops {
            uses[op.input] += 1
            if op.secondInput >= 0 { uses[op.secondInput] += 1 }
        }
        return uses
    }

    /// The single op reading value `v`, if exactly one does.
    public func soleUser(of v: Int) -> Int? {
        var found: Int? = nil
        for (i, op) in program.ops.enumerated() where op.input == v || op.secondInput == v {
            if found != nil { return nil }
            found = i
        }
        return found
    }

    /// Removes the ops in `removed` (index -> the value that replaces the removed op's output),
    /// renumbering every value reference so the program stays in SSA order.
    public mutating func remove(_ removed: [Int: Int]) {
        var newValue = [Int](repeating: -1, count: program.valueCount)
        newValue[0] = 0
        var kept: [ModelOp] = []
        for (i, op) in program.ops.enumerated() {
            if let replacement = removed[i] {
                newValue[i + 1] = newValue[replacement]
                continue
            }
            var op = op
            op.input = newValue[op.input]
            if op.secondInput >= 0 { op.secondInput = newValue[op.secondInput] }
            kept.append(op)
            newValue[i + 1] = kept.count
        }
        program.ops = kept
    }

    /// Drops tensors no op refers to (after folds replace weights), renumbering references.
    public mutating func removeUnusedTensors() {
        var used = Set<Int>()
        for op in program.ops {
            if op.weight >= 0 { used.insert(op.weight) }
            if op.bias >= 0 { used.insert(op.bias) }
        }
        var map = [Int](repeating: -1, count: program.tensors.count)
        var tensors: [ModelTensor] = []
        for (i, t) in program.tensors.enumerated() where used.contains(i) {
            map[i] = tensors.count
            tensors.append(t)
        }
        program.tensors = tensors
        for i in program.ops.indices {
            if program.ops[i].weight >= 0 { program.ops[i].weight = map[program.ops[i].weight] }
            if program.ops[i].bias >= 0 { program.ops[i].bias = map[program.ops[i].bias] }
        }
    }

    /// The graph as text, one op per line: `%v = kind %inputs attributes`.
    public func dump() -> String {
        var lines = ["%0 = input 3ch" + (program.encoding.contains(.inputPixels) ? " pixels(0..255)" : " unit(-1..1)")]
        for (i, op) in program.ops.enumerated() {
            var parts = ["%\(i + 1) = \(Self.name(op.kind)) %\(op.input)"]
            if op.secondInput >= 0 && op.kind == .add { parts.append("%\(op.secondInput)") }
            if op.weight >= 0 {
                let t = program.tensors[op.weight]
                parts.append("w=\(t.name)[\(t.dims.map(String.init).joined(separator: "x"))]")
            }
            if op.bias >= 0 { parts.append("b=\(program.tensors[op.bias].name)") }
            switch op.kind {
            case .pad: parts.append("\(op.padMode)[t\(op.top) b\(op.bottom) l\(op.left) r\(op.right)]")
            case .crop: parts.append("[t\(op.top) b\(op.bottom) l\(op.left) r\(op.right)]")
            case .conv2d, .depthwiseConv2d:
                parts.append("s\(op.stride)")
                if op.padding > 0 { parts.append("pad=\(op.padMode)(\(op.padding))") }
            case .convTranspose2d, .depthwiseConvTranspose2d:
                parts.append("s\(op.stride) p\(op.padding)" + (op.outputPadding > 0 ? " op\(op.outputPadding)" : ""))
            case .instanceNorm: parts.append("eps=\(op.epsilon)")
            default: break
            }
            if !op.epilogue.isEmpty {
                var e: [String] = []
                if op.epilogue.contains(.instanceNorm) { e.append("instance_norm") }
                if op.epilogue.contains(.residual) { e.append("+%\(op.secondInput)") }
                if op.epilogue.contains(.relu) { e.append("relu") }
                if op.epilogue.contains(.tanh) { e.append("tanh") }
                if op.epilogue.contains(.toPixels) { e.append("to_pixels") }
                parts.append("-> " + e.joined(separator: ", "))
            }
            lines.append(parts.joined(separator: " "))
        }
        lines.append("output %\(program.ops.count)" + (program.encoding.contains(.outputPixels) ? " pixels(0..255)" : " tanh(-1..1)"))
        return lines.joined(separator: "\n")
    }

    static func name(_ k: OpKind) -> String {
        switch k {
        case .pad: return "pad"
        case .conv2d: return "conv2d"
        case .convTranspose2d: return "conv_transpose2d"
        case .depthwiseConv2d: return "depthwise_conv2d"
        case .depthwiseConvTranspose2d: return "depthwise_conv_transpose2d"
        case .crop: return "crop"
        case .instanceNorm: return "instance_norm"
        case .relu: return "relu"
        case .add: return "add"
        case .tanh: return "tanh"
        }
    }
}

/// One rewrite of the graph. Each pass lives in its own file under Passes/ and says in its doc
/// comment what it matches and what it produces.
public protocol GraphPass {
    var name: String { get }
    func run(_ graph: Graph) throws -> Graph
}

/// Runs passes in order, verifying the graph after each.
public struct PassPipeline {
    public var passes: [any GraphPass]

    public init(_ passes: [any GraphPass]) { self.passes = passes }

    /// The standard pipeline of dcd-compile.
    public static let standard = PassPipeline([
        FoldPadIntoConvolution(),
        FuseConvolutionNormRelu(),
        FuseResidualAdd(),
        FoldPixelMapping(),
    ])

    /// Runs every pass; `observe` sees the graph after each (for --dump-graph).
    public func run(_ graph: Graph, observe: (String, Graph) -> Void = { _, _ in }) throws -> Graph {
        try graph.verify()
        var g = graph
        for pass in passes {
            g = try pass.run(g)
            do { try g.verify() } catch { throw CheckpointError("after pass \(pass.name): \(error)") }
            observe(pass.name, g)
        }
        return g
    }
}
