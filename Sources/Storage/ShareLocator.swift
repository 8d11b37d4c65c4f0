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
    public func locate(user: String, recordedAccount: String? = nil, recordedShare: String? = nil) throws
        -> LocatedShare?
    {
        try find(user: user, recordedAccount: recordedAccount, recordedShare: recordedShare).share
    }

    /// What the locator found: the user's share, or, when no account holds one under the computed name, the
    /// listing that looked for an adopted one (``ShareVersions``, reused by callers that go on to create).
    public struct Finding {
        public let share: LocatedShare?
        /// Set when the listing was made (the computed name is in no account).
        public let versions: ShareVersions?
    }

    /// ``locate(user:recordedAccount:recordedShare:)`` with the listing it made, if any. `recordedShare` is the
    /// share this node's ledger records (an adopted share's name is not the computed one).
    public func find(user: String, recordedAccount: String? = nil, recordedShare: String? = nil) throws -> Finding {
        let share = shareName(for: user)
        var asked: Set<String> = []
        if let name = recordedAccount, let acct = account(named: name) {
            let recorded = recordedShare ?? share
            if recorded == share { asked.insert(name) }
            do {
                let props = try client(acct).getShareProperties(recorded)
                try checkOwner(props.metadata, user: user, share: recorded, account: acct.name)
                return Finding(share: LocatedShare(account: acct, share: recorded, properties: props), versions: nil)
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
        if let one = found.first { return Finding(share: one, versions: nil) }
        if let (acct, e) = failures.first {
            // Not knowing is not "not found": creating now could give the user a second, empty share.
            throw ShareLookupError(account: acct.name, user: user, share: share, underlying: e)
        }
        // No account holds the computed name: an adopted share is found by its metadata, in the listing that
        // also says which deleted versions there are (one List Shares per account; a new user pays it once).
        let versions = try shareVersions(user: user)
        return Finding(share: try liveShare(in: versions, user: user), versions: versions)
    }

    /// The user's live share in a listing: the computed name first, else the one adopted share (two adopted
    /// shares are not guessed between), owner-checked.
    public func liveShare(in versions: ShareVersions, user: String) throws -> LocatedShare? {
        let share = shareName(for: user)
        let adopted = versions.live.filter { $0.item.name != share }
        guard let (account, item) = versions.live.first(where: { $0.item.name == share }) ?? adopted.first else {
            return nil
        }
        if item.name != share && adopted.count > 1 {
            throw StorageError(
                .ambiguous,
                "\(user) has more than one adopted share (\(adopted.map { "\($0.item.name) in \($0.account.name)" }.joined(separator: ", "))); pus-mount will not pick one",
                hint: "remove the pus_adopted metadata from every share but the user's one, then try again")
        }
        try checkOwner(item.metadata, user: user, share: item.name, account: account.name)
        return LocatedShare(
            account: account, share: item.name,
            properties: FilesClient.ShareProperties(quotaGiB: item.quotaGiB, metadata: item.metadata))
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

/// The user's shares in a listing of every account (``AzureStorage/shareVersions(user:)``).
public struct ShareVersions: Sendable {
    /// Live shares under the computed name, then adopted ones; owners not yet checked.
    public let live: [(account: AccountSpec, item: FilesClient.ShareItem)]
    /// Soft-deleted versions that are the user's, newest first.
    public let deleted: [DeletedShare]
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
    /// Every version of the user's share in every account: the live shares under the computed name (with their
    /// quota and metadata) and the ones adopted for the user (`pus_adopted` and `pus_user` metadata; computed
    /// name first), and the soft-deleted ones, newest first. List Shares with `include=deleted,metadata`, without
    /// a prefix since an adopted share may have any name (one request per account and 5,000 shares). A deleted
    /// share whose `pus_user` names someone else is not the user's and is left out; a live one under the computed
    /// name is returned as it is (the caller checks its owner).
    public func shareVersions(user: String) throws -> ShareVersions {
        let share = shareName(for: user)
        var out: [DeletedShare] = []
        var live: [(account: AccountSpec, item: FilesClient.ShareItem)] = []
        var adopted: [(account: AccountSpec, item: FilesClient.ShareItem)] = []
        for a in accounts {
            let items = try client(a).listAllShares(prefix: nil, include: [.deleted, .metadata])
            noteShareCount(items, in: a)  // placement of a new user needs no second listing of the account
            for item in items
            where item.snapshot == nil && (item.name == share || Self.isAdopted(item.metadata, by: user)) {
                guard item.deleted else {
                    if item.name == share { live.append((a, item)) } else { adopted.append((a, item)) }
                    continue
                }
                guard let v = item.version, item.metadata["pus_user"] == user else { continue }
                out.append(
                    DeletedShare(
                        account: a, share: item.name, version: v, deletedTime: item.deletedTime,
                        remainingDays: item.remainingRetentionDays,
                        abandoned: item.metadata["pus_abandoned"] != nil))
            }
        }
        return ShareVersions(live: live + adopted, deleted: out.sorted { $0.version > $1.version })
    }

    /// The metadata that marks a share adopted for a user (`provision --adopt`): its name is not the computed
    /// one, so the locator finds it by this mark.
    public static let adoptedKey = "pus_adopted"

    /// Whether `metadata` marks a share adopted for `user`.
    public static func isAdopted(_ metadata: [String: String], by user: String) -> Bool {
        metadata["pus_user"] == user && metadata[adoptedKey] != nil
    }

    /// Refuses (67) to create a new share for `user` while no live share exists and a soft-deleted one that
    /// was not given up can still be restored: a login must not bury the user's data under an empty share of
    /// the same name. Returns the user's live share, when the listing (`versions`, else a new one) found one.
    @discardableResult
    public func refuseOverDeleted(user: String, versions: ShareVersions? = nil) throws -> LocatedShare? {
        let v = try versions ?? shareVersions(user: user)
        if let live = try liveShare(in: v, user: user) { return live }
        let kept = v.deleted.filter { !$0.abandoned }
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
