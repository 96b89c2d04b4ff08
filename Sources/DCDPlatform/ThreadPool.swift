#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DCDRuntime

/// The host's side of `ParallelRunner`: POSIX threads. Tasks are dealt round-robin (worker w runs
/// tasks w, w + W, ...), so no atomics are needed; the calling thread is worker 0. Threads are
/// started per call: tens of microseconds against the milliseconds a convolution takes.
public enum ThreadPool {
    public static var availableCores: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    private final class Job {
        let worker: Int
        let workers: Int
        let count: Int
        let body: (Int) -> Void
        init(worker: Int, workers: Int, count: Int, body: @escaping (Int) -> Void) {
            self.worker = worker; self.workers = workers; self.count = count; self.body = body
        }
        func run() { var i = worker; while i < count { body(i); i += workers } }
    }

    public static func runner(threads: Int) -> ParallelRunner {
        if threads <= 1 { return .serial }
        return ParallelRunner(workerCount: threads) { count, body in
            let workers = min(threads, count)
            withoutActuallyEscaping(body) { body in
                var handles: [pthread_t] = []
                for w in 1..<workers {
                    let job = Unmanaged.passRetained(Job(worker: w, workers: workers, count: count, body: body))
                    var handle = pthread_t()
                    let started = pthread_create(&handle, nil, { raw in
                        let job = Unmanaged<Job>.fromOpaque(raw!).takeRetainedValue()
                        job.run()
                        return nil
                    }, job.toOpaque())
                    if started == 0 {
                        handles.append(handle)
                    } else {
                        // No thread: run this worker's share here.
                        job.takeRetainedValue().run()
                    }
                }
                Job(worker: 0, workers: workers, count: count, body: body).run()
                for h in handles { pthread_join(h, nil) }
            }
        }
    }
}
