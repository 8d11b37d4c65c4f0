import CSupport
import Glibc

/// Thin wrappers over the few system calls the package needs beyond the standard library.
/// Each retries EINTR and throws ``SystemError`` naming the call and path.
public enum Syscalls {
    /// The package's one EINTR loop: calls `call` again while it fails (returns a negative value) with EINTR
    /// (and with `alsoAgain`, EAGAIN). Returns what the last call returned; on failure errno is the call's.
    @inline(__always)
    public static func retryingInterrupts<T: SignedInteger>(alsoAgain: Bool = false, _ call: () -> T) -> T {
        while true {
            let r = call()
            if r < 0 && (errno == EINTR || (alsoAgain && errno == EAGAIN)) { continue }
            return r
        }
    }

    /// open(2) with O_CLOEXEC and O_NOFOLLOW always added, so a planted symlink is refused (ELOOP).
    public static func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws -> Int32 {
        let fd = retryingInterrupts { Glibc.open(path, flags | O_CLOEXEC | O_NOFOLLOW, mode) }
        if fd < 0 { throw SystemError("open", path: path) }
        return fd
    }

    /// The birth time (nanoseconds since the epoch) of the file open as `fd`, or of `name` in directory `fd`
    /// without following a symlink; nil where the file system records none. Unlike an inode number, it is not
    /// reused when a file is deleted and another created.
    public static func birthTime(_ fd: Int32, _ name: String? = nil) -> Int? {
        let atEmptyPath: Int32 = 0x1000  // AT_EMPTY_PATH (a GNU extension the importer leaves out)
        let t = pus_birth_time(fd, name ?? "", name == nil ? atEmptyPath : AT_SYMLINK_NOFOLLOW)
        return t < 0 ? nil : Int(t)
    }

    /// O_PATH (a GNU flag Swift's Glibc module does not export; 010000000 on Linux): a descriptor that only
    /// names a file, for fstat and as an *at anchor.
    public static let pathOnly: Int32 = 0o10000000

    /// openat2(2) confined to `directory`: `path` (relative) may not climb out, be absolute, or cross a symlink
    /// anywhere on the way (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). O_CLOEXEC is always added.
    public static func openBeneath(_ directory: Int32, _ path: String, _ flags: Int32, mode: mode_t = 0) throws -> Int32
    {
        let fd = retryingInterrupts(alsoAgain: true) {
            pus_openat_beneath(directory, path.isEmpty ? "." : path, flags | O_CLOEXEC, UInt32(mode))
        }
        if fd < 0 { throw SystemError("openat2", path: path) }
        return fd
    }

    /// Zeroes `length` bytes at `offset` without writing them (fallocate PUNCH_HOLE|KEEP_SIZE); where the file
    /// system cannot punch holes, writes zeros a megabyte at a time (never one buffer the size of the range).
    public static func zeroRange(_ fd: Int32, offset: Int64, length: Int64) throws {
        if pus_punch_hole(fd, off_t(offset), off_t(length)) == 0 { return }
        guard errno == EOPNOTSUPP || errno == ENOSYS else { throw SystemError("fallocate") }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var done: Int64 = 0
        while done < length {
            let k = Int(min(Int64(zeros.count), length - done))
            try zeros.withUnsafeBytes {
                try pwriteAll(fd, UnsafeRawBufferPointer(rebasing: $0[..<k]), at: offset + done)
            }
            done += Int64(k)
        }
    }

    /// Writes all of `bytes` to `fd` (write(2) in a loop).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String? = nil) throws {
        var offset = 0
        while offset < bytes.count {
            let n = retryingInterrupts { Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset) }
            if n < 0 { throw SystemError("write", path: path) }
            offset += n
        }
    }

    /// Writes all of `bytes` to `fd` at `offset` (pwrite(2) in a loop; a repeat of the same range is harmless).
    public static func pwriteAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String? = nil)
        throws
    {
        var k = 0
        while k < bytes.count {
            let n = retryingInterrupts { pwrite(fd, bytes.baseAddress! + k, bytes.count - k, off_t(offset) + off_t(k)) }
            if n < 0 { throw SystemError("pwrite", path: path) }
            k += n
        }
    }

    /// Reads `fd` to its end, keeping at most `limit` bytes (the rest is read and dropped). A read error ends it.
    public static func readToEnd(_ fd: Int32, limit: Int) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { b in retryingInterrupts { Glibc.read(fd, b.baseAddress, b.count) } }
            if n <= 0 { return out }
            if out.count < limit { out += buf[0..<min(n, limit - out.count)] }
        }
    }

    /// Reads up to `count` bytes (read(2), EINTR retried). Returns 0 at end of file.
    public static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer, path: String? = nil) throws -> Int
    {
        let n = retryingInterrupts { Glibc.read(fd, buffer.baseAddress, buffer.count) }
        if n < 0 { throw SystemError("read", path: path) }
        return n
    }

    /// Reads a whole file, refusing symlinks. It starts with a 4 KiB buffer (enough for a /proc/PID/stat, of
    /// which reconcile reads thousands per pass) and asks fstat(2) for the size only when that fills up.
    public static func readFile(_ path: String) throws -> [UInt8] {
        let fd = try open(path, O_RDONLY)
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: 4096)
        var used = 0
        while true {
            if used == out.count {
                var st = Glibc.stat()
                let size = fstat(fd, &st) == 0 ? Int(st.st_size) + 1 : 0
                out.append(contentsOf: repeatElement(0, count: max(out.count, size - used)))
            }
            let n = try out.withUnsafeMutableBytes {
                try read(fd, into: UnsafeMutableRawBufferPointer(rebasing: $0[used...]), path: path)
            }
            if n == 0 { break }
            used += n
        }
        out.removeSubrange(used...)
        return out
    }

    /// fsync(2).
    public static func fsync(_ fd: Int32, path: String? = nil) throws {
        if retryingInterrupts({ Glibc.fsync(fd) }) != 0 { throw SystemError("fsync", path: path) }
    }

    /// fsync(2) of a directory, to make a rename durable.
    public static func fsyncDirectory(_ path: String) throws {
        let fd = try open(path, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try fsync(fd, path: path)
    }

    /// rename(2).
    public static func rename(_ from: String, _ to: String) throws {
        if Glibc.rename(from, to) != 0 { throw SystemError("rename", path: "\(from) -> \(to)") }
    }

    /// readlink(2); nil when `path` is not a symlink or cannot be read.
    public static func readLink(_ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = Glibc.readlink(path, &buf, buf.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// lstat(2); nil when the path does not exist.
    public static func linkStatus(_ path: String) throws -> Glibc.stat? {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 { return st }
        if errno == ENOENT { return nil }
        throw SystemError("lstat", path: path)
    }

    /// stat(2); nil when the path does not exist.
    public static func fileStatus(_ path: String) throws -> Glibc.stat? {
        var st = Glibc.stat()
        if fstatat(AT_FDCWD, path, &st, 0) == 0 { return st }
        if errno == ENOENT { return nil }
        throw SystemError("stat", path: path)
    }

    /// mkdir(2) with exactly `mode` (chmod after creating: the umask of whoever runs pus-mount, pam_umask's
    /// 077 for one, must not narrow it); an existing directory is not an error. Returns true when created.
    @discardableResult
    public static func mkdir(_ path: String, mode: mode_t) throws -> Bool {
        if Glibc.mkdir(path, mode) == 0 {
            if Glibc.chmod(path, mode) != 0 { throw SystemError("chmod", path: path) }
            return true
        }
        if errno == EEXIST { return false }
        throw SystemError("mkdir", path: path)
    }

    /// Creates `path` and its missing parents with exactly `mode` (like `mkdir -p`); existing ones are left
    /// alone.
    public static func mkdirs(_ path: String, mode: mode_t) throws {
        // The common case (it exists) costs one syscall; walk the components only when a parent is missing.
        if Glibc.mkdir(path, mode) == 0 {
            if Glibc.chmod(path, mode) != 0 { throw SystemError("chmod", path: path) }
            return
        }
        if errno == EEXIST { return }
        guard errno == ENOENT else { throw SystemError("mkdir", path: path) }
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += "/" + part
            try mkdir(prefix, mode: mode)
        }
    }

    /// chown(2) without following a final symlink (lchown).
    public static func chown(_ path: String, uid: uid_t, gid: gid_t) throws {
        if Glibc.lchown(path, uid, gid) != 0 { throw SystemError("lchown", path: path) }
    }

    /// chmod(2).
    public static func chmod(_ path: String, mode: mode_t) throws {
        if Glibc.chmod(path, mode) != 0 { throw SystemError("chmod", path: path) }
    }

    /// unlink(2); a missing file is not an error. Returns true when a file was removed.
    @discardableResult
    public static func unlink(_ path: String) throws -> Bool {
        if Glibc.unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw SystemError("unlink", path: path)
    }

    /// The names in a directory (opendir/readdir), without `.` and `..`.
    public static func directoryEntries(_ path: String) throws -> [String] {
        guard let d = opendir(path) else { throw SystemError("opendir", path: path) }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) {
                String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// rmdir(2). Returns false (and does nothing) when the directory is missing or not empty.
    @discardableResult
    public static func rmdirIfEmpty(_ path: String) throws -> Bool {
        if Glibc.rmdir(path) == 0 { return true }
        if errno == ENOENT || errno == ENOTEMPTY || errno == EEXIST || errno == EBUSY { return false }
        throw SystemError("rmdir", path: path)
    }
}
