import DCDRuntime

/// The module list of the reference ResnetGenerator (`nn.Sequential` named `model`), with the
/// index each module has there: the index is part of every state_dict key. Expected keys and the
/// graph are both derived from this one list, so they cannot disagree.
/// See ../shared/design/dcd-gan.md for the table this follows.
enum GeneratorModule: Equatable {
    case reflectPad(Int)
    /// Conv2d with bias: keys model.<i>.weight (cout, cin, k, k) and model.<i>.bias.
    case conv(index: Int, cin: Int, cout: Int, kernel: Int, stride: Int, padding: Int)
    /// ConvTranspose2d 3x3 s2 p1 op1 with bias: weight (cin, cout, 3, 3).
    case convTranspose(index: Int, cin: Int, cout: Int)
    case instanceNorm
    case relu
    /// Blur-pool Downsample(channels): buffer model.<i>.filt (C, 1, 3, 3).
    case downsample(index: Int, channels: Int)
    /// Blur Upsample(channels): buffer model.<i>.filt (C, 1, 4, 4).
    case upsample(index: Int, channels: Int)
    /// ResnetBlock(dim): conv_block.1 and conv_block.5 convolutions.
    case resnetBlock(index: Int, dim: Int)
    case tanh

    static func modules(_ a: GeneratorArchitecture) -> [GeneratorModule] {
        let ngf = a.ngf
        var m: [GeneratorModule] = [.reflectPad(3), .conv(index: 1, cin: 3, cout: ngf, kernel: 7, stride: 1, padding: 0), .instanceNorm, .relu]
        var i = 4
        for mult in [1, 2] {
            if a.noAntialias {
                m += [.conv(index: i, cin: ngf * mult, cout: ngf * mult * 2, kernel: 3, stride: 2, padding: 1), .instanceNorm, .relu]
                i += 3
            } else {
                m += [.conv(index: i, cin: ngf * mult, cout: ngf * mult * 2, kernel: 3, stride: 1, padding: 1), .instanceNorm, .relu,
                      .downsample(index: i + 3, channels: ngf * mult * 2)]
                i += 4
            }
        }
        for _ in 0..<a.blockCount {
            m.append(.resnetBlock(index: i, dim: ngf * 4))
            i += 1
        }
        for mult in [4, 2] {
            if a.noAntialiasUp {
                m += [.convTranspose(index: i, cin: ngf * mult, cout: ngf * mult / 2), .instanceNorm, .relu]
                i += 3
            } else {
                m += [.upsample(index: i, channels: ngf * mult),
                      .conv(index: i + 1, cin: ngf * mult, cout: ngf * mult / 2, kernel: 3, stride: 1, padding: 1), .instanceNorm, .relu]
                i += 4
            }
        }
        m += [.reflectPad(3), .conv(index: i + 1, cin: ngf, cout: 3, kernel: 7, stride: 1, padding: 0), .tanh]
        return m
    }

    /// The state_dict keys and shapes the architecture has, in module order.
    static func expectedKeys(_ a: GeneratorArchitecture) -> [(String, [Int])] {
        var keys: [(String, [Int])] = []
        for module in modules(a) {
            switch module {
            case .conv(let i, let cin, let cout, let k, _, _):
                keys += [("model.\(i).weight", [cout, cin, k, k]), ("model.\(i).bias", [cout])]
            case .convTranspose(let i, let cin, let cout):
                keys += [("model.\(i).weight", [cin, cout, 3, 3]), ("model.\(i).bias", [cout])]
            case .downsample(let i, let c):
                keys.append(("model.\(i).filt", [c, 1, 3, 3]))
            case .upsample(let i, let c):
                keys.append(("model.\(i).filt", [c, 1, 4, 4]))
            case .resnetBlock(let i, let d):
                for j in [1, 5] {
                    keys += [("model.\(i).conv_block.\(j).weight", [d, d, 3, 3]), ("model.\(i).conv_block.\(j).bias", [d])]
                }
            case .reflectPad, .instanceNorm, .relu, .tanh:
                break
            }
        }
        return keys
    }

    /// The fixed binomial filters of the antialiased layers, as the reference code builds them:
    /// Downsample: outer([1,2,1],[1,2,1]) / 16; Upsample: outer([1,3,3,1],[1,3,3,1]) / 64 * 4
    /// (the factor stride^2 keeps the mean after zero-insertion).
    static func blurFilter(kernel: Int) -> [Float] {
        let taps: [Float] = kernel == 3 ? [1, 2, 1] : [1, 3, 3, 1]
        let sum = taps.reduce(0, +)
        let scale: Float = kernel == 3 ? 1 : 4
        var f: [Float] = []
        for a in taps { for b in taps { f.append(a * b / (sum * sum) * scale) } }
        return f
    }
}
