import DCDImage
import DCDRuntime

/// A raw stream's frames through the executors' camera-frame path, the one the C API runs: a
/// workspace prepared once for the stream's frame size, then each frame's bytes read straight
/// into the model's first map and its last map written straight into the output bytes. A frame
/// allocates nothing (no image, tensor or float copy of it) and converts colours as the C API
/// does; the image path (`Deraining.derain`, PNG files) makes the same bytes (CAPITests and
/// StreamAndFolderTests hold the two to it).
///
/// Serves rgb24 and nv12 (the layouts `CameraFrame` reads) on the fast executors, when the
/// workspace fits --max-memory (a larger frame is tiled by the image path); `init` returns nil
/// otherwise. Memory: the executor's `workspaceBytes` for the frame size, allocated once, plus its
/// packed weights.
final class PreparedFrames {
    let frame: CameraFrame
    private let workspace: UnsafeMutableRawPointer
    private let model: LoadedModel
    private let parallel: ParallelRunner
    private let anchor: ColorAnchor.Fit?

    init?(_ format: RawFrameFormat, _ deraining: Deraining) throws(RuntimeError) {
        guard let frame = format.cameraFrame else { return nil }
        let bytes: Int
        switch deraining.model {
        case .int8(let e):
            if e.usesReference { return nil }
            bytes = try e.workspaceBytes(height: frame.height, width: frame.width)
        case .float(let e):
            if e.usesReference { return nil }
            bytes = try e.workspaceBytes(height: frame.height, width: frame.width)
        }
        if let budget = deraining.budget, bytes > budget.bytes { return nil }
        let workspace = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        do {
            switch deraining.model {
            case .int8(let e): try e.prepare(height: frame.height, width: frame.width, workspace: workspace, byteCount: bytes)
            case .float(let e): try e.prepare(height: frame.height, width: frame.width, workspace: workspace, byteCount: bytes)
            }
        } catch {
            workspace.deallocate()
            throw error
        }
        self.frame = frame
        self.workspace = workspace
        self.model = deraining.model
        self.parallel = deraining.parallel
        self.anchor = deraining.colorAnchor
    }

    deinit {
        // The executor lets go of the workspace before it is freed.
        switch model {
        case .int8(let e): e.releaseFrame()
        case .float(let e): e.releaseFrame()
        }
        workspace.deallocate()
    }

    /// Derains one frame (`frame.byteCount` bytes) into `output` (as many).
    func derain(_ pixels: UnsafePointer<UInt8>, into output: UnsafeMutablePointer<UInt8>) throws(RuntimeError) {
        switch model {
        case .int8(let e): try e.derain(frame: frame, pixels: pixels, into: output, parallel: parallel, anchor: anchor)
        case .float(let e): try e.derain(frame: frame, pixels: pixels, into: output, parallel: parallel, anchor: anchor)
        }
    }
}
