#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File system access for the command-line tools, over the C library: reads whole files, writes
/// them atomically (a temporary name in the same directory, fsync, rename), so that a crash,
/// a full disk or an error never leaves a half-written output over good data.
public enum Files {
    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var path: String
        public var reason: String
        public var description: String { "\(path): \(reason)" }
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    public static func read(_ path: String) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Failure(path: path, reason: errnoText()) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Failure(path: path, reason: errnoText()) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw Failure(path: path, reason: "not a regular file") }
        var out = [UInt8](repeating: 0, count: Int(st.st_size))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Failure(path: path, reason: errnoText()) }
            if n == 0 { break }
            done += n
        }
        return done == out.count ? out : Array(out[0..<done])
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory and a rename:
    /// readers see either the old file or the complete new one.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(Failure) {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(path: path, reason: "cannot create \(temporary): \(errnoText())") }
        var failure: String? = nil
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failure = errnoText(); break }
            done += n
        }
        if failure == nil && fsync(fd) != 0 { failure = errnoText() }
        if close(fd) != 0 && failure == nil { failure = errnoText() }
        if failure == nil && rename(temporary, path) != 0 { failure = errnoText() }
        if let failure {
            unlink(temporary)
            throw Failure(path: path, reason: "write failed: \(failure); nothing was written")
        }
    }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Modification time in nanoseconds since the epoch, or nil if the file does not exist.
    public static func modificationTime(_ path: String) -> Int? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Int(st.st_mtim.tv_sec) * 1_000_000_000 + Int(st.st_mtim.tv_nsec)
    }

    /// Names in a directory (without "." and ".."), sorted.
    public static func contents(of path: String) throws(Failure) -> [String] {
        guard let dir = opendir(path) else { throw Failure(path: path, reason: errnoText()) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func makeDirectory(_ path: String) throws(Failure) {
        var partial = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            partial += component + "/"
            if !isDirectory(partial) && mkdir(partial, 0o755) != 0 && errno != EEXIST {
                throw Failure(path: path, reason: "cannot create directory: \(errnoText())")
            }
        }
    }
}

extension Files {
    /// Writes to file descriptor 2 (diagnostics of the command-line tools).
    public static func writeStandardError(_ s: String) {
        var bytes = Array(s.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
