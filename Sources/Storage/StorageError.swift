import SystemSupport

/// Why the storage side refused: keys, owners, where a user's share is.
public typealias StorageError = Failure<StorageFailure>

/// Why the storage side refused: the reasons of ``StorageError``.
public enum StorageFailure: Sendable, Equatable {
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
    /// No configured account takes a new user (all full or draining): worth retrying once an account is added.
    case noCapacity
    /// A local-backend directory is not one pus-mount can trust (a planted symlink or file, the wrong owner).
    case untrustedDirectory
}
