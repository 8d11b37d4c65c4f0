/// An error that says what was wrong (`message`) and what to do (`hint`). Each module throws its own type with a
/// reason in its own words; only the command line decides which exit status a reason means (PusMountCLI's
/// ErrorMapping, one table), so no module below it knows about exit codes.
public protocol ExplainedError: Error, Sendable, CustomStringConvertible {
    var message: String { get }
    var hint: String? { get }
}

extension ExplainedError {
    public var description: String { hint.map { "\(message): \($0)" } ?? message }
}

/// A file or path pus-mount was asked to trust fails ``FilePolicy``.
public struct FilePolicyError: ExplainedError {
    public enum Reason: Sendable, Equatable {
        /// A config or key file that is not root's, or is writable (or, for secrets, readable) by others.
        case untrustedFile
        /// A path that must be absolute is not.
        case relativePath
        /// A path someone other than root could redirect, or that is not a regular file.
        case redirectable
    }

    public let reason: Reason
    public let message: String
    public let hint: String?

    public init(_ reason: Reason, _ message: String, hint: String? = nil) {
        self.reason = reason
        self.message = message
        self.hint = hint
    }
}
