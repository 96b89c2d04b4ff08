/// How the runtime spreads independent tasks over threads without owning any: the runtime depends
/// on the standard library only, so the host (a command-line tool, a camera firmware) supplies a
/// hook that runs `body(0..<taskCount)` on its threads and returns when all have finished.
///
/// Contract for the hook: every index is run exactly once; calls may be concurrent; the hook
/// returns only after all of them returned. Tasks write disjoint outputs, so results do not depend
/// on the number of threads or on the order tasks run in.
public struct ParallelRunner {
    public typealias Hook = (_ taskCount: Int, _ body: (Int) -> Void) -> Void

    /// Threads the hook uses; kernels size their task split from it.
    public let workerCount: Int
    let hook: Hook?

    public init(workerCount: Int, hook: @escaping Hook) {
        self.workerCount = max(1, workerCount)
        self.hook = hook
    }

    private init() {
        workerCount = 1
        hook = nil
    }

    /// Runs everything on the calling thread.
    public static let serial = ParallelRunner()

    public func run(taskCount: Int, _ body: (Int) -> Void) {
        if let hook, taskCount > 1, workerCount > 1 {
            hook(taskCount, body)
        } else {
            for i in 0..<taskCount { body(i) }
        }
    }

    /// Runs `body` over `rows` split into about 4 bands per worker (tasks are dealt to workers
    /// in turn, so several per worker even out uneven bands).
    public func runBands(_ rows: Range<Int>, _ body: (Range<Int>) -> Void) {
        let n = rows.count, count = max(1, min(n, 4 * workerCount))
        run(taskCount: count) { t in body((rows.lowerBound + n * t / count)..<(rows.lowerBound + n * (t + 1) / count)) }
    }
}
