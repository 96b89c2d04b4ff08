/// The C API of include/dcd.h: `@_cdecl` functions over the executors' host-memory entry points
/// (`workspaceBytes`, `prepare`, `derain(frame:pixels:into:parallel:)`). A `dcd_model *` is an
/// unmanaged reference to `CModel`. Nothing here allocates after load except error messages.
final class CModel {
    enum Executor { case int8(Int8Executor), float(FloatExecutor) }
    let executor: Executor
    var parallel: ParallelRunner = .serial
    /// The `ColorAnchor` run fits to the output's colours (nil: none): the model file's choice
    /// (dcd-compile --color-anchor) until dcd_model_set_color_anchor.
    var anchor: ColorAnchor.Fit?
    /// The last error, NUL-terminated (capacity `messageCapacity`).
    let message: UnsafeMutablePointer<CChar>
    static let messageCapacity = 512

    init(_ executor: Executor) {
        self.executor = executor
        switch executor {
        case .int8(let e): anchor = e.program.colorAnchor
        case .float(let e): anchor = e.program.colorAnchor
        }
        message = .allocate(initialized: Self.messageCapacity, to: 0)
    }

    deinit { message.deallocate() }

    /// Records an error (or clears it with nil) and returns its status.
    func fail(_ status: Int32, _ text: String?) -> Int32 {
        CModel.copy(text ?? "", into: message, capacity: CModel.messageCapacity)
        return status
    }

    static func copy(_ text: String, into buffer: UnsafeMutablePointer<CChar>, capacity: Int) {
        guard capacity > 0 else { return }
        var n = 0
        for byte in text.utf8 where n < capacity - 1 {
            buffer[n] = CChar(bitPattern: byte)
            n += 1
        }
        buffer[n] = 0
    }

    static func status(_ error: RuntimeError) -> Int32 {
        switch error.kind {
        case .invalidModelFile, .invalidProgram: return 1
        case .unsupportedInput: return 2
        case .notPrepared: return 5
        }
    }
}

@inline(__always)
private func model(_ pointer: OpaquePointer?) -> CModel? {
    guard let pointer else { return nil }
    return Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

@_cdecl("dcd_model_load")
public func dcd_model_load(_ bytes: UnsafeRawPointer?, _ byteCount: Int, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                           _ message: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
    func fail(_ status: Int32, _ text: String) -> Int32 {
        if let message { CModel.copy(text, into: message, capacity: capacity) }
        return status
    }
    guard let out else { return fail(3, "no place for the model pointer") }
    out.pointee = nil
    guard let bytes, byteCount > 0 else { return fail(3, "no model bytes") }
    do throws(RuntimeError) {
        let program = try ModelFileReader.read(UnsafeRawBufferPointer(start: bytes, count: byteCount))
        let executor: CModel.Executor = program.precision == .float32 ? .float(try FloatExecutor(program: program)) : .int8(try Int8Executor(program: program))
        out.pointee = OpaquePointer(Unmanaged.passRetained(CModel(executor)).toOpaque())
        if let message { CModel.copy("", into: message, capacity: capacity) }
        return 0
    } catch {
        return fail(CModel.status(error), error.message)
    }
}

@_cdecl("dcd_model_free")
public func dcd_model_free(_ pointer: OpaquePointer?) {
    guard let pointer else { return }
    Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(pointer)).release()
}

@_cdecl("dcd_model_is_int8")
public func dcd_model_is_int8(_ pointer: OpaquePointer?) -> Int32 {
    guard let m = model(pointer), case .int8 = m.executor else { return 0 }
    return 1
}

@_cdecl("dcd_model_color_anchor")
public func dcd_model_color_anchor(_ pointer: OpaquePointer?) -> Int32 {
    guard let m = model(pointer) else { return 0 }
    return Int32(ColorAnchor.Fit.code(of: m.anchor))
}

@_cdecl("dcd_model_set_color_anchor")
public func dcd_model_set_color_anchor(_ pointer: OpaquePointer?, _ mode: Int32) -> Int32 {
    guard let m = model(pointer) else { return 3 }
    guard (0...2).contains(mode) else { return m.fail(3, "colour anchor mode \(mode): 0 (none), 1 (per channel) or 2 (colour matrix)") }
    m.anchor = ColorAnchor.Fit.fromCode(UInt32(mode))
    return m.fail(0, nil)
}

@_cdecl("dcd_model_error")
public func dcd_model_error(_ pointer: OpaquePointer?) -> UnsafePointer<CChar>? {
    guard let m = model(pointer) else { return nil }
    return UnsafePointer(m.message)
}

private let statusNames: StaticString = "DCD_OK\0DCD_INVALID_MODEL\0DCD_UNSUPPORTED_INPUT\0DCD_INVALID_ARGUMENT\0DCD_WORKSPACE_TOO_SMALL\0DCD_NOT_PREPARED\0DCD_UNKNOWN_STATUS\0"

@_cdecl("dcd_status_name")
public func dcd_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    // The names, NUL-separated, in a static string: no allocation.
    let base = UnsafeRawPointer(statusNames.utf8Start).assumingMemoryBound(to: CChar.self)
    var index = status >= 0 && status <= 5 ? Int(status) : 6
    var p = base
    while index > 0 {
        while p.pointee != 0 { p += 1 }
        p += 1
        index -= 1
    }
    return p
}

@_cdecl("dcd_model_workspace_bytes")
public func dcd_model_workspace_bytes(_ pointer: OpaquePointer?, _ width: UInt32, _ height: UInt32) -> Int {
    guard let m = model(pointer) else { return 0 }
    do throws(RuntimeError) {
        let bytes: Int
        switch m.executor {
        case .int8(let e): bytes = try e.workspaceBytes(height: Int(height), width: Int(width))
        case .float(let e): bytes = try e.workspaceBytes(height: Int(height), width: Int(width))
        }
        _ = m.fail(0, nil)
        return bytes
    } catch {
        _ = m.fail(CModel.status(error), error.message)
        return 0
    }
}

@_cdecl("dcd_model_set_threads")
public func dcd_model_set_threads(_ pointer: OpaquePointer?, _ workers: UInt32,
                                  _ parallelFor: (@convention(c) (UnsafeMutableRawPointer?, Int, (@convention(c) (UnsafeMutableRawPointer?, Int) -> Void)?, UnsafeMutableRawPointer?) -> Void)?,
                                  _ hostContext: UnsafeMutableRawPointer?) -> Int32 {
    guard let m = model(pointer) else { return 3 }
    guard let parallelFor, workers > 1 else {
        m.parallel = .serial
        return m.fail(0, nil)
    }
    m.parallel = ParallelRunner(workerCount: Int(workers)) { count, body in
        withoutActuallyEscaping(body) { body in
            withUnsafePointer(to: body) { bodyPointer in
                parallelFor(hostContext, count, { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, UnsafeMutableRawPointer(mutating: bodyPointer))
            }
        }
    }
    return m.fail(0, nil)
}

@_cdecl("dcd_model_prepare")
public func dcd_model_prepare(_ pointer: OpaquePointer?, _ width: UInt32, _ height: UInt32, _ workspace: UnsafeMutableRawPointer?,
                              _ byteCount: Int) -> Int32 {
    guard let m = model(pointer) else { return 3 }
    guard let workspace, Int(bitPattern: workspace) % 64 == 0 else { return m.fail(3, "the workspace must be a 64-byte aligned pointer") }
    do throws(RuntimeError) {
        let needed: Int
        switch m.executor {
        case .int8(let e): needed = try e.workspaceBytes(height: Int(height), width: Int(width))
        case .float(let e): needed = try e.workspaceBytes(height: Int(height), width: Int(width))
        }
        guard byteCount >= needed else {
            return m.fail(4, "a \(width)x\(height) frame needs a workspace of \(needed) bytes, got \(byteCount)")
        }
        switch m.executor {
        case .int8(let e): try e.prepare(height: Int(height), width: Int(width), workspace: workspace, byteCount: byteCount)
        case .float(let e): try e.prepare(height: Int(height), width: Int(width), workspace: workspace, byteCount: byteCount)
        }
        return m.fail(0, nil)
    } catch {
        return m.fail(CModel.status(error), error.message)
    }
}

@_cdecl("dcd_model_run")
public func dcd_model_run(_ pointer: OpaquePointer?, _ format: Int32, _ input: UnsafePointer<UInt8>?, _ output: UnsafeMutablePointer<UInt8>?,
                          _ width: UInt32, _ height: UInt32, _ rowBytes: Int) -> Int32 {
    guard let m = model(pointer) else { return 3 }
    guard let input, let output else { return m.fail(3, "input and output frames are required") }
    let frameFormat: CameraFrame.Format
    switch format {
    case 0: frameFormat = .rgb24
    case 1: frameFormat = .nv12(YCbCr(matrix: .bt601, range: .limited))
    case 2: frameFormat = .nv12(YCbCr(matrix: .bt709, range: .limited))
    case 3: frameFormat = .nv12(YCbCr(matrix: .bt601, range: .full))
    case 4: frameFormat = .nv12(YCbCr(matrix: .bt709, range: .full))
    default: return m.fail(3, "unknown pixel format \(format)")
    }
    let frame = CameraFrame(format: frameFormat, width: Int(width), height: Int(height), rowBytes: rowBytes == 0 ? nil : rowBytes)
    guard frame.isValid else {
        return m.fail(frame.width % 2 != 0 || frame.height % 2 != 0 ? 2 : 3, "invalid \(width)x\(height) frame (NV12 needs even sides; rows need room for the pixels)")
    }
    do throws(RuntimeError) {
        switch m.executor {
        case .int8(let e): try e.derain(frame: frame, pixels: input, into: output, parallel: m.parallel, anchor: m.anchor)
        case .float(let e): try e.derain(frame: frame, pixels: input, into: output, parallel: m.parallel, anchor: m.anchor)
        }
        return m.fail(0, nil)
    } catch {
        return m.fail(CModel.status(error), error.message)
    }
}
