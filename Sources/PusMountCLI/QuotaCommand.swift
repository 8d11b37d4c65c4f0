import ArgumentParser
import AzureFiles
import Orchestrator
import SystemSupport

/// `pus-mount quota <user> [--set GiB]`
struct QuotaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quota", abstract: "Show the share's quota and usage, or set the quota.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Option(help: "New quota in GiB (\(ShareQuota.range.lowerBound)-\(ShareQuota.range.upperBound)).") var set: Int?
    @Flag(help: "With --set: print the REST call and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: set == nil ? nil : "quota") { rt in
            let u = try rt.resolve(user)
            let q = try rt.node().quota(u.name, set: set)
            let gib = Double(q.usedBytes) / 1_073_741_824
            let usage = (gib * 100).rounded() / 100
            let share = q.share
            let quota = q.quotaGiB
            let used = q.usedBytes
            rt.emit(
                human: Output.table([
                    ["share", share], ["quota", quota.map { "\($0) GiB" } ?? "unknown"],
                    ["used", "\(used) bytes (\(usage) GiB)"],
                ]),
                json: [
                    ("user", .string(u.name)), ("share", .string(share)),
                    ("quota_gib", quota.map { .int($0) } ?? .null),
                    ("used_bytes", .int(Int(used))),
                ])
        }
    }
}
