import SystemSupport

/// Why the storage side refused: keys, owners, where a user's share is.
public struct StorageError: ExplainedError {
    public enum Reason: Sendable, Equatable {
        /// A key file or a configured key is unusable (missing, a symlink, empty, not base64).
        case badKey
        /// A key file exists but this process may not read it.
        case keyUnreadable
        /// The share (or directory) belongs to someone else.
        case foreignOwner
        /// The user has no share in any configured account.
        case noShare
        /// The user has a share in more than one account.
        case ambiguous
        /// The user's share was deleted and can be restored: a new one would bury it.
        case deletedRestorable
        /// A local-backend directory is not one pus-mount can trust (a planted symlink or file, the wrong owner).
        case untrustedDirectory
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
