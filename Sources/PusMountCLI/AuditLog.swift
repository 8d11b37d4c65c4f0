import Glibc
import SystemSupport

/// Appends one JSON line per completed mutating command to `paths.audit_log` (O_APPEND, 0640, root-owned).
/// Never holds a secret: callers pass names, ids and outcomes only. A failure to write is a warning, not an
/// error: the operation itself already happened.
enum AuditLog {
    static func record(path: String, command: String, fields: [(String, JSONValue)], logger: (String) -> Void) {
        let line = JSONValue.object([("time", .string(AzureTimestamp.now())), ("command", .string(command)),
                                     ("pid", .int(Int(getpid()))), ("uid", .int(Int(getuid())))] + fields).serialized() + "\n"
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

/// `YYYY-MM-DDTHH:MM:SSZ` of now.
enum AzureTimestamp {
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        func p(_ v: Int32, _ w: Int = 2) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(p(tmv.tm_year + 1900, 4))-\(p(tmv.tm_mon + 1))-\(p(tmv.tm_mday))T\(p(tmv.tm_hour)):\(p(tmv.tm_min)):\(p(tmv.tm_sec))Z"
    }
}
