/// Numbers as text for the tools' reports (compiler summaries, progress lines, benchmark
/// tables), without Foundation; in the runtime so that every tool and the compiler share it.
/// Fixed-point formatting without Foundation: fixed(3.14159, 2) == "3.14".
public func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (x.magnitude * scale).rounded()
    let whole = Int(r / scale)
    var frac = String(Int(r - Double(whole) * scale))
    while frac.count < digits { frac = "0" + frac }
    return (x < 0 && r != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + frac : "")
}
