import ArgumentParser
import Orchestrator
import Storage
import SystemSupport

/// `pus-mount provision <user> [--quota GiB] [--dry-run]`
struct ProvisionCommand: ParsableCommand {
    static func line(_ user: String, _ c: AzureStorage.ProvisionedContainer, dryRun: Bool) -> String {
        let state = dryRun ? (c.created ? "would be created" : "exists") : (c.created ? "created" : "exists")
        return "\(user): container \(c.container) in account \(c.account) \(state) (private)"
    }

    static func json(_ c: AzureStorage.ProvisionedContainer) -> JSON {
        .object([("name", .string(c.container)), ("account", .string(c.account)), ("created", .bool(c.created))])
    }

    /// The report of a share provisioned or adopted (`adopted` only for `--adopt`); the audit line names it.
    static func emitShare(
        _ rt: Runtime, _ u: ResolvedUser, share: String, account: String, state: String, quotaGiB: Int?,
        quotaChanged: Bool, created: Bool, adopted: Bool?, container: AzureStorage.ProvisionedContainer?, dryRun: Bool
    ) {
        rt.auditShare = share  // the audit line names what was created (it said null; issue 15, item 11)
        rt.auditAccount = account
        var human = [
            "\(u.name): share \(share) in account \(account) \(state), quota \(quotaGiB.map { "\($0) GiB" } ?? "unknown")\(quotaChanged ? " (changed)" : "")"
        ]
        if let c = container { human.append(line(u.name, c, dryRun: dryRun)) }
        var json: [(String, JSON)] = [
            ("user", .string(u.name)), ("share", .string(share)), ("account", .string(account)),
            ("created", .bool(created)),
        ]
        if let adopted { json.append(("adopted", .bool(adopted))) }
        json += [
            ("quota_gib", quotaGiB.map { .int($0) } ?? .null), ("quota_changed", .bool(quotaChanged)),
            ("container", container.map { Self.json($0) } ?? .null), ("rest_requests", .int(rt.requestsSent)),
        ]
        rt.emit(human: human, json: json)
    }

    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract:
            "Ensure the user's share exists, with quota and owner metadata; never over a deleted share that can be restored."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name (must resolve through NSS).") var user: String
    @Option(
        help:
            "Quota in GiB (default: shares.quota_gib). Given explicitly, an existing share's quota is converged to it.")
    var quota: Int?
    @Flag(help: "The user's Blob container only (private, owner metadata), in the account of the user's share.")
    var blob = false
    @Option(
        help: ArgumentHelp(
            "Take this existing share (made by hand or for an fstab mount) as the user's: pus_user metadata is set, a share of someone else is refused (77), and every node finds it.",
            valueName: "share"))
    var adopt: String?
    @Option(
        help: ArgumentHelp(
            "With --adopt: the account that holds the share (default: look in every one).", valueName: "name"))
    var account: String?
    @Flag(help: "Print the REST calls and change nothing.") var dryRun = false

    func validate() throws {
        if account != nil && adopt == nil { throw ValidationError("--account goes with --adopt") }
        if adopt != nil && blob {
            throw ValidationError("--adopt takes a file share; it cannot be combined with --blob")
        }
    }

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "provision") { rt in
            let u = try rt.resolve(user)
            if let share = adopt {
                let (a, container) = try rt.node().adopt(
                    u, share: share, account: account, quotaGiB: quota, dryRun: dryRun)
                let state =
                    a.marked
                    ? (dryRun ? "would be adopted (pus_user metadata set)" : "adopted (pus_user metadata set)")
                    : "is already \(u.name)'s"
                Self.emitShare(
                    rt, u, share: a.share, account: a.account, state: state, quotaGiB: a.quotaGiB,
                    quotaChanged: a.quotaChanged, created: false, adopted: a.marked, container: container,
                    dryRun: dryRun)
                return
            }
            switch try rt.node().provision(u, quotaGiB: quota, dryRun: dryRun, containerOnly: blob) {
            case .directory(let path, let created):
                rt.emit(
                    human: ["\(u.name): local directory \(path) \(created ? "created" : "exists")"],
                    json: [
                        ("user", .string(u.name)), ("backend", .string("local")), ("path", .string(path)),
                        ("created", .bool(created)),
                    ])
            case .share(let p, let container):
                let state = dryRun ? (p.created ? "would be created" : "exists") : (p.created ? "created" : "exists")
                Self.emitShare(
                    rt, u, share: p.share, account: p.account, state: state, quotaGiB: p.quotaGiB,
                    quotaChanged: p.quotaChanged, created: p.created, adopted: nil, container: container, dryRun: dryRun
                )
            case .container(let c):
                rt.auditShare = c.container
                rt.auditAccount = c.account
                rt.emit(
                    human: [Self.line(u.name, c, dryRun: dryRun)],
                    json: [
                        ("user", .string(u.name)), ("container", Self.json(c)), ("account", .string(c.account)),
                        ("created", .bool(c.created)), ("rest_requests", .int(rt.requestsSent)),
                    ])
            }
        }
    }
}
