import Testing
import DCDRuntime
import DCDTestSupport

struct FixedPointTests {
    @Test func squareRootIsExactFloor() {
        var rng = SeededRandom(seed: 21)
        var values: [UInt64] = [0, 1, 2, 3, 4, 15, 16, 17, UInt64.max, UInt64.max - 1, 1 << 62, (1 << 62) - 1]
        for _ in 0..<2000 { values.append(rng.next() >> (rng.next() % 64)) }
        for n in values {
            let r = FixedPoint.squareRoot(n)
            // floor(sqrt(n)): r^2 <= n < (r + 1)^2, checked in 128-bit arithmetic.
            #expect(UInt128(r) * UInt128(r) <= UInt128(n) && UInt128(r + 1) * UInt128(r + 1) > UInt128(n), "isqrt(\(n)) = \(r)")
        }
    }

    @Test func multiplyRoundsHalfUp() {
        // x * m / 2^s exactly representable halves: 3 * 1 / 2 = 1.5 -> 2; -3 / 2 = -1.5 -> -1.
        #expect(FixedPoint.multiply(3, 1, shift: 1) == 2)
        #expect(FixedPoint.multiply(-3, 1, shift: 1) == -1)
        #expect(FixedPoint.multiply(5, 3, shift: 2) == 4)   // 3.75
        #expect(FixedPoint.multiply(-5, 3, shift: 2) == -4) // -3.75
        var rng = SeededRandom(seed: 4)
        for _ in 0..<1000 {
            let x = Int64(Int32(truncatingIfNeeded: rng.next()) >> 4)
            let m = Int64(1 << 30) + Int64(rng.next() % (1 << 30))
            let s = 20 + Int(rng.next() % 30)
            let exact = Double(x) * Double(m) / Double(Int64(1) << s)
            #expect(abs(Double(FixedPoint.multiply(x, m, shift: s)) - exact) <= 0.5 + 1e-9)
        }
    }
}
