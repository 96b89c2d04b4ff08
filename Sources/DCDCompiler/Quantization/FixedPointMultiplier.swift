/// A positive real multiplier as an integer mantissa and a right shift: real ~ M / 2^shift with
/// M in [2^(bits-1), 2^bits), so the mantissa keeps `bits` significant bits (relative error
/// below 2^-bits). Compile-time only: the int8 path itself never sees a float.
struct FixedPointMultiplier: Equatable {
    var mantissa: Int64
    var shift: Int

    init(_ real: Double, bits: Int = 31) throws {
        guard real > 0, real.isFinite else { throw CheckpointError("cannot represent multiplier \(real) in fixed point") }
        var m = real, e = 0
        while m >= 1 { m /= 2; e += 1 }
        while m < 0.5 { m *= 2; e -= 1 }
        var mantissa = Int64((m * Double(Int64(1) << bits)).rounded())
        var shift = bits - e
        if mantissa == Int64(1) << bits { mantissa >>= 1; shift -= 1 }
        guard shift >= 1 && shift <= 62 else {
            throw CheckpointError("multiplier \(real) is outside the fixed-point range (shift \(shift) not in 1...62)")
        }
        self.mantissa = mantissa
        self.shift = shift
    }
}
