import Testing
import DCDRuntime

struct MemoryPlanTests {
    /// A chain with a long-lived skip connection: pad, three relus, an add of the first and last.
    static func program() -> ModelProgram {
        let w = ModelTensor(name: "w", dims: [3, 3, 1, 1], values: [Float](repeating: 0.1, count: 9))
        return ModelProgram(architecture: GeneratorArchitecture(ngf: 0, blockCount: 0, noAntialias: false, noAntialiasUp: false),
                            sizeMultiple: 1,
                            ops: [.conv2d(0, weight: 0, bias: -1, stride: 1, padding: 0), .relu(1), .relu(2), .relu(3), .add(1, 4),
                                  .conv2d(5, weight: 0, bias: -1, stride: 1, padding: 0)],
                            tensors: [w])
    }

    @Test func liveValuesNeverOverlapAndMemoryIsReused() throws {
        let p = Self.program()
        let plan = try MemoryPlan.plan(p, height: 10, width: 10)
        let size = 3 * 10 * 10 * 4
        #expect(plan.sizes.allSatisfy { $0 == size })
        // Lifetimes (def op .. last reader): v0 0..0, v1 0..4, v2 1..2, v3 2..3, v4 3..4, v5 4..5, v6 5..6.
        let lifetimes = [(0, 0), (0, 4), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)]
        for a in 0..<7 {
            for b in (a + 1)..<7 where lifetimes[a].0 <= lifetimes[b].1 && lifetimes[b].0 <= lifetimes[a].1 {
                let disjoint = plan.offsets[a] + size <= plan.offsets[b] || plan.offsets[b] + size <= plan.offsets[a]
                #expect(disjoint, "values \(a) and \(b) are alive together but overlap")
            }
        }
        // At most three values are alive at once (v1 across the chain, plus two neighbours).
        #expect(plan.arenaBytes == 3 * size)
        #expect(plan.arenaBytes < 7 * size)
    }
}
