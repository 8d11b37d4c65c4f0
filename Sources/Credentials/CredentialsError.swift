import SystemSupport

/// Why a credentials file could not be written or named.
public typealias CredentialsError = Failure<CredentialsFailure>

/// Why a credentials file could not be written or named: the reasons of ``CredentialsError``.
public enum CredentialsFailure: Sendable, Equatable {
    /// A value that would break the file's line format (a line break in a user name or key).
    case badValue
    /// A path outside the credentials directory, or not a `.cred` file.
    case notInDirectory
    /// The directory or file is not what pus-mount made (a symlink, the wrong owner, not a regular file).
    case untrustedPath
}
