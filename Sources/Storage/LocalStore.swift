import Glibc
import SystemSupport

/// The local backend (the embedded default): one directory per user under `local.root`, owned by the user,
/// mode 0700, bind-mounted at the mountpoint. No network involved.
public struct LocalStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    /// The user's directory.
    public func path(for user: String) -> String { "\(root)/\(user)" }

    /// Creates `<root>/<user>` (0700, owned by uid:gid) when missing; refuses a symlink or another owner.
    public func ensure(user: String, uid: UInt32, gid: UInt32, dryRun: Bool = false) throws -> (
        path: String, created: Bool
    ) {
        let p = path(for: user)
        if let st = try Syscalls.linkStatus(p) {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw StorageError(
                    .untrustedDirectory, "\(p) exists and is not a directory (a symlink or file planted there?)",
                    hint: "move it away; pus-mount will create the directory")
            }
            guard st.st_uid == uid else {
                throw StorageError(
                    .untrustedDirectory, "\(p) is owned by uid \(st.st_uid), not \(user) (uid \(uid))",
                    hint: "chown \(uid):\(gid) \(p) if it really is this user's data")
            }
            return (p, false)
        }
        if dryRun { return (p, true) }
        if try Syscalls.linkStatus(root) == nil {
            try Syscalls.mkdirs(root, mode: 0o755)
        }
        let tmp = "\(root)/.new.\(user).\(getpid())"
        try Syscalls.mkdir(tmp, mode: 0o700)
        try Syscalls.chown(tmp, uid: uid, gid: gid)
        try Syscalls.chmod(tmp, mode: 0o700)
        do {
            try Syscalls.rename(tmp, p)
        } catch {
            _ = try? Syscalls.rmdirIfEmpty(tmp)
            throw error
        }
        return (p, true)
    }
}
