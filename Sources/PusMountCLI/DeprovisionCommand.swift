import ArgumentParser
import Ledger
import Orchestrator
import SystemSupport

/// `pus-mount deprovision <user> --yes [--dry-run]`: snapshot, then delete the share. Refused while the user
/// has leases. The delete takes the share's snapshots with it (the service refuses otherwise); on accounts
/// with share soft delete enabled, the deleted share, snapshot included, stays recoverable for the retention period.
struct DeprovisionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "deprovision",
        abstract: "Snapshot, then delete the user's share; refused while the user has leases.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Flag(help: "Confirm the deletion.") var yes = false
    @Flag(help: "Print the REST calls and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "deprovision") { rt in
            let u = try rt.resolve(user)
            let entry = try LedgerStore(path: rt.config.ledgerPath).read().entries[u.name]
            if let e = entry, !e.leases.isEmpty || e.mounted {
                throw PusError(.other, "\(u.name) still has \(e.leases.count) lease(s)\(e.mounted ? " and a mount" : ""); refusing to delete the share",
                               hint: "detach every session first: pus-mount detach \(u.name) --all")
            }
            guard yes || dryRun else {
                throw PusError(.usage, "deprovision deletes \(u.name)'s share and everything in it", hint: "add --yes to confirm (or --dry-run to see the plan)")
            }
            let (az, found) = try rt.userShare(u.name)
            let share = found.share
            let client = az.client(found.account)
            let snapshot = try client.createSnapshot(share)
            try client.deleteShare(share, includeSnapshots: true)
            rt.emit(human: [dryRun ? "would snapshot and delete \(share)" : "deleted share \(share) of \(u.name) (snapshot \(snapshot) taken first)"],
                    json: [("user", .string(u.name)), ("share", .string(share)), ("snapshot", .string(snapshot)), ("deleted", .bool(!dryRun))])
        }
    }
}
