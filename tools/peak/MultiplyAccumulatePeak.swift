// Multiply-accumulate peak of this CPU, for the int8 kernels' efficiency figure (README, Speed).
// Build and run: tools/peak/run.sh (swiftc -O -target-cpu <cpu>). Each loop keeps 12 independent
// accumulators in registers (more than latency x throughput), so it measures instruction
// throughput, not latency; threads run the same loop on separate data.
#if canImport(Glibc)
import Glibc
#endif
import _Builtin_intrinsics.intel

func seconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// vpmaddwd + vpaddd: 16 int16 MACs per pair of instructions (the AVX2 int8 kernel's inner step).
/// The multiplicand is the accumulator itself, so the compiler cannot hoist the multiply; each
/// chain has a latency of 4 cycles (3 + 1) and 12 chains cover it.
@inline(never)
func maddLoop(_ n: Int, _ seed: Int32) -> Int32 {
    let w = _mm256_set1_epi32(seed)
    var a = InlineArray<12, __m256i>(repeating: _mm256_set1_epi32(seed))
    for _ in 0..<n {
        for i in 0..<12 { a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(a[i], w)) }
    }
    var s = a[0]
    for i in 1..<12 { s = _mm256_add_epi32(s, a[i]) }
    return unsafeBitCast(s, to: SIMD8<Int32>.self)[0]
}

/// vfmadd231ps: 8 float MACs per instruction.
@inline(never)
func fmaLoop(_ n: Int, _ seed: Float) -> Float {
    let w = _mm256_set1_ps(seed), x = _mm256_set1_ps(1.0000001)
    var a = InlineArray<12, __m256>(repeating: _mm256_set1_ps(seed))
    for _ in 0..<n {
        for i in 0..<12 { a[i] = _mm256_fmadd_ps(a[i], x, w) }
    }
    var s = a[0]
    for i in 1..<12 { s = _mm256_add_ps(s, a[i]) }
    return unsafeBitCast(s, to: SIMD8<Float>.self)[0]
}

#if DCD_AVX512VNNI
/// vpdpbusd on zmm: 64 u8 x s8 MACs per instruction (the AVX-512 VNNI int8 kernel's inner step).
@inline(never)
func dotLoop(_ n: Int, _ seed: Int32) -> Int32 {
    let w = _mm512_set1_epi32(seed)
    var a = InlineArray<12, __m512i>(repeating: _mm512_set1_epi32(seed))
    for _ in 0..<n {
        for i in 0..<12 { a[i] = _mm512_dpbusd_epi32(a[i], a[i], w) }
    }
    var s = a[0]
    for i in 1..<12 { s = _mm512_add_epi32(s, a[i]) }
    return unsafeBitCast(s, to: SIMD16<Int32>.self)[0]
}

/// vfmadd231ps on zmm: 16 float MACs per instruction.
@inline(never)
func fma512Loop(_ n: Int, _ seed: Float) -> Float {
    let w = _mm512_set1_ps(seed), x = _mm512_set1_ps(1.0000001)
    var a = InlineArray<12, __m512>(repeating: _mm512_set1_ps(seed))
    for _ in 0..<n {
        for i in 0..<12 { a[i] = _mm512_fmadd_ps(a[i], x, w) }
    }
    var s = a[0]
    for i in 1..<12 { s = _mm512_add_ps(s, a[i]) }
    return unsafeBitCast(s, to: SIMD16<Float>.self)[0]
}
#endif

func run(threads: Int, _ body: @escaping () -> Void) -> Double {
    let start = seconds()
    var handles: [pthread_t] = []
    for _ in 1..<threads {
        var h = pthread_t()
        let b = Unmanaged.passRetained(body as AnyObject)
        _ = b
        pthread_create(&h, nil, { raw in
            let f = Unmanaged<AnyObject>.fromOpaque(raw!).takeRetainedValue() as! () -> Void
            f()
            return nil
        }, Unmanaged.passRetained(body as AnyObject).toOpaque())
        handles.append(h)
    }
    body()
    for h in handles { pthread_join(h, nil) }
    return seconds() - start
}

let n = 50_000_000
for threads in [1, 2] {
    var best = 0.0, bestF = 0.0
    for _ in 0..<3 {
        let t = run(threads: threads) { _ = maddLoop(n, 3) }
        best = max(best, Double(threads * n * 12 * 16) / t / 1e9)
        let tf = run(threads: threads) { _ = fmaLoop(n, 0.5) }
        bestF = max(bestF, Double(threads * n * 12 * 8) / tf / 1e9)
    }
    print("threads \(threads): int16 vpmaddwd+vpaddd \(Int(best)) GMAC/s, fp32 vfmadd231ps ymm \(Int(bestF)) GFMA/s")
    #if DCD_AVX512VNNI
    var bestD = 0.0, bestZ = 0.0
    for _ in 0..<3 {
        let td = run(threads: threads) { _ = dotLoop(n, 3) }
        bestD = max(bestD, Double(threads * n * 12 * 64) / td / 1e9)
        let tz = run(threads: threads) { _ = fma512Loop(n, 0.5) }
        bestZ = max(bestZ, Double(threads * n * 12 * 16) / tz / 1e9)
    }
    print("threads \(threads): u8xs8 vpdpbusd zmm \(Int(bestD)) GMAC/s, fp32 vfmadd231ps zmm \(Int(bestZ)) GFMA/s")
    #endif
}
