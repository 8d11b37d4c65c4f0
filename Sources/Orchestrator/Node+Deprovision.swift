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
        /// False with `--purge-deleted` when there was no live share to delete.
        public var deletedLive = true
        /// Deleted versions given up with `--purge-deleted`.
        public var abandoned: [DeletedShare] = []
    }

    /// Deletes the user's share and all its snapshots. Refused (without `force`) while this node holds a lease
    /// or a mount for the user, or the share has an open SMB handle anywhere (List Handles, recursive); refused
    /// on an account configured `soft_delete = false` unless `allowUnrecoverable`.
    ///
    /// The whole run holds the user's lock (a per-user lock may be held across REST calls; the ledger's never
    /// is): an attach that starts meanwhile waits, then finds the share gone, instead of mounting a share that
    /// is deleted under it and whose record is then erased (issue 15, item 1).
    ///
    /// With `purgeDeleted` a missing live share is no error, and afterwards every restorable deleted version is
    /// given up (``abandonDeletedShares(_:holding:dryRun:)``), so that the next attach creates a new share.
    public func deprovision(
        _ user: ResolvedUser, force: Bool, allowUnrecoverable: Bool, purgeDeleted: Bool = false, dryRun: Bool
    ) throws -> DeprovisionResult {
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let entry = try healedLedger(dryRun: dryRun).ledger.entries[user.name]
        let leases = entry?.leases.count ?? 0
        if let e = entry, leases > 0 || e.mounted, !force {
            throw OrchestratorError(
                .refused,
                "\(user.name) still has \(leases) lease(s)\(e.mounted ? " and a mount" : "") on this node; refusing to delete the share",
                hint: "detach every session first (pus-mount detach \(user.name) --all), or pass --force")
        }
        let az = try azure()
        let recorded = entry?.account
        if purgeDeleted, try az.locate(user: user.name, recordedAccount: recorded) == nil {
            var r = DeprovisionResult(
                share: az.shareName(for: user.name), account: az.placement(for: user.name).name, snapshots: [],
                openHandles: [],
                moreHandles: false, localLeases: leases, ledgerRecordRemoved: false, dryRun: dryRun)
            r.deletedLive = false
            r.abandoned = try abandonDeletedShares(user, holding: lock, dryRun: dryRun)
            if let a = r.abandoned.first { r.account = a.account.name }
            return r
        }
        let found = try az.existingShare(user: user.name, recordedAccount: recorded)
        let client = az.client(found.account)
        if config.accounts.first(where: { $0.name == found.account.name })?.softDelete == false && !allowUnrecoverable {
            throw OrchestratorError(
                .refused,
                "account \(found.account.name) is configured with soft_delete = false: \(found.share) could never be restored",
                hint:
                    "pass --no-soft-delete to delete it for good, or enable share soft delete on the account (Azure portal: File shares > Soft delete) and set soft_delete = true"
            )
        }
        let (handles, more) = try client.listHandles(share: found.share, limit: 20)
        if !handles.isEmpty && !force {
            let shown = handles.prefix(3).map { h -> String in
                let address = Self.address(ofClient: h.clientIP)
                let name = knownName(ofClient: address, given: h.clientName.isEmpty ? nil : h.clientName)
                return "/\(h.path) from \(address.isEmpty ? "?" : address)\(name.map { " (\($0))" } ?? "")"
            }
            throw OrchestratorError(
                .refused,
                "\(found.share) has \(handles.count)\(more ? "+" : "") open handle(s) (\(shown.joined(separator: ", "))\(handles.count > 3 ? ", ..." : "")); refusing to delete a share in use",
                hint: "end the sessions that use it (on every node), or pass --force")
        }
        let snapshots = try client.listAllShares(prefix: found.share, include: [.snapshots])
            .filter { $0.name == found.share }.compactMap(\.snapshot)
        var result = DeprovisionResult(
            share: found.share, account: found.account.name, snapshots: snapshots, openHandles: handles,
            moreHandles: more, deletedVersion: nil, retentionDays: nil, localLeases: leases,
            ledgerRecordRemoved: false, dryRun: dryRun)
        // The plan: the share goes, and the record of a share that is gone goes too, unless a live mount still
        // refers to it (--force). A failure after the delete undoes it (Undelete Share of the version it left).
        let forget = entry != nil && leases == 0 && entry?.mounted != true
        try perform(
            [.deleteShare(share: found.share, account: found.account.name)] + (forget ? [.forgetUser] : []),
            for: .user(user), holding: lock, dryRun: dryRun)
        if dryRun { return result }
        result.ledgerRecordRemoved = forget
        // Whether anything is recoverable shows only now, in the listing of deleted shares.
        let deleted = try client.listAllShares(prefix: found.share, include: [.deleted])
            .filter { $0.name == found.share && $0.deleted && $0.version != nil }
        if let newest = deleted.max(by: { ($0.version ?? "") < ($1.version ?? "") }) {
            result.deletedVersion = newest.version
            result.retentionDays = newest.remainingRetentionDays
        }
        if purgeDeleted { result.abandoned = try abandonDeletedShares(user, holding: lock, dryRun: dryRun) }
        return result
    }

    public struct UndeleteResult: Sendable {
        public var share: String
        public var account: String
        public var version: String
        public var snapshots: [String]
        /// Every deleted version of the user's share there was to choose from, newest first.
        public var versions: [DeletedShare]
    }

    /// Restores a deleted share of the user (Undelete Share) with its data, metadata and snapshots: `version`
    /// (one of the listed ones), else the newest not given up. Every account is searched; the restored share's
    /// owner is checked like any other.
    public func undelete(_ user: ResolvedUser, version: String? = nil, dryRun: Bool) throws -> UndeleteResult {
        let lock = dryRun ? nil : try userLock(user.name)  // as deprovision: an attach waits for the outcome
        defer { withExtendedLifetime(lock) {} }
        let az = try azure()
        let share = az.shareName(for: user.name)
        if let live = try az.locate(user: user.name) {
            throw OrchestratorError(
                .refused,
                "\(user.name) has a share again (\(live.share) in account \(live.account.name)); Undelete Share restores only under a free name",
                hint: "deprovision or rename the new share first if the deleted one is the one to keep")
        }
        let versions = try az.shareVersions(user: user.name).deleted
        let listed = versions.map {
            "\($0.version) (\($0.account.name), deleted \($0.deletedTime ?? "?"), \(AzureStorage.daysLeft($0.remainingDays))\($0.abandoned ? ", given up" : ""))"
        }
        let chosen: DeletedShare
        if let version {
            guard let v = versions.first(where: { $0.version == version }) else {
                throw OrchestratorError(
                    .invalidArgument,
                    "--version \(UserPolicy.quoted(version)) is not a deleted version of \(share)\(listed.isEmpty ? " (there is none)" : "; there are: \(listed.joined(separator: "; "))")",
                    hint: "pass one of the listed versions")
            }
            chosen = v
        } else if let v = versions.first(where: { !$0.abandoned }) {
            chosen = v
        } else if !versions.isEmpty {
            throw OrchestratorError(
                .failed,
                "every deleted version of \(share) was given up (deprovision --purge-deleted): \(listed.joined(separator: "; "))",
                hint: "pass --version to restore one anyway")
        } else {
            throw OrchestratorError(
                .failed, "no deleted share of \(user.name) (\(share)) can be restored in any configured account",
                hint: "the retention period may have passed, or share soft delete was off when it was deleted")
        }
        let client = az.client(chosen.account)
        let name = chosen.share  // an adopted share comes back under its own name
        // The restored share is checked like any other before anyone uses it; a foreign one is deleted again.
        try perform(
            [
                .restoreShare(share: name, account: chosen.account.name, version: chosen.version),
                .checkShareOwner(share: name, account: chosen.account.name),
            ],
            for: .user(user), holding: lock, dryRun: dryRun)
        let snapshots =
            dryRun
            ? []
            : try client.listAllShares(prefix: name, include: [.snapshots]).filter { $0.name == name }.compactMap(
                \.snapshot)
        return UndeleteResult(
            share: name, account: chosen.account.name, version: chosen.version, snapshots: snapshots,
            versions: versions)
    }

    /// `deprovision --purge-deleted`: gives up every restorable deleted version of the user's share so that a
    /// new share may be created. A Shared Key client cannot purge a soft-deleted share (the retention is the
    /// account's policy, set through Azure's management API), so each version is restored, marked
    /// `pus_abandoned` (Set Share Metadata) and deleted again: it stays recoverable by hand until its
    /// retention ends, but no longer stops attach and provision. Needs the name free (no live share).
    /// Returns the versions given up (their new version ids are in the listing afterwards).
    /// Each version is its own plan run (restore, owner check, mark, delete): a failure half-way puts that
    /// version back as it was (deleted, not given up).
    func abandonDeletedShares(_ user: ResolvedUser, holding lock: FileLock?, dryRun: Bool) throws -> [DeletedShare] {
        let az = try azure()
        let share = az.shareName(for: user.name)
        let listing = try az.shareVersions(user: user.name)
        let pending = listing.deleted.filter { !$0.abandoned }
        guard !pending.isEmpty else { return [] }
        if !listing.live.isEmpty {
            throw OrchestratorError(
                .refused,
                "\(user.name) has a live share \(share): deleted versions can be given up only while the name is free",
                hint:
                    "deprovision the live share first (pus-mount deprovision \(user.name) --yes --purge-deleted does both)"
            )
        }
        for d in pending {
            let a = d.account.name
            try perform(
                [
                    .restoreShare(share: d.share, account: a, version: d.version),
                    .checkShareOwner(share: d.share, account: a),
                    .markAbandoned(share: d.share, account: a), .deleteShare(share: d.share, account: a),
                ],
                for: .user(user), holding: lock, dryRun: dryRun)
        }
        return pending
    }
}
