import ArgumentParser
import Orchestrator
import Storage
import SystemSupport

/// `pus-mount provision <user> [--quota GiB] [--dry-run]`
struct ProvisionCommand: ParsableCommand {
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
    @Flag(help: "Print the REST calls and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "provision") { rt in
            let u = try rt.resolve(user)
            switch try rt.node().provision(u, quotaGiB: quota, dryRun: dryRun) {
            case .directory(let path, let created):
                rt.emit(
                    human: ["\(u.name): local directory \(path) \(created ? "created" : "exists")"],
                    json: [
                        ("user", .string(u.name)), ("backend", .string("local")), ("path", .string(path)),
                        ("created", .bool(created)),
                    ])
            case .share(let p):
                rt.auditShare = p.share  // the audit line names what was created (it said null; issue 15, item 11)
                rt.auditAccount = p.account
                let state = dryRun ? (p.created ? "would be created" : "exists") : (p.created ? "created" : "exists")
                rt.emit(
                    human: [
                        "\(u.name): share \(p.share) in account \(p.account) \(state), quota \(p.quotaGiB.map { "\($0) GiB" } ?? "unknown")\(p.quotaChanged ? " (changed)" : "")"
                    ],
                    json: [
                        ("user", .string(u.name)), ("share", .string(p.share)), ("account", .string(p.account)),
                        ("created", .bool(p.created)), ("quota_gib", p.quotaGiB.map { .int($0) } ?? .null),
                        ("quota_changed", .bool(p.quotaChanged)), ("rest_requests", .int(rt.requestsSent)),
                    ])
            }
        }
    }
}
