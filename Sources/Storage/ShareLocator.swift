import AzureFiles
import SystemSupport

/// Where a user's share is (SPEC.md, "One share per user, across nodes and accounts").
public struct LocatedShare: Sendable {
    public let account: AccountSpec
    public let share: String
    /// The share's properties as the owner check read them.
    public let properties: FilesClient.ShareProperties
}

/// The one locator of a user's share, used by every command. Nodes never talk to each other, so the answer
/// must come from Azure, the shared truth: the account this node's ledger records (one request), else every
/// configured account at once (weight 0 included: a drained account still holds its users), each answer
/// owner-checked. Only when every account has answered "not found" may a caller create the share, in the
/// placement winner; an account that could not be asked stops creation, because the user's data may be there.
extension AzureStorage {
    /// The user's share, or nil when no configured account has it (every account answered 404).
    /// Throws 77 when a share of that name belongs to someone else, 1 when two accounts both hold one, and the
    /// lookup's own error when an account could not be asked and no other has the share.
    public func locate(user: String, recordedAccount: String? = nil) throws -> LocatedShare? {
        let share = shareName(for: user)
        var asked: Set<String> = []
        if let name = recordedAccount, let acct = account(named: name) {
            asked.insert(name)
            do {
                let props = try client(acct).getShareProperties(share)
                try checkOwner(props.metadata, user: user, share: share, account: acct.name)
                return LocatedShare(account: acct, share: share, properties: props)
            } catch let e as AzureError where e.code == .shareNotFound {
                // Deleted elsewhere, or the ledger is stale: ask every account, as for an unrecorded user.
            }
        }
        let others = accounts.filter { !asked.contains($0.name) }
        let answers = lookUp(share, in: others)
        var found: [LocatedShare] = []
        var failures: [(AccountSpec, any Error)] = []
        for (acct, answer) in zip(others, answers) {
            switch answer {
            case .success(let props?):
                try checkOwner(props.metadata, user: user, share: share, account: acct.name)
                found.append(LocatedShare(account: acct, share: share, properties: props))
            case .success(nil):
                continue
            case .failure(let e):
                failures.append((acct, e))
            }
        }
        if found.count > 1 {
            throw StorageError(
                .ambiguous,
                "\(user) has a share \(share) in more than one account (\(found.map(\.account.name).joined(separator: ", "))); pus-mount will not pick one",
                hint: "keep the share that holds the user's data and delete or rename the others, then try again")
        }
        if let one = found.first { return one }
        if let (acct, e) = failures.first {
            // Not knowing is not "not found": creating now could give the user a second, empty share.
            throw ShareLookupError(account: acct.name, user: user, share: share, underlying: e)
        }
        return nil
    }

    /// Get Share Properties of `share` in each account, side by side (one thread per extra account, each
    /// account with its own client and connection): nil for 404.
    func lookUp(_ share: String, in accounts: [AccountSpec]) -> [Result<FilesClient.ShareProperties?, any Error>] {
        let clients = accounts.map { client($0) }
        guard clients.count > 1 else { return clients.map { Self.ask($0, share) } }
        let pending = clients.dropFirst().map { c in
            let box = UncheckedBox(c)
            return Pending { Self.ask(box.value, share) }
        }
        let first = Self.ask(clients[0], share)
        return [first] + pending.map { p in Result { try p.wait().get() } }
    }

    static func ask(_ c: FilesClient, _ share: String) -> Result<FilesClient.ShareProperties?, any Error> {
        Result {
            do { return try c.getShareProperties(share) } catch let e as AzureError where e.code == .shareNotFound {
                return nil
            }
        }
    }
}

/// A soft-deleted version of a user's share (List Shares `include=deleted`), owner-checked.
public struct DeletedShare: Sendable {
    public let account: AccountSpec
    public let share: String
    /// The version Undelete Share restores.
    public let version: String
    public let deletedTime: String?
    public let remainingDays: Int?
    /// Given up with `deprovision --purge-deleted` (`pus_abandoned` metadata): it no longer stops a new share.
    public let abandoned: Bool
}

extension AzureStorage {
    /// Every version of the user's share in every account: the live shares of that name (with their quota and
    /// metadata) and the soft-deleted ones, newest first. List Shares with the share name as prefix and
    /// `include=deleted,metadata` (one request per account). A deleted share whose `pus_user` names someone else
    /// is not the user's and is left out; a live one is returned as it is (the caller checks its owner).
    public func shareVersions(user: String) throws -> (
        live: [(account: AccountSpec, item: FilesClient.ShareItem)], deleted: [DeletedShare]
    ) {
        let share = shareName(for: user)
        var out: [DeletedShare] = []
        var live: [(account: AccountSpec, item: FilesClient.ShareItem)] = []
        for a in accounts {
            for item in try client(a).listAllShares(prefix: share, include: [.deleted, .metadata])
            where item.name == share && item.snapshot == nil {
                guard item.deleted else {
                    live.append((a, item))
                    continue
                }
                guard let v = item.version, item.metadata["pus_user"] == user else { continue }
                out.append(
                    DeletedShare(
                        account: a, share: share, version: v, deletedTime: item.deletedTime,
                        remainingDays: item.remainingRetentionDays,
                        abandoned: item.metadata["pus_abandoned"] != nil))
            }
        }
        return (live, out.sorted { $0.version > $1.version })
    }

    /// Refuses (67) to create a new share for `user` while no live share exists and a soft-deleted one that
    /// was not given up can still be restored: a login must not bury the user's data under an empty share of
    /// the same name. Returns the account of the user's live share, when the listing found one.
    @discardableResult
    public func refuseOverDeleted(user: String) throws -> AccountSpec? {
        let (live, deleted) = try shareVersions(user: user)
        if let (account, item) = live.first {
            try checkOwner(item.metadata, user: user, share: item.name, account: account.name)
            return account
        }
        let kept = deleted.filter { !$0.abandoned }
        guard let newest = kept.first else { return nil }
        throw Self.buried(user: user, newest: newest, versions: kept.count)
    }

    /// The refusal to create a share over a restorable deleted one (67).
    static func buried(user: String, newest: DeletedShare, versions: Int) -> StorageError {
        StorageError(
            .deletedRestorable,
            "\(user)'s share \(newest.share) was deleted and can be restored (\(versions) version(s); the newest in account "
                + "\(newest.account.name), for \(Self.daysLeft(newest.remainingDays))); refusing to create a new, empty share in its place",
            hint:
                "restore it with `pus-mount undelete \(user)` (--version picks another), or give it up with `pus-mount deprovision \(user) --purge-deleted`"
        )
    }

    /// "7 more day(s)" for a retention count.
    public static func daysLeft(_ n: Int?) -> String { n.map { "\($0) more day(s)" } ?? "an unknown time" }
}

/// An account that could not be asked whether it holds the user's share; carries the underlying error, whose
/// kind (unreachable, throttled, refused) decides the exit status.
public struct ShareLookupError: Error, CustomStringConvertible {
    public let account: String
    public let user: String
    public let share: String
    public let underlying: any Error

    public var description: String {
        "could not ask account \(account) whether \(user)'s share \(share) is there, so nothing was created"
    }
}

/// A non-Sendable value handed to exactly one other thread, which alone uses it until the handing thread
/// waits for the result.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
