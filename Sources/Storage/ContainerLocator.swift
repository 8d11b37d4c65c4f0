import AzureFiles
import SystemSupport

/// A user's Blob container, found and owner-checked.
public struct LocatedContainer: Sendable {
    public let account: AccountSpec
    public let container: String
    public let metadata: [String: String]
}

/// A soft-deleted version of a user's container (List Containers `include=deleted`).
public struct DeletedContainer: Sendable {
    public let account: AccountSpec
    public let container: String
    public let version: String
    public let deletedTime: String?
    public let remainingDays: Int?
}

/// The user's container (SPEC.md, "A container per user"): named like the share, in the account that holds
/// the share, with the share's owner metadata and owner check. One List Containers per account finds it, so a
/// node with an empty ledger finds it too.
extension AzureStorage {
    /// The container name of `user`: the share's name (the same rules hold for both).
    public func containerName(for user: String) -> String { shareName(for: user) }

    /// Live and deleted versions of the user's container in every account (one listing each, prefix = the
    /// name). Live ones are owner-checked; deleted ones count only when they were this user's.
    public func containerVersions(user: String) throws -> (live: [LocatedContainer], deleted: [DeletedContainer]) {
        let name = containerName(for: user)
        var live: [LocatedContainer] = []
        var deleted: [DeletedContainer] = []
        for a in accounts {
            for item in try blobClient(a).listAllContainers(prefix: name) where item.name == name {
                if item.deleted {
                    guard let v = item.version, item.metadata["pus_user"] == user else { continue }
                    deleted.append(
                        DeletedContainer(
                            account: a, container: name, version: v, deletedTime: item.deletedTime,
                            remainingDays: item.remainingRetentionDays))
                } else {
                    try checkContainerOwner(item.metadata, user: user, container: name, account: a.name)
                    live.append(LocatedContainer(account: a, container: name, metadata: item.metadata))
                }
            }
        }
        if live.count > 1 {
            throw StorageError(
                .ambiguous,
                "\(user) has a container \(name) in more than one account (\(live.map(\.account.name).joined(separator: ", "))); pus-mount will not pick one",
                hint: "keep the container that holds the user's data and delete the others, then try again")
        }
        return (live, deleted.sorted { $0.version > $1.version })
    }

    /// Refuses a container whose `pus_user` names someone else (or nobody), before any of its data is touched.
    public func checkContainerOwner(_ metadata: [String: String], user: String, container: String, account: String)
        throws
    {
        try checkOwner(metadata, user: user, share: container, account: account, kind: "container")
    }

    /// The user's existing container, wherever it is; none is a clear error naming what to run.
    public func existingContainer(user: String) throws -> LocatedContainer {
        let (live, deleted) = try containerVersions(user: user)
        if let found = live.first { return found }
        let hint =
            deleted.first.map { d in
                "its container was deleted: `pus-mount undelete \(user) --blob` restores it (\(deleted.count) version(s), the newest for \(Self.daysLeft(d.remainingDays)))"
            } ?? "run `pus-mount provision \(user) --blob` first"
        throw StorageError(
            .noShare,
            "user \(user) has no container (\(containerName(for: user)) is in none of the configured accounts: \(accounts.map(\.name).joined(separator: ", ")))",
            hint: hint)
    }

    /// What ``provisionContainer(user:uid:recordedAccount:)`` found or did.
    public struct ProvisionedContainer: Sendable {
        public let container: String
        public let account: String
        public let created: Bool
    }

    /// Ensures the user's container exists: where one is, it stays (owner-checked); otherwise it is made in the
    /// account of the user's share (the share locator), or, when the user has no share yet, in the placement
    /// winner, which is where the share will go. Never over a deleted container that can still be restored.
    public func provisionContainer(
        user: String, uid: UInt32, recordedAccount: String?, shareAccount: AccountSpec? = nil
    ) throws -> ProvisionedContainer {
        let (live, deleted) = try containerVersions(user: user)
        // The share's account: given by a caller that has just provisioned the share, else the share locator.
        let share = try shareAccount ?? locate(user: user, recordedAccount: recordedAccount)?.account
        if let found = live.first {
            if let share, share.name != found.account.name {
                throw StorageError(
                    .ambiguous,
                    "\(user)'s share is in account \(share.name) but the container \(found.container) is in \(found.account.name)",
                    hint: "a user's share and container belong in one account: move the container's data by hand")
            }
            return ProvisionedContainer(container: found.container, account: found.account.name, created: false)
        }
        if let newest = deleted.first {
            throw StorageError(
                .deletedRestorable,
                "\(user)'s container \(newest.container) was deleted and can be restored (\(deleted.count) version(s); the newest in account \(newest.account.name), for \(Self.daysLeft(newest.remainingDays))); refusing to create a new, empty one in its place",
                hint: "restore it with `pus-mount undelete \(user) --blob` (--version picks another)")
        }
        let home = try share ?? placeNewUser(user)
        let created = try createContainer(user: user, uid: uid, in: home)
        return ProvisionedContainer(container: containerName(for: user), account: home.name, created: created)
    }

    /// Create Container in `account`, private, with the owner metadata in the same request; on 409 (made
    /// meanwhile, or there already) the owner check. True when this call created it.
    @discardableResult
    public func createContainer(user: String, uid: UInt32, in account: AccountSpec) throws -> Bool {
        let name = containerName(for: user)
        let c = blobClient(account)
        let metadata = [("pus_user", user), ("pus_uid", String(uid)), ("pus_created_by", "pus-mount")]
        switch try c.createContainer(name, metadata: metadata) {
        case .created:
            return true
        case .alreadyExists:
            try checkContainerOwner(
                try c.getContainerProperties(name).metadata, user: user, container: name, account: account.name)
            return false
        }
    }
}
