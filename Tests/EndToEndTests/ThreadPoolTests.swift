import Testing
import DCDPlatform
import DCDRuntime

/// The command-line tools' thread pool against `ParallelRunner`'s contract: every task index
/// runs exactly once per call, the call returns after all of them, and pools can be made and
/// dropped repeatedly (their threads end with them).
struct ThreadPoolTests {
    @Test(arguments: [2, 3, 8])
    func everyTaskRunsExactlyOncePerCall(threads: Int) {
        let runner = ThreadPool.runner(threads: threads)
        #expect(runner.workerCount == threads)
        let capacity = 1000
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
        defer { counts.deallocate() }
        // Counts from 0 (nothing to do) to more tasks than threads, many calls in a row: the
        // workers go from spinning to sleeping and back.
        for round in 0..<300 {
            let n = round % 7 == 0 ? 0 : (round * 37) % capacity
            counts.initialize(repeating: 0, count: capacity)
            // Each task writes only its own slot: no two tasks share memory.
            runner.run(taskCount: n) { i in counts[i] += 1 }
            var wrong = 0
            for i in 0..<capacity where counts[i] != (i < n ? 1 : 0) { wrong += 1 }
            #expect(wrong == 0, "round \(round), \(n) tasks")
        }
    }

    @Test func poolsEndWithTheirRunners() {
        for _ in 0..<50 {
            let runner = ThreadPool.runner(threads: 2)
            var sum = [Int](repeating: 0, count: 4)
            sum.withUnsafeMutableBufferPointer { s in runner.run(taskCount: 4) { s[$0] = $0 } }
            #expect(sum == [0, 1, 2, 3])
        }
    }
}
