import AzureFiles
import Ledger
import Storage
import SystemSupport

/// deprovision and undelete (SPEC.md, "One share per user, across nodes and accounts"): a deletion that
/// cannot surprise, and says afterwards whether anything is recoverable.
extension Node {
    public struct DeprovisionResult: Sendable {
        public var share: String
        public var account: String
        /// Snapshot timestamps deleted with the share (a snapshot cannot outlive its share).
        public var snapshots: [String]
        /// Open handles found (deleted anyway only with --force).
        public var openHandles: [FilesClient.Handle]
        public var moreHandles: Bool
        /// After the delete, from List Shares `include=deleted`: the deleted version and for how many days it
        /// can be restored; nil when the account keeps nothing (soft delete off).
        public var deletedVersion: String?
        public var retentionDays: Int?
        /// This node's leases on the user, deleted under with --force.
        public var localLeases: Int
        public var ledgerRecordRemoved: Bool
        public var dryRun: Bool
    }

    /// Deletes the user's share and all its snapshots. Refused (without `force`) while this node holds a lease
    /// or a mount for the user, or the share has an open SMB handle anywhere (List Handles, recursive); refused
    /// on an account configured `soft_delete = false` unless `allowUnrecoverable`.
    ///
    /// The whole run holds the user's lock (a per-user lock may be held across REST calls; the ledger's never
    /// is): an attach that starts meanwhile waits, then finds the share gone, instead of mounting a share that
    /// is deleted under it and whose record is then erased (issue 15, item 1).
    public func deprovision(_ user: ResolvedUser, force: Bool, allowUnrecoverable: Bool, dryRun: Bool) throws -> DeprovisionResult {
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let entry = try healedLedger(dryRun: dryRun).ledger.entries[user.name]
        let leases = entry?.leases.count ?? 0
        if let e = entry, leases > 0 || e.mounted, !force {
            throw PusError(.other, "\(user.name) still has \(leases) lease(s)\(e.mounted ? " and a mount" : "") on this node; refusing to delete the share",
                           hint: "detach every session first (pus-mount detach \(user.name) --all), or pass --force")
        }
        let az = try azureProvider()
        let found = try az.existingShare(user: user.name, recordedAccount: entry?.backend == "azure" ? entry?.account : nil)
        let client = az.client(found.account)
        if config.accounts.first(where: { $0.name == found.account.name })?.softDelete == false && !allowUnrecoverable {
            throw PusError(.other, "account \(found.account.name) is configured with soft_delete = false: \(found.share) could never be restored",
                           hint: "pass --no-soft-delete to delete it for good, or enable share soft delete on the account (Azure portal: File shares > Soft delete) and set soft_delete = true")
        }
        let (handles, more) = try client.listHandles(share: found.share, limit: 20)
        if !handles.isEmpty && !force {
            let shown = handles.prefix(3).map { "/\($0.path) from \($0.clientIP.isEmpty ? "?" : $0.clientIP)\($0.clientName.isEmpty ? "" : " (\($0.clientName))")" }
            throw PusError(.other, "\(found.share) has \(handles.count)\(more ? "+" : "") open handle(s) (\(shown.joined(separator: ", "))\(handles.count > 3 ? ", ..." : "")); refusing to delete a share in use",
                           hint: "end the sessions that use it (on every node), or pass --force")
        }
        let snapshots = try client.listAllShares(prefix: found.share, include: [.snapshots])
            .filter { $0.name == found.share }.compactMap(\.snapshot)
        var result = DeprovisionResult(share: found.share, account: found.account.name, snapshots: snapshots, openHandles: handles,
                                       moreHandles: more, deletedVersion: nil, retentionDays: nil, localLeases: leases,
                                       ledgerRecordRemoved: false, dryRun: dryRun)
        try client.deleteShare(found.share, includeSnapshots: true)
        if dryRun { return result }
        // Whether anything is recoverable shows only now, in the listing of deleted shares.
        let deleted = try client.listAllShares(prefix: found.share, include: [.deleted])
            .filter { $0.name == found.share && $0.deleted && $0.version != nil }
        if let newest = deleted.max(by: { ($0.version ?? "") < ($1.version ?? "") }) {
            result.deletedVersion = newest.version
            result.retentionDays = newest.remainingRetentionDays
        }
        // The record of a share that is gone goes too, unless a live mount still refers to it (--force).
        if entry != nil && leases == 0 && entry?.mounted != true {
            result.ledgerRecordRemoved = try ledger.update { l in l.entries.removeValue(forKey: user.name) != nil }
        }
        return result
    }

    public struct UndeleteResult: Sendable {
        public var share: String
        public var account: String
        public var version: String
        public var snapshots: [String]
    }

    /// Restores the user's most recently deleted share (Undelete Share) with its data, metadata and snapshots.
    /// Every account is searched; the restored share's owner is checked like any other.
    public func undelete(_ user: ResolvedUser, dryRun: Bool) throws -> UndeleteResult {
        let lock = dryRun ? nil : try userLock(user.name)  // as deprovision: an attach waits for the outcome
        defer { withExtendedLifetime(lock) {} }
        let az = try azureProvider()
        let share = az.shareName(for: user.name)
        if let live = try az.locate(user: user.name) {
            throw PusError(.other, "\(user.name) has a share again (\(live.share) in account \(live.account.name)); Undelete Share restores only under a free name",
                           hint: "deprovision or rename the new share first if the deleted one is the one to keep")
        }
        var candidates: [(AccountSpec, FilesClient.ShareItem)] = []
        for account in az.accounts {
            let items = try az.client(account).listAllShares(prefix: share, include: [.deleted, .metadata])
            candidates += items.filter { $0.name == share && $0.deleted && $0.version != nil }.map { (account, $0) }
        }
        guard let (account, item) = candidates.max(by: { ($0.1.version ?? "") < ($1.1.version ?? "") }) else {
            throw PusError(.other, "no deleted share of \(user.name) (\(share)) can be restored in any configured account",
                           hint: "the retention period may have passed, or share soft delete was off when it was deleted")
        }
        try az.checkOwner(item.metadata, user: user.name, share: share, account: account.name)
        let client = az.client(account)
        try client.undeleteShare(share, version: item.version!)
        let snapshots = dryRun ? [] : try client.listAllShares(prefix: share, include: [.snapshots]).filter { $0.name == share }.compactMap(\.snapshot)
        return UndeleteResult(share: share, account: account.name, version: item.version!, snapshots: snapshots)
    }
}
