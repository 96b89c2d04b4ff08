#if canImport(Glibc)
import Glibc
#endif
import DCDPlatform

/// Runs the built command-line tools from tests (posix_spawn, stdout/stderr captured in files).
public enum TestProcess {
    public struct Result {
        public var status: Int32
        public var stdout: String
        public var stderr: String
        public var stdoutPath: String = ""
    }

    public static func fileExists(_ path: String) -> Bool { Files.exists(path) }

    /// The directory holding the built executables (the test bundle's own build directory).
    public static var binDirectory: String {
        let root = Fixtures.packageRoot
        for candidate in [".build/debug", ".build/x86_64-unknown-linux-gnu/debug", ".build/aarch64-unknown-linux-gnu/debug", ".build/release"] {
            if Files.exists("\(root)/\(candidate)/dcd-run") { return "\(root)/\(candidate)" }
        }
        return "\(root)/.build/debug"
    }

    /// Runs a built tool (or, with a path, any program); `stdin` is a file to read standard
    /// input from (default: /dev/null). Standard output is in `stdout` and, as bytes, in the
    /// file `stdoutPath` of the result.
    public static func run(_ tool: String, _ arguments: [String], stdin: String = "/dev/null") -> Result {
        let scratch = temporaryDirectory()
        let outPath = scratch + "/stdout", errPath = scratch + "/stderr"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let path = tool.hasPrefix("/") ? tool : binDirectory + "/" + tool
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { return Result(status: -1, stdout: "", stderr: "cannot spawn \(path)", stdoutPath: outPath) }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let code = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let out = String(decoding: (try? Files.read(outPath)) ?? [], as: UTF8.self)
        let err = String(decoding: (try? Files.read(errPath)) ?? [], as: UTF8.self)
        return Result(status: code, stdout: out, stderr: err, stdoutPath: outPath)
    }

    /// A fresh directory under /tmp.
    public static func temporaryDirectory() -> String {
        var template = Array("/tmp/dcd-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        return String(cString: template)
    }
}
