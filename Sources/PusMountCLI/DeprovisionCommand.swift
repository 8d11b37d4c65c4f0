import ArgumentParser
import Orchestrator
import Storage
import SystemSupport

/// `pus-mount deprovision <user> --yes [--force] [--no-soft-delete] [--dry-run]`: delete the user's share and all
/// its snapshots. Refused while this node has leases or the share has open handles anywhere (unless --force);
/// afterwards says whether the account's soft delete keeps it recoverable, and for how long.
struct DeprovisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deprovision",
        abstract:
            "Delete the user's share and all its snapshots; refused while in use (leases here, open handles anywhere).",
        discussion:
            "Soft delete is an account setting only Azure's management API shows: afterwards the command reports whether the share can be restored (pus-mount undelete) and for how many days."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Flag(help: "Confirm the deletion.") var yes = false
    @Flag(help: "Delete even with leases on this node or open handles on the share.") var force = false
    @Flag(
        name: .customLong("no-soft-delete"),
        help: "Allow deletion on an account configured with soft_delete = false (unrecoverable).")
    var noSoftDelete = false
    @Flag(
        help:
            "Also give up every deleted version of the share (kept by Azure until its retention ends), so that the next attach creates a new share; without a live share, only that."
    )
    var purgeDeleted = false
    @Flag(help: "Delete the user's Blob container and every blob in it instead of the share.") var blob = false
    @Flag(help: "Print the REST calls and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "deprovision") { rt in
            let u = try rt.resolve(user)
            if blob { return try deprovisionContainer(rt, u) }
            guard yes || dryRun else {
                throw PusError(
                    .usage, "deprovision deletes \(u.name)'s share, everything in it and all its snapshots",
                    hint: "add --yes to confirm (or --dry-run to see what would go)")
            }
            let r = try rt.node().deprovision(
                u, force: force, allowUnrecoverable: noSoftDelete, purgeDeleted: purgeDeleted, dryRun: dryRun)
            rt.auditShare = r.share
            rt.auditAccount = r.account
            let what = "share \(r.share) in account \(r.account) and its \(r.snapshots.count) snapshot(s)"
            var human: [String] = []
            if !r.deletedLive {
                human.append("\(u.name) has no live share")
            } else if dryRun {
                human.append("would delete \(what)")
            } else {
                human.append("deleted \(what)")
                if let days = r.retentionDays {
                    human.append(
                        "recoverable for \(days) more day(s) (the account's share soft delete): pus-mount undelete \(u.name)"
                    )
                } else {
                    human.append(
                        "not recoverable: account \(r.account) kept no deleted copy (share soft delete is off there)")
                }
            }
            if purgeDeleted {
                human.append(
                    r.abandoned.isEmpty
                        ? "no deleted version to give up"
                        : "\(dryRun ? "would give up" : "gave up") \(r.abandoned.count) deleted version(s) of \(r.share) (\(r.abandoned.map(\.version).joined(separator: ", "))): "
                            + "the next attach creates a new share; Azure keeps them until their retention ends (a Shared Key client cannot purge them)"
                )
            }
            if !r.openHandles.isEmpty {
                human.append(
                    "note: \(r.openHandles.count)\(r.moreHandles ? "+" : "") open handle(s) were cut off (--force)")
            }
            if r.localLeases > 0 {
                human.append(
                    "note: \(r.localLeases) lease(s) on this node now point at a deleted share; detach them (--force)")
            }
            rt.emit(
                human: human,
                json: [
                    ("user", .string(u.name)), ("share", .string(r.share)), ("account", .string(r.account)),
                    ("snapshots_deleted", .array(r.snapshots.map(JSON.string))),
                    ("open_handles", .int(r.openHandles.count)),
                    ("deleted", .bool(!dryRun && r.deletedLive)),
                    ("recoverable", dryRun || !r.deletedLive ? .null : .bool(r.retentionDays != nil)),
                    ("gave_up_versions", .array(r.abandoned.map { .string($0.version) })),
                    ("retention_days", r.retentionDays.map { .int($0) } ?? .null),
                    ("deleted_version", r.deletedVersion.map(JSON.string) ?? .null),
                    ("ledger_record_removed", .bool(r.ledgerRecordRemoved)),
                ])
        }
    }

    func deprovisionContainer(_ rt: Runtime, _ u: ResolvedUser) throws {
        guard yes || dryRun else {
            throw PusError(
                .usage, "deprovision --blob deletes \(u.name)'s container and every blob in it",
                hint: "add --yes to confirm (or --dry-run to see what would go)")
        }
        if purgeDeleted { throw PusError(.usage, "--purge-deleted applies to shares, not to --blob") }
        let r = try rt.node().blob.deprovision(u, allowUnrecoverable: noSoftDelete, dryRun: dryRun)
        rt.auditShare = r.container
        rt.auditAccount = r.account
        let what =
            "container \(r.container) in account \(r.account) and its \(r.blobs)\(r.blobs == 5000 ? "+" : "") blob(s)"
        var human = [dryRun ? "would delete \(what)" : "deleted \(what)"]
        if !dryRun {
            human.append(
                r.retentionDays.map {
                    "recoverable for \($0) more day(s) (the account's container soft delete): pus-mount undelete \(u.name) --blob"
                } ?? "not recoverable: account \(r.account) kept no deleted copy (container soft delete is off there)")
        }
        rt.emit(
            human: human,
            json: [
                ("user", .string(u.name)), ("container", .string(r.container)), ("account", .string(r.account)),
                ("blobs", .int(r.blobs)), ("deleted", .bool(!dryRun)),
                ("recoverable", dryRun ? .null : .bool(r.retentionDays != nil)),
                ("retention_days", r.retentionDays.map { .int($0) } ?? .null),
                ("deleted_version", r.deletedVersion.map(JSON.string) ?? .null),
            ])
    }
}

/// `pus-mount undelete <user> [--version V] [--dry-run]`: list the user's deleted shares and restore one (the
/// newest by default).
struct UndeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undelete",
        abstract:
            "Restore the user's deleted share (data, metadata, snapshots) while the account's soft delete keeps it.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Option(help: "The deleted version to restore (as listed; default: the newest not given up).") var version: String?
    @Flag(help: "Restore the user's deleted Blob container instead of the share.") var blob = false
    @Flag(help: "Print the REST calls and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "undelete") { rt in
            let u = try rt.resolve(user)
            if blob {
                let d = try rt.node().blob.undelete(u, version: version, dryRun: dryRun)
                rt.auditShare = d.container
                rt.auditAccount = d.account.name
                rt.emit(
                    human: [
                        "\(dryRun ? "would restore" : "restored") container \(d.container) in account \(d.account.name) (version \(d.version), deleted \(d.deletedTime ?? "?"))"
                    ],
                    json: [
                        ("user", .string(u.name)), ("container", .string(d.container)),
                        ("account", .string(d.account.name)), ("version_restored", .string(d.version)),
                        ("restored", .bool(!dryRun)),
                    ])
                return
            }
            let r = try rt.node().undelete(u, version: version, dryRun: dryRun)
            rt.auditShare = r.share
            rt.auditAccount = r.account
            let listing =
                ["deleted versions of \(r.share):"]
                + r.versions.map { v in
                    "  \(v.version == r.version ? "*" : " ") \(v.version)  account \(v.account.name)  deleted \(v.deletedTime ?? "?")  "
                        + "restorable for \(AzureStorage.daysLeft(v.remainingDays))\(v.abandoned ? "  (given up)" : "")"
                }
            rt.emit(
                human: listing + [
                    dryRun
                        ? "would restore \(r.share) in account \(r.account) (version \(r.version))"
                        : "restored \(r.share) in account \(r.account) (version \(r.version)) with \(r.snapshots.count) snapshot(s)"
                ],
                json: [
                    ("user", .string(u.name)), ("share", .string(r.share)), ("account", .string(r.account)),
                    ("version_restored", .string(r.version)), ("snapshots", .array(r.snapshots.map(JSON.string))),
                    (
                        "versions",
                        .array(
                            r.versions.map { v in
                                .object([
                                    ("version", .string(v.version)), ("account", .string(v.account.name)),
                                    ("deleted_time", .string(v.deletedTime)),
                                    ("remaining_retention_days", v.remainingDays.map { .int($0) } ?? .null),
                                    ("given_up", .bool(v.abandoned)),
                                ])
                            })
                    ),
                    ("restored", .bool(!dryRun)),
                ])
        }
    }
}
