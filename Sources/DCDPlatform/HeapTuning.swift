/// Allocator settings for programs that allocate and free many large buffers in a loop (the
/// trainer's per-op tensors, megabytes each, thousands per step).
public enum HeapTuning {
    /// Keeps freed memory in the process for reuse: glibc otherwise serves every allocation above
    /// its mmap threshold with a fresh mapping and returns it on free, so each step pays page
    /// faults and kernel page zeroing for all of its tensors again (about a tenth of a training
    /// step, measured with perf). Freed memory stays in the heap for the next step.
    public static func keepFreedMemory() {
        #if os(Linux) && canImport(Glibc)
        // <malloc.h>: M_TRIM_THRESHOLD -1, M_MMAP_THRESHOLD -3 (not exported by the Glibc module).
        _ = glibcMallopt(-3, 1 << 30)
        _ = glibcMallopt(-1, Int32.max)
        #endif
    }
}

#if os(Linux) && canImport(Glibc)
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
