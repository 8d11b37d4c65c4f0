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
        guard let st = try Syscalls.linkStatus(directory) else { throw SystemError("mkdir", errno: ENOENT, path: directory) }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            throw PusError(.permission, "credentials directory \(directory) is not a directory (a symlink?)",
                           hint: "remove it; pus-mount creates it root:root 0700")
        }
        guard st.st_uid == 0 else {
            throw PusError(.permission, "credentials directory \(directory) is owned by uid \(st.st_uid), not root",
                           hint: "chown root:root \(directory) && chmod 0700 \(directory)")
        }
        if st.st_mode & 0o777 != 0o700 { try Syscalls.chmod(directory, mode: 0o700) }
    }

    /// Writes (or replaces) the credentials file for `share`; returns its path. A symlink planted at the
    /// path is refused, not followed or replaced.
    @discardableResult
    public func write(_ creds: CredentialsFile, share: String) throws -> String {
        try prepareDirectory()
        let p = path(for: share)
        if let st = try Syscalls.linkStatus(p), (st.st_mode & S_IFMT) != S_IFREG {
            throw PusError(.permission, "\(p) exists and is not a regular file (a planted symlink?); refusing to write the account key there",
                           hint: "remove \(p) after checking who created it")
        }
        AtomicFile.sweepStaleTemporaries(in: directory)
        try AtomicFile.write(try creds.render(), to: p, mode: 0o600, owner: (0, 0))
        return p
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
