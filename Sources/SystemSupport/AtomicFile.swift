import Glibc

/// Durable, atomic replacement of a small file: a temp file created with its final mode
/// (O_CREAT|O_EXCL|O_NOFOLLOW), write, fsync, rename over the target, fsync of the directory.
/// Readers see either the old or the new content, never a torn one; the mode is never wider in between.
public enum AtomicFile {
    /// Writes `bytes` to `path` with `mode`, owned by `owner` when given (fchown before rename). `beforeRename`
    /// runs once the new content is safely on disk and before it replaces the old (the ledger keeps its backup
    /// there, so a write that fails, ENOSPC say, changes nothing at all).
    ///
    /// With `durable: false` neither the file nor the directory is fsynced (a second copy whose loss in a
    /// crash costs nothing while the first one is durable).
    public static func write(
        _ bytes: [UInt8], to path: String, mode: mode_t, owner: (uid_t, gid_t)? = nil, durable: Bool = true,
        beforeRename: () throws -> Void = {}
    ) throws {
        try writeStreaming(to: path, mode: mode, owner: owner, durable: durable, beforeRename: beforeRename) {
            fd, tmp in
            try bytes.withUnsafeBytes { try Syscalls.writeAll(fd, $0, path: tmp) }
        }
    }

    /// The one temp-then-rename: `body` writes the new content to a temp file beside `path` (created O_EXCL with
    /// exactly `mode` and, when given, `owner`), which is then fsynced and renamed over `path`, and the directory
    /// fsynced (unless `durable` is false). A failure anywhere removes the temp file and leaves `path` as it was.
    public static func writeStreaming(
        to path: String, mode: mode_t, owner: (uid_t, gid_t)? = nil, durable: Bool = true,
        beforeRename: () throws -> Void = {}, _ body: (Int32, String) throws -> Void
    ) throws {
        let dir = directory(of: path)
        let tmp = "\(dir)/.\(basename(of: path)).tmp.\(getpid())"
        _ = try? Syscalls.unlink(tmp)
        let fd = try Syscalls.open(tmp, O_WRONLY | O_CREAT | O_EXCL, mode: mode)
        var ok = false
        defer {
            close(fd)
            if !ok { _ = try? Syscalls.unlink(tmp) }
        }
        // umask may have narrowed the mode; set it exactly.
        if fchmod(fd, mode) != 0 { throw SystemError("fchmod", path: tmp) }
        if let (uid, gid) = owner, fchown(fd, uid, gid) != 0 { throw SystemError("fchown", path: tmp) }
        try body(fd, tmp)
        if durable { try Syscalls.fsync(fd, path: tmp) }
        try beforeRename()
        try Syscalls.rename(tmp, path)
        ok = true
        if durable { try Syscalls.fsyncDirectory(dir) }
    }

    /// Removes temp files (`.<name>.tmp.<pid>`, `<name>.tmp.<pid>`) in `directory` left by writers that were
    /// killed: those whose pid no longer exists.
    public static func sweepStaleTemporaries(in directory: String) {
        for name in (try? Syscalls.directoryEntries(directory)) ?? [] {
            guard let r = name.firstRange(of: ".tmp."), let pid = Int32(name[r.upperBound...]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { _ = try? Syscalls.unlink("\(directory)/\(name)") }
        }
    }

    /// The directory part of `path` ("." for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of `path`.
    public static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
