import Glibc
import SystemSupport

/// Whether a mount answers: `stat` plus a one-entry `readdir`, run in a child process with a deadline so
/// a dead server cannot hang the caller.
public enum Health: String, Sendable, Codable {
    case ok, stale, auth, hung, missing, error
}

/// Runs the probe child (`<executable> __probe <path>`) and classifies its exit status.
public struct HealthProbe: Sendable {
    public let executable: String
    public let deadline: Double

    public init(executable: String, deadline: Double = 5) {
        self.executable = executable
        self.deadline = deadline
    }

    public func check(_ path: String) -> Health {
        guard let status = ChildProcess.run(executable, ["__probe", path], deadline: deadline) else { return .hung }
        return Self.classify(exitStatus: status)
    }

    /// In-process probe for mounts that cannot hang (the local backend's bind mounts).
    public static func checkInProcess(_ path: String) -> Health { classify(exitStatus: runChild(path: path)) }

    /// The probe child's exit status: 0 ok, else the errno of the failing call (capped at 255).
    public static func classify(exitStatus: Int32) -> Health {
        switch exitStatus {
        case 0: return .ok
        case ENOTCONN, ESTALE, EIO, EHOSTDOWN, ECONNABORTED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH: return .stale
        case EACCES, EPERM, EKEYEXPIRED, EKEYREJECTED: return .auth
        case ENOENT: return .missing
        default: return .error
        }
    }

    /// The child's side: stat and read one directory entry; exit with 0 or the errno.
    public static func runChild(path: String) -> Int32 {
        var st = stat()
        if stat(path, &st) != 0 { return min(errno, 255) }
        guard let d = opendir(path) else { return min(errno, 255) }
        defer { closedir(d) }
        errno = 0
        if readdir(d) == nil && errno != 0 { return min(errno, 255) }
        return 0
    }
}
