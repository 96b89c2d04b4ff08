#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization
import DCDRuntime

/// The host's side of `ParallelRunner`: a pool of POSIX threads started once and kept.
///
/// Per call (`run`), the tasks are claimed one at a time from an atomic counter by the calling
/// thread and the workers alike, so a core that is slowed down (another process, a hypervisor
/// taking it away) takes fewer tasks instead of holding the others up at the join. Workers wait
/// for work by spinning briefly (a convolution makes up to four calls in a row: padded copy,
/// accumulation, squares, normalisation), then on a condition variable.
///
/// Invariant: one call at a time (the executors call the runner from one thread); `run`
/// returns only after every task has returned, so `body` never outlives the call.
public final class ThreadPool: @unchecked Sendable {
    public static var availableCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// A runner on a pool of `threads` threads (the caller's included); serial for 1. Workers
    /// poll for the next call `spins` times before they sleep: a short spin (the default) suits
    /// a frame loop that then idles; the trainer, whose calls come in an unbroken stream with
    /// serial gaps of up to milliseconds between them, keeps its workers spinning across the
    /// gaps so that they are awake when a call starts (a sleeping worker wakes too late to take
    /// a share of a short op).
    public static func runner(threads: Int, spins: Int = defaultSpins) -> ParallelRunner {
        if threads <= 1 { return .serial }
        let pool = ThreadPool(threads: threads, spins: spins)
        return ParallelRunner(workerCount: threads) { count, body in pool.run(count, body) }
    }

    private let helpers: Int
    /// Bumped once per call; workers compare it with the last one they served.
    private let generation = Atomic<Int>(0)
    /// The next unclaimed task of the current call.
    private let next = Atomic<Int>(0)
    /// Workers that have not yet finished the current call.
    private let pending = Atomic<Int>(0)
    // The current call, read by workers after they see `generation` change (published before
    // the generation's release store).
    private var count = 0
    /// Points at the caller's closure for the duration of the call. Workers call through the
    /// pointer inside `claimTasks` (never inlined), so any copy they make of the closure is
    /// released before they report done: `withoutActuallyEscaping` checks that none is left.
    private var body: UnsafePointer<(Int) -> Void>?
    private var mutex = pthread_mutex_t()
    private var wake = pthread_cond_t()
    private var workerThreads: [pthread_t] = []
    /// Polls of the call counter before a worker sleeps (not timed; a short spin).
    public static let defaultSpins = 20_000
    /// The trainer's: about 100 times longer (milliseconds), see `runner(threads:spins:)`.
    public static let trainingSpins = 2_000_000
    private let spins: Int

    private init(threads: Int, spins: Int) {
        helpers = threads - 1
        self.spins = spins
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&wake, nil)
        for _ in 0..<helpers {
            var handle = pthread_t()
            let started = pthread_create(&handle, nil, { raw in
                Unmanaged<ThreadPool>.fromOpaque(raw!).takeUnretainedValue().serve()
                return nil
            }, Unmanaged.passUnretained(self).toOpaque())
            precondition(started == 0, "could not start a worker thread")
            workerThreads.append(handle)
        }
    }

    /// Set once, by `deinit`: workers return instead of serving.
    private let stopping = Atomic<Bool>(false)

    // The pool lives as long as the runner that captures it. Workers refer to it unretained;
    // deinit runs before its memory goes, and joins them first.
    deinit {
        stopping.store(true, ordering: .relaxed)
        pthread_mutex_lock(&mutex)
        generation.add(1, ordering: .releasing)
        pthread_cond_broadcast(&wake)
        pthread_mutex_unlock(&mutex)
        for thread in workerThreads { pthread_join(thread, nil) }
        pthread_cond_destroy(&wake)
        pthread_mutex_destroy(&mutex)
    }

    private func run(_ taskCount: Int, _ work: (Int) -> Void) {
        withoutActuallyEscaping(work) { work in
            withUnsafePointer(to: work) { work in
                count = taskCount
                body = work
                next.store(0, ordering: .relaxed)
                pending.store(helpers, ordering: .relaxed)
                pthread_mutex_lock(&mutex)
                generation.add(1, ordering: .releasing)
                pthread_cond_broadcast(&wake)
                pthread_mutex_unlock(&mutex)
                claimTasks(work, taskCount)
                // Wait for the helpers to leave `body` (they may still be claiming an empty counter).
                while pending.load(ordering: .acquiring) > 0 {}
                body = nil
            }
        }
    }

    @inline(never)
    private func claimTasks(_ work: UnsafePointer<(Int) -> Void>, _ taskCount: Int) {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            if i >= taskCount { return }
            work.pointee(i)
        }
    }

    private func serve() {
        var served = 0
        while true {
            var spun = 0
            while generation.load(ordering: .acquiring) == served {
                spun += 1
                if spun >= spins {
                    pthread_mutex_lock(&mutex)
                    while generation.load(ordering: .acquiring) == served { pthread_cond_wait(&wake, &mutex) }
                    pthread_mutex_unlock(&mutex)
                }
            }
            served = generation.load(ordering: .acquiring)
            if stopping.load(ordering: .relaxed) { return }
            claimTasks(body!, count)
            pending.subtract(1, ordering: .releasing)
        }
    }
}
