import CSupport
import Glibc

/// syslog(3) for the few lines pus-mount must leave where an administrator looks first when it runs
/// without a terminal (from the PAM module, a unit, cron). The message is sanitized: control characters
/// (a user name or server text could carry them) are escaped, so one call is one line.
public enum Syslog {
    public enum Facility: Sendable {
        /// authpriv: beside PAM's own lines (auth.log), for what happens at login and logout.
        case authpriv
        /// daemon: units and cron.
        case daemon

        var value: Int32 { self == .authpriv ? pus_log_authpriv() : pus_log_daemon() }
    }

    public enum Level: Sendable {
        case err, warning, notice, info

        var value: Int32 {
            switch self {
            case .err: return pus_log_err()
            case .warning: return pus_log_warning()
            case .notice: return pus_log_notice()
            case .info: return pus_log_info()
            }
        }
    }

    /// Logs `message` as one line with ident `pus-mount` (wraps `syslog(3)` via `pus_syslog`).
    public static func log(_ message: String, facility: Facility, level: Level) {
        pus_syslog("pus-mount", facility.value | level.value, escaped(message))
    }

    /// `message` with every control character written as `\xHH` (``Swift/String/escapingControls(limit:)``).
    public static func escaped(_ message: String) -> String { message.escapingControls(limit: 8192) }
}
