import Testing
import DCDRuntime

struct ElementaryFunctionsTests {
    /// tanh values from a 30-digit computation (mpmath), rounded to float32 by the comparison.
    static let tanhTable: [(Float, Double)] = [
        (0, 0), (1e-6, 9.99999999999666666666666e-7), (0.5, 0.462117157260009758502318483643),
        (1, 0.761594155955764888119458282604), (-2, -0.964027580075816883946413724100),
        (3.5, 0.998177897611198709014451386220), (10, 0.999999995877692763729334069907),
        (-25, -1), (100, 1),
    ]

    @Test func tanhIsWithinOneUlp() {
        for (x, t) in Self.tanhTable {
            let got = ElementaryFunctions.tanh(x)
            let want = Float(t)
            // One float32 ulp at the expected value (the result is rounded once from Double).
            #expect(abs(got - want) <= want.ulp.magnitude + Float.leastNonzeroMagnitude, "tanh(\(x)) = \(got), want \(want)")
        }
    }

    @Test func expMatchesKnownValues() {
        #expect(abs(ElementaryFunctions.exp(1) - 2.718281828459045) < 1e-15)
        #expect(abs(ElementaryFunctions.exp(-10) - 4.5399929762484854e-5) < 1e-19)
        #expect(abs(ElementaryFunctions.exp(50) / 5.184705528587072e21 - 1) < 1e-14)
        #expect(ElementaryFunctions.exp(800) == .infinity)
        #expect(ElementaryFunctions.exp(-800) == 0)
    }

    @Test func tanhIsOddAndMonotonic() {
        var previous: Float = -1
        var x: Float = -12
        while x <= 12 {
            let y = ElementaryFunctions.tanh(x)
            #expect(y >= previous, "not monotonic at \(x)")
            #expect(ElementaryFunctions.tanh(-x) == -y)
            previous = y
            x += 0.013
        }
    }
}
