import ArgumentParser
import Ledger
import Mounting
import Orchestrator
import SystemSupport

/// `pus-mount status [<user>]`: the ledger, the live mount table and health side by side. Works when the ledger
/// does not parse: it then shows the live mounts under mount.root, marked `ledger unreadable`.
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Show the ledger, the live mount table and health side by side.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Only this user.") var user: String?

    /// "3" or "3 (1 dead)" when some lease holders are gone (reconcile will drop those).
    static func leaseSummary(_ leases: [LeaseCheck]) -> String {
        let dead = leases.filter { !$0.isAlive }.count
        return dead == 0 ? String(leases.count) : "\(leases.count) (\(dead) dead)"
    }

    static func liveJSON(_ m: MountEntry?, stacked: Int) -> JSON {
        guard let m else { return .null }
        return .object([
            ("source", .string(m.source)), ("root", .string(m.root)), ("fstype", .string(m.fstype)),
            ("vfs_options", .string(m.vfsOptions)), ("fs_options", .string(Redaction.redact(m.fsOptions))),
            ("stacked", .int(stacked)),
        ])
    }

    /// `{"holders": [{"pid": N, "command": "..."}]}` for a busy mount.
    static func holdersJSON(_ h: [MountHolder]) -> JSON {
        .object([
            ("holders", .array(h.map { .object([("pid", .int(Int($0.pid))), ("command", .string($0.command))]) }))
        ])
    }

    /// The HEALTH column of a mount no live lease holds that processes still use.
    static func busyText(_ h: [MountHolder]) -> String {
        "busy, no lease (pid " + h.prefix(4).map { "\($0.pid) \($0.command)" }.joined(separator: ", ")
            + (h.count > 4 ? ", ..." : "") + ")"
    }

    static func healthText(_ s: MountState) -> String? {
        switch s {
        case .ours(let h): return h.rawValue
        case .foreign: return "foreign"
        case .absent: return nil
        }
    }

    func run() throws {
        try CommandRunner.run(global) { rt in
            if let user, let problem = UserPolicy.problem(with: user) {
                throw PusError(.badInput, "invalid user name \(UserPolicy.quoted(user)): \(problem)")
            }
            let node = rt.node()
            let s = try node.survey()
            let holders = node.holdersOfUnleasedMounts(s)
            if let e = s.ledgerError {
                rt.logger.warning(
                    "ledger unreadable: \(e.message); showing the live mounts under \(rt.config.mountRoot). hint: \(e.hint)"
                )
            }
            var rows: [[String]] = [["USER", "LEDGER", "LIVE", "HEALTH", "LEASES", "SOURCE", "MOUNTPOINT"]]
            var items: [JSON] = []
            for f in s.users where user == nil || f.name == user {
                let e = f.entry!
                let live = f.live != nil
                let drift = e.mounted != f.state.isOurs || !f.deadLeases.isEmpty
                let busy = holders[f.name]
                rows.append([
                    f.name, e.mounted ? "mounted" : "unmounted", (live ? "yes" : "no") + (drift ? " (drift)" : ""),
                    busy.map(Self.busyText) ?? Self.healthText(f.state) ?? "-", Self.leaseSummary(f.leases),
                    f.live.map(Inspector.shownSource) ?? e.source, e.mountpoint,
                ])
                items.append(
                    .object([
                        ("user", .string(f.name)), ("mountpoint", .string(e.mountpoint)),
                        (
                            "ledger",
                            .object([
                                ("mounted", .bool(e.mounted)), ("backend", .string(e.backend.rawValue)),
                                ("source", .string(e.source)),
                                ("share", .string(e.share)), ("account", .string(e.account)),
                                (
                                    "leases",
                                    .array(
                                        f.leases.map { c in
                                            .object([
                                                ("session", .string(c.lease.session)),
                                                ("pid", .int(c.lease.pid.map(Int.init))),
                                                ("created_at", .int(c.lease.createdAt)),
                                                ("holder_alive", c.lease.pid == nil ? .null : .bool(c.isAlive)),
                                                ("alive", .bool(c.isAlive)), ("dead_because", .string(c.dead)),
                                            ])
                                        })
                                ),
                            ])
                        ),
                        ("live", Self.liveJSON(f.live, stacked: f.stacked)),
                        ("health", .string(Self.healthText(f.state))), ("drift", .bool(drift)),
                        ("busy", busy.map(Self.holdersJSON) ?? .null),
                    ]))
            }
            var orphanItems: [JSON] = []
            for (m, h) in zip(s.orphans, s.orphanHealth) {
                let name = AtomicFile.basename(of: m.target)
                if let user, name != user { continue }
                rows.append([
                    name, s.ledgerError == nil ? "absent" : "unreadable", "yes", h.rawValue, "-",
                    Inspector.shownSource(m), m.target,
                ])
                orphanItems.append(
                    .object([
                        ("user", .string(name)), ("mountpoint", .string(m.target)),
                        ("live", Self.liveJSON(m, stacked: 1)),
                        ("health", .string(h.rawValue)),
                    ]))
            }
            var volumeItems: [JSON] = []
            for v in s.volumes where user == nil {
                let mp = v.record?.mountpoint ?? v.configured?.mountpoint ?? "-"
                rows.append([
                    "volume:\(v.name)", v.record.map { $0.mounted ? "mounted" : "unmounted" } ?? "absent",
                    v.live == nil ? "no" : "yes",
                    Self.healthText(v.state) ?? "-", "-", v.live.map(Inspector.shownSource) ?? v.record?.source ?? "-",
                    mp,
                ])
                volumeItems.append(
                    .object([
                        ("name", .string(v.name)), ("mountpoint", .string(mp)),
                        ("configured", .bool(v.configured != nil)),
                        ("recorded", .bool(v.record != nil)),
                        ("read_only", .bool(v.configured?.readOnly ?? v.record?.readOnly ?? true)),
                        ("live", Self.liveJSON(v.live, stacked: 1)), ("health", .string(Self.healthText(v.state))),
                    ]))
            }
            var human = rows.count == 1 ? ["no users attached"] : Output.table(rows)
            // `[blob] enabled`: the user's container, asked of the service (one List Containers per account).
            var containerJSON = JSON.null
            if let user, rt.config.blobEnabled {
                do {
                    let c = try node.blob.container(user)
                    human.append("container: \(c.container) in account \(c.account.name)")
                    containerJSON = .object([
                        ("name", .string(c.container)), ("account", .string(c.account.name)), ("exists", .bool(true)),
                    ])
                } catch {
                    let why = (error as? any ExplainedError)?.message ?? "\(error)"
                    human.append("container: \(why)")
                    containerJSON = .object([("exists", .bool(false)), ("error", .string(why))])
                }
            }
            if s.ledgerError != nil {
                human.insert("ledger unreadable: showing the live mounts under \(rt.config.mountRoot) only", at: 0)
            }
            rt.emit(
                human: human,
                json: [
                    ("ledger", .string(s.ledgerError == nil ? "ok" : "unreadable")),
                    ("ledger_error", .string(s.ledgerError?.message)), ("users", .array(items + orphanItems)),
                    ("orphans", .array(orphanItems)), ("volumes", .array(volumeItems)),
                    ("container", containerJSON),
                ])
        }
    }
}
