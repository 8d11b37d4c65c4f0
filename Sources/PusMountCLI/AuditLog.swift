import AzureFiles
import Glibc
import SystemSupport

/// Appends one JSON line per completed mutating command to `paths.audit_log` (O_APPEND, 0640, root-owned).
/// Never holds a secret: callers pass names, ids and outcomes only. A failure to write is a warning, not an
/// error: the operation itself already happened.
enum AuditLog {
    static func record(path: String, command: String, fields: [(String, JSON)], logger: (String) -> Void) {
        let line = JSON.object([("time", .string(SAS.timestamp(Clock.unixSeconds()))), ("command", .string(command)),
                                     ("pid", .int(Int(getpid()))), ("uid", .int(Int(getuid())))] + fields).text + "\n"
        do {
            let dir = AtomicFile.directory(of: path)
            if try Syscalls.linkStatus(dir) == nil { try Syscalls.mkdirs(dir, mode: 0o750) }
            let fd = try Syscalls.open(path, O_WRONLY | O_APPEND | O_CREAT, mode: 0o640)
            defer { close(fd) }
            try Array(Redaction.redact(line).utf8).withUnsafeBytes { try Syscalls.writeAll(fd, $0, path: path) }
        } catch {
            logger("could not append to the audit log \(path): \(error)")
        }
    }
}
