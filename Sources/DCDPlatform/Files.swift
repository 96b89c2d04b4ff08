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

    /// Whether `path` exists and is not a regular file (a device such as /dev/null or /dev/full,
    /// a FIFO): outputs go straight into those, since renaming over them would replace them.
    public static func isSpecialFile(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) != S_IFREG && (st.st_mode & S_IFMT) != S_IFDIR
    }

    /// Writes `bytes` to `path` through a temporary file in the same directory and a rename:
    /// readers see either the old file or the complete new one. A device or FIFO is written
    /// directly (`isSpecialFile`).
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws(Failure) {
        if isSpecialFile(path) {
            let stream: ByteStream
            do { stream = try ByteStream.writing(path) } catch { throw Failure(path: path, reason: "write failed: \(error.reason)") }
            var failure: Failure?
            bytes.withUnsafeBytes { b in
                do throws(Failure) { try stream.write(b) } catch { failure = error }
            }
            do throws(Failure) { try stream.close(sync: false) } catch { failure = failure ?? error }
            if let failure { throw Failure(path: path, reason: "write failed: \(failure.reason)") }
            return
        }
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

/// A byte stream over a file descriptor (standard input and output, or a file) for raw frame
/// pipelines: whole-buffer reads and writes that retry interrupted and partial transfers.
public struct ByteStream {
    public let descriptor: Int32
    public let name: String

    public init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    /// Opens a file for reading.
    public static func reading(_ path: String) throws(Files.Failure) -> ByteStream {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw Files.Failure(path: path, reason: Files.errnoText()) }
        return ByteStream(descriptor: fd, name: path)
    }

    /// Opens (creates, truncates) a file for writing.
    public static func writing(_ path: String) throws(Files.Failure) -> ByteStream {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Files.Failure(path: path, reason: Files.errnoText()) }
        return ByteStream(descriptor: fd, name: path)
    }

    /// Fills `buffer` unless the stream ends first; returns the bytes read (0 at the end).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Files.Failure) -> Int {
        var done = 0
        while done < buffer.count {
            let n = Glibc.read(descriptor, buffer.baseAddress! + done, buffer.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw Files.Failure(path: name, reason: Files.errnoText()) }
            if n == 0 { break }
            done += n
        }
        return done
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(Files.Failure) {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Files.Failure(path: name, reason: n < 0 ? Files.errnoText() : "nothing written") }
            done += n
        }
    }

    /// Flushes a file to disk (fsync) and closes it.
    public func close(sync: Bool) throws(Files.Failure) {
        if sync && fsync(descriptor) != 0 { throw Files.Failure(path: name, reason: Files.errnoText()) }
        guard Glibc.close(descriptor) == 0 else { throw Files.Failure(path: name, reason: Files.errnoText()) }
    }

    /// Makes writes to a closed pipe fail with EPIPE instead of killing the process.
    public static func ignoreBrokenPipes() { signal(SIGPIPE, SIG_IGN) }

    /// Renames a finished temporary file over its destination.
    public static func rename(_ from: String, to path: String) throws(Files.Failure) {
        guard Glibc.rename(from, path) == 0 else { throw Files.Failure(path: path, reason: Files.errnoText()) }
    }

    public static func remove(_ path: String) { unlink(path) }
}
