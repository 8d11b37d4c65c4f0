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

/// The one shape of a module's error: a reason from the module's own enum, what was wrong, what to do. Each
/// module declares `typealias XError = Failure<XFailure>` with its reasons; `XError.Reason` is that enum.
public struct Failure<R: Sendable & Equatable>: ExplainedError {
    public typealias Reason = R

    public let reason: Reason
    public let message: String
    public let hint: String?

    public init(_ reason: Reason, _ message: String, hint: String? = nil) {
        self.reason = reason
        self.message = message
        self.hint = hint
    }
}

/// A file or path pus-mount was asked to trust fails ``FilePolicy``.
public typealias FilePolicyError = Failure<FilePolicyFailure>

/// Why a file or path fails FilePolicy: the reasons of ``FilePolicyError``.
public enum FilePolicyFailure: Sendable, Equatable {
    /// A config or key file that is not root's, or is writable (or, for secrets, readable) by others.
    case untrustedFile
    /// A path that must be absolute is not.
    case relativePath
    /// A path someone other than root could redirect, or that is not a regular file.
    case redirectable
}
