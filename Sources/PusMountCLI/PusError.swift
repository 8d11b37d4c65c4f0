/// An error the command line reports: a category that decides the exit status, a message that says
/// what was wrong, and a hint that says what to do.
public struct PusError: Error, Sendable, CustomStringConvertible {
    /// Categories with their documented exit status (pus-mount(8), EXIT STATUS).
    public enum Kind: String, Sendable {
        case other, usage, badInput, unknownUser, unavailable, mountFailed, temporary, permission, config

        public var exitCode: Int32 {
            switch self {
            case .other: return 1
            case .usage: return 64
            case .badInput: return 65
            case .unknownUser: return 67
            case .unavailable: return 69
            case .mountFailed: return 73
            case .temporary: return 75
            case .permission: return 77
            case .config: return 78
            }
        }

        /// Stable code for `--json` errors.
        public var code: String {
            switch self {
            case .other: return "failure"
            case .usage: return "usage"
            case .badInput: return "bad_input"
            case .unknownUser: return "unknown_user"
            case .unavailable: return "unavailable"
            case .mountFailed: return "mount_failed"
            case .temporary: return "temporary"
            case .permission: return "permission"
            case .config: return "config"
            }
        }
    }

    public let kind: Kind
    public let message: String
    public let hint: String?

    public init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    public var description: String { hint.map { "\(message): \($0)" } ?? message }
}
