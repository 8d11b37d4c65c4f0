import AzureFiles
import Glibc
import SystemSupport

/// Appends one JSON line per audited command, done or failed, to `paths.audit_log` (O_APPEND, 0640,
/// root-owned; an existing log not root-owned 0600/0640, or one along a directory a user controls, is refused): time, command, outcome, pid, uid and login uid of the caller, then the command's fields.
/// Never holds a secret: callers pass names, ids and outcomes only, and the line is redacted once more. A
/// failure to write is a warning, not an error: the operation itself already happened.
enum AuditLog {
    static func record(
        path: String, command: String, outcome: String = "ok", fields: [(String, JSON)], logger: (String) -> Void
    ) {
        let line =
            JSON.document(
                [
                    ("time", .string(SAS.timestamp(Clock.unixSeconds()))), ("command", .string(command)),
                    ("outcome", .string(outcome)), ("pid", .int(Int(getpid()))), ("uid", .int(Int(getuid()))),
                    ("login_uid", loginUID().map { .int(Int($0)) } ?? .null),
                ] + fields
            ).text + "\n"
        do {
            let dir = AtomicFile.directory(of: path)
            if try Syscalls.linkStatus(dir) == nil { try Syscalls.mkdirs(dir, mode: 0o750) }
            // A security record: only a root-owned log (0600 or 0640) along root-owned directories; a log a
            // user owns, or can write, could be truncated or forged.
            let real = try FilePolicy.checkRootControlledPath(path, kind: "audit log", forbiddenMode: 0o137)
            let fd = try Syscalls.open(real, O_WRONLY | O_APPEND | O_CREAT, mode: 0o640)
            defer { close(fd) }
            try Array(Redaction.redact(line).utf8).withUnsafeBytes { try Syscalls.writeAll(fd, $0, path: path) }
        } catch {
            logger("could not append to the audit log \(path): \(error)")
        }
    }

    /// The audit login uid (pam_loginuid): who logged in, whatever sudo or su did since; nil when unset.
    static func loginUID() -> UInt32? {
        guard let bytes = try? Syscalls.readFile("/proc/self/loginuid"),
            let v = UInt32(String(decoding: bytes, as: UTF8.self).trimmingWhitespace()), v != UInt32.max
        else { return nil }
        return v
    }
}
