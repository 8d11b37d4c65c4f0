import ArgumentParser
import Ledger
import Mounting
import Orchestrator
import SystemSupport

/// `pus-mount status [<user>]`: the ledger, the live mount table and health side by side.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show the ledger, the live mount table and health side by side.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this user.") var user: String?

    /// "3" or "3 (1 dead)" when some lease holders are gone (reconcile will drop those).
    static func leaseSummary(_ leases: [Ledger.Lease]) -> String {
        let dead = leases.filter { holderAlive($0) == false }.count
        return dead == 0 ? String(leases.count) : "\(leases.count) (\(dead) dead)"
    }

    /// Whether a lease's process still runs (same pid and start time); nil for leases without a pid.
    static func holderAlive(_ l: Ledger.Lease) -> Bool? {
        guard let pid = l.pid else { return nil }
        guard let start = ChildProcess.startTime(of: pid) else { return false }
        return l.pidStartTime.map { $0 == start } ?? true
    }

    /// A bind mount shows its device as the source; its root (the directory bound) says more.
    static func shownSource(_ m: MountEntry) -> String { m.root != "/" ? "\(m.source):\(m.root)" : m.source }

    func run() throws {
        try CommandRunner.run(global) { rt in
            if let user, let problem = UserPolicy.problem(with: user) {
                throw PusError(.badInput, "invalid user name \(UserPolicy.quoted(user)): \(problem)")
            }
            let node = rt.node()
            let ledger = try node.ledger.read()
            let table = try node.mountTable()
            var names = Set(ledger.entries.keys)
            for m in MountTable.children(of: rt.config.mountRoot, in: table) { names.insert(AtomicFile.basename(of: m.target)) }
            if let user { names = names.filter { $0 == user } }
            var rows: [[String]] = [["USER", "LEDGER", "LIVE", "HEALTH", "LEASES", "SOURCE", "MOUNTPOINT"]]
            var items: [JSONValue] = []
            for name in names.sorted() {
                let e = ledger.entries[name]
                let mp = e?.mountpoint ?? rt.config.mountpoint(for: name)
                let live = MountTable.mounts(at: mp, in: table)
                let top = live.last
                var health = "-"
                if top != nil {
                    if top?.fstype == "cifs" {
                        health = HealthProbe(executable: ChildProcess.selfExecutable).check(mp).rawValue
                    } else {
                        health = HealthProbe.checkInProcess(mp).rawValue
                    }
                }
                let drift = (e?.mounted ?? false) != (top != nil) ? " (drift)" : ""
                rows.append([name, e.map { $0.mounted ? "mounted" : "unmounted" } ?? "absent", (top == nil ? "no" : "yes") + drift,
                             health, Self.leaseSummary(e?.leases ?? []), top.map(Self.shownSource) ?? e?.source ?? "-", mp])
                items.append(.object([
                    ("user", .string(name)), ("mountpoint", .string(mp)),
                    ("ledger", e.map { e in .object([("mounted", .bool(e.mounted)), ("backend", .string(e.backend)), ("source", .string(e.source)),
                                                      ("share", e.share.map { .string($0) } ?? .null), ("account", e.account.map { .string($0) } ?? .null),
                                                      ("leases", .array(e.leases.map { l in .object([("session", .string(l.session)),
                                                          ("pid", l.pid.map { .int(Int($0)) } ?? .null), ("created_at", .int(l.createdAt)),
                                                          ("holder_alive", Self.holderAlive(l).map { .bool($0) } ?? .null)]) }))]) } ?? .null),
                    ("live", top.map { m in .object([("source", .string(m.source)), ("root", .string(m.root)), ("fstype", .string(m.fstype)),
                                                      ("vfs_options", .string(m.vfsOptions)), ("fs_options", .string(m.fsOptions)),
                                                      ("stacked", .int(live.count))]) } ?? .null),
                    ("health", .string(health)), ("drift", .bool(!drift.isEmpty)),
                ]))
            }
            rt.emit(human: rows.count == 1 ? ["no users attached"] : Output.table(rows), json: [("users", .array(items))])
        }
    }
}
