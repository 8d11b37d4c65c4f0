import ArgumentParser
import Orchestrator
import SystemSupport

/// `pus-mount snapshot <user>`
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Create a snapshot of the user's share.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Flag(help: "Print the REST call and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "snapshot") { rt in
            let u = try rt.resolve(user)
            let (share, _, ts) = try rt.node().snapshot(u.name)
            rt.emit(
                human: [dryRun ? "would snapshot \(share)" : "snapshot \(share) at \(ts)"],
                json: [("user", .string(u.name)), ("share", .string(share)), ("snapshot", .string(ts))])
        }
    }
}
