import AzureFiles
import SystemSupport

/// `provision <user> --adopt SHARE` (issue 19, item 5): an existing share (made by hand, or mounted from an
/// fstab line before pus-mount) becomes the user's. The record is the share's own metadata (`pus_user`,
/// `pus_uid`, `pus_adopted`), so every node's locator finds it in its listing; no node state is needed.
extension AzureStorage {
    /// What ``adopt(user:uid:share:accountName:quotaGiB:now:)`` found or did.
    public struct Adopted: Sendable {
        public let share: String
        public let account: String
        /// False when the share was already the user's adopted share (nothing was changed).
        public let marked: Bool
        public let quotaGiB: Int?
        public let quotaChanged: Bool
    }

    /// Marks `share` as `user`'s. Refuses (before any change): a share in none of the configured accounts, or
    /// in several when no account is named (1); a share that belongs to someone else (77); a name in
    /// pus-mount's own name space that is not the user's (77: it may be another user's computed name); a user
    /// who already has another share (1), or a restorable deleted one (67). Idempotent: adopting the user's
    /// adopted share again changes nothing. Existing metadata is kept (Set Share Metadata replaces it all).
    public func adopt(user: String, uid: UInt32, share: String, accountName: String?, quotaGiB: Int?, now: Int) throws
        -> Adopted
    {
        let computed = shareName(for: user)
        if share != computed && share.hasPrefix(prefix + "-") {
            throw StorageError(
                .foreignOwner,
                "\(share) is named like pus-mount's own shares (\(prefix)-...) but is not \(user)'s name (\(computed)); adopting it could take another user's share name",
                hint: "adopt only shares made outside pus-mount; a share pus-mount made is found without --adopt")
        }
        let candidates: [AccountSpec]
        if let accountName {
            guard let a = account(named: accountName) else {
                throw StorageError(
                    .noShare, "--account \(accountName) is not one of the configured accounts",
                    hint: "name one of: \(accounts.map(\.name).joined(separator: ", "))")
            }
            candidates = [a]
        } else {
            candidates = accounts
        }
        var held: [(AccountSpec, FilesClient.ShareProperties)] = []
        for (a, answer) in zip(candidates, lookUp(share, in: candidates)) {
            if let props = try answer.get() { held.append((a, props)) }
        }
        guard let (acct, props) = held.first else {
            throw StorageError(
                .noShare,
                "there is no share \(share) in \(accountName.map { "account \($0)" } ?? "any configured account (\(accounts.map(\.name).joined(separator: ", ")))")",
                hint: "check the name (List Shares, or the portal) and that its account is in [[azure.accounts]]")
        }
        if held.count > 1 {
            throw StorageError(
                .ambiguous,
                "there is a share \(share) in more than one account (\(held.map(\.0.name).joined(separator: ", ")))",
                hint: "name the one to adopt with --account")
        }
        if let owner = props.metadata["pus_user"], owner != user {
            try checkOwner(props.metadata, user: user, share: share, account: acct.name)
        }
        // The user's own storage first: one share per user, and never over a deleted one that can be restored.
        let f = try find(user: user)
        if let current = f.share, current.share != share || current.account.name != acct.name {
            throw StorageError(
                .ambiguous,
                "\(user) already has a share (\(current.share) in account \(current.account.name)); pus-mount keeps one share per user",
                hint:
                    "copy the data into \(current.share), or deprovision it first if \(share) is the one to keep")
        }
        if f.share == nil, let listing = f.versions,
            let newest = listing.deleted.first(where: { !$0.abandoned && $0.share != share })
        {
            throw Self.buried(user: user, newest: newest, versions: listing.deleted.filter { !$0.abandoned }.count)
        }
        let c = client(acct)
        let mark = share == computed ? props.metadata["pus_user"] != user : !Self.isAdopted(props.metadata, by: user)
        if mark {
            var meta = props.metadata.filter { !["pus_user", "pus_uid", Self.adoptedKey].contains($0.key) }.sorted {
                $0.key < $1.key
            }
            meta += [("pus_user", user), ("pus_uid", String(uid))]
            if share != computed { meta.append((Self.adoptedKey, String(now))) }
            try c.setShareMetadata(share, metadata: meta)
        }
        let change = quotaGiB.map { $0 != props.quotaGiB } ?? false
        if change, let q = quotaGiB { try c.setShareQuota(share, quotaGiB: q) }
        return Adopted(
            share: share, account: acct.name, marked: mark, quotaGiB: change ? quotaGiB : props.quotaGiB,
            quotaChanged: change)
    }
}
