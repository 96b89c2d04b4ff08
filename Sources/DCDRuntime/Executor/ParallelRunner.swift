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

    /// Tasks per worker an op is split into: with tasks claimed dynamically (`ThreadPool`),
    /// the last one to finish holds the others up by at most one task, 1/8 of a worker's share.
    public static let tasksPerWorker = 8
    /// At most this many row bands per op (the statistics passes keep partial sums per band).
    public static let maximumBands = 64

    /// Row bands to split `rows` rows into: `tasksPerWorker` per worker, at most one row each
    /// and at most `maximumBands`.
    public func bandCount(rows: Int) -> Int { max(1, min(rows, Self.tasksPerWorker * workerCount, Self.maximumBands)) }

    /// Row bands per group when `groups` independent groups (of output channels) are split
    /// further by rows: together about `tasksPerWorker` tasks per worker.
    public func bandCount(rows: Int, groups: Int) -> Int {
        max(1, min(rows, (Self.tasksPerWorker * workerCount + groups - 1) / groups))
    }

    /// Band `index` of `bands` over `rows`.
    @inline(__always)
    public static func band(_ index: Int, of bands: Int, _ rows: Range<Int>) -> Range<Int> {
        let n = rows.count
        return (rows.lowerBound + n * index / bands)..<(rows.lowerBound + n * (index + 1) / bands)
    }

    /// Runs `body` over `rows` split into `bandCount(rows:)` bands.
    public func runBands(_ rows: Range<Int>, _ body: (Range<Int>) -> Void) {
        let count = bandCount(rows: rows.count)
        run(taskCount: count) { t in body(Self.band(t, of: count, rows)) }
    }
}
