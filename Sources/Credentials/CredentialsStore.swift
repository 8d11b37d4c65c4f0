import Glibc
import SystemSupport

/// Credentials files under `credentials_dir`: the directory root:root 0700, each file root:root 0600,
/// written atomically (temp file with its final mode, fsync, rename, fsync of the directory), never
/// through a symlink, never chowned to the user (the key unlocks every share of the account).
public struct CredentialsStore: Sendable {
    public let directory: String

    public init(directory: String) { self.directory = directory }

    /// `<dir>/<share>.cred`.
    public func path(for share: String) -> String { "\(directory)/\(share).cred" }

    /// Creates the directory root:root 0700 when missing; refuses a symlink or a non-root owner, and
    /// tightens a wider mode.
    public func prepareDirectory() throws {
        let parent = AtomicFile.directory(of: directory)
        if try Syscalls.linkStatus(parent) == nil { try Syscalls.mkdirs(parent, mode: 0o755) }
        if try Syscalls.linkStatus(directory) == nil {
            try Syscalls.mkdir(directory, mode: 0o700)
        }
        guard let st = try Syscalls.linkStatus(directory) else {
            throw SystemError("mkdir", errno: ENOENT, path: directory)
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw CredentialsError(
                .untrustedPath, "credentials directory \(directory) is not a directory (a symlink?)",
                hint: "remove it; pus-mount creates it root:root 0700")
        }
        guard st.st_uid == 0 else {
            throw CredentialsError(
                .untrustedPath, "credentials directory \(directory) is owned by uid \(st.st_uid), not root",
                hint: "chown root:root \(directory) && chmod 0700 \(directory)")
        }
        if st.st_mode & 0o777 != 0o700 { try Syscalls.chmod(directory, mode: 0o700) }
    }

    /// Writes (or replaces) the credentials file for `share`; returns its path. A symlink planted at the
    /// path is refused, not followed or replaced.
    @discardableResult
    public func write(_ creds: CredentialsFile, share: String) throws -> String {
        try write(creds, to: path(for: share))
    }

    /// Writes (or replaces) the credentials file at `p`, which must lie in this store's directory.
    @discardableResult
    public func write(_ creds: CredentialsFile, to p: String) throws -> String {
        guard AtomicFile.directory(of: p) == directory, p.hasSuffix(".cred") else {
            throw CredentialsError(
                .notInDirectory, "credentials file \(p) is not a .cred file in \(directory)",
                hint:
                    "the ledger records credentials under paths.credentials_dir; run `pus-mount reconcile` after changing it"
            )
        }
        try prepareDirectory()
        if let st = try Syscalls.linkStatus(p), (st.st_mode & S_IFMT) != S_IFREG {
            throw CredentialsError(
                .untrustedPath,
                "\(p) exists and is not a regular file (a planted symlink?); refusing to write the account key there",
                hint: "remove \(p) after checking who created it")
        }
        AtomicFile.sweepStaleTemporaries(in: directory)
        try AtomicFile.write(try creds.render(), to: p, mode: 0o600, owner: (0, 0))
        return p
    }

    /// How the file at `p` compares with `expected`: missing, or wrong (type, owner, mode or content; the text
    /// never includes the content).
    public func check(_ p: String, expected: CredentialsFile) -> CredentialsCheck {
        guard let st = try? Syscalls.linkStatus(p) else { return .missing }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return .wrong("not a regular file") }
        guard st.st_uid == 0, st.st_gid == 0 else { return .wrong("owned by \(st.st_uid):\(st.st_gid), not root:root") }
        guard st.st_mode & 0o7777 == 0o600 else {
            return .wrong("mode \(String(st.st_mode & 0o7777, radix: 8)), not 0600")
        }
        guard let bytes = try? Syscalls.readFile(p), let want = try? expected.render() else {
            return .wrong("unreadable")
        }
        return bytes == want ? .ok : .wrong("its passwords differ from the account's key file")
    }

    /// The `.cred` files in the directory with their age in seconds (from mtime).
    public func files(now: Int) -> [(path: String, age: Int)] {
        ((try? Syscalls.directoryEntries(directory)) ?? []).filter { $0.hasSuffix(".cred") && !$0.hasPrefix(".") }
            .sorted().compactMap { name in
                let p = "\(directory)/\(name)"
                guard let st = try? Syscalls.linkStatus(p), (st.st_mode & S_IFMT) == S_IFREG else { return nil }
                return (p, now - Int(st.st_mtim.tv_sec))
            }
    }

    /// Removes the file at `p` when it is a regular `.cred` file (never through a symlink); true when removed.
    @discardableResult
    public func remove(path p: String) throws -> Bool {
        guard p.hasSuffix(".cred"), let st = try Syscalls.linkStatus(p), (st.st_mode & S_IFMT) == S_IFREG else {
            return false
        }
        return try Syscalls.unlink(p)
    }

    /// Reads the credentials file at `p` when it is a regular file in this store's directory (O_NOFOLLOW); nil
    /// when absent or not one.
    public func read(path p: String) throws -> CredentialsFile? {
        guard AtomicFile.directory(of: p) == directory, let st = try Syscalls.linkStatus(p),
            (st.st_mode & S_IFMT) == S_IFREG
        else { return nil }
        return CredentialsFile.parse(try Syscalls.readFile(p))
    }

    /// Reads the credentials file for `share` (O_NOFOLLOW); nil when absent.
    public func read(share: String) throws -> CredentialsFile? {
        let p = path(for: share)
        guard try Syscalls.linkStatus(p) != nil else { return nil }
        return CredentialsFile.parse(try Syscalls.readFile(p))
    }

    /// Removes the file for `share`; true when one was removed.
    @discardableResult
    public func remove(share: String) throws -> Bool {
        try Syscalls.unlink(path(for: share))
    }
}

/// How a credentials file compares with what the current key files would write.
public enum CredentialsCheck: Sendable, Equatable {
    case ok
    case missing
    /// Wrong type, owner, mode or content (the text says which; never the key).
    case wrong(String)
}
