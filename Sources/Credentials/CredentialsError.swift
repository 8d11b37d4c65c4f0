import SystemSupport

/// Why a credentials file could not be written or named.
public struct CredentialsError: ExplainedError {
    public enum Reason: Sendable, Equatable {
        /// A value that would break the file's line format (a line break in a user name or key).
        case badValue
        /// A path outside the credentials directory, or not a `.cred` file.
        case notInDirectory
        /// The directory or file is not what pus-mount made (a symlink, the wrong owner, not a regular file).
        case untrustedPath
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
