import ArgumentParser
import Orchestrator
import SystemSupport

/// `pus-mount detach <user> [--session ID | --all] [--dry-run]`
struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "detach",
        abstract: "Drop the lease; unmount when no lease remains (after mount.linger_seconds); never deletes data.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Option(help: "Session id whose lease to drop (default: default).") var session: String?
    @Flag(help: "Drop every lease of the user.") var all = false
    @Flag(help: "Print the plan and change nothing.") var dryRun = false
    @Flag(name: .customLong("fake-mount"), help: ArgumentHelp("libmount fake mode.", visibility: .hidden)) var fakeMount = false

    func validate() throws {
        if all && session != nil { throw ValidationError("--session and --all exclude each other") }
    }

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "detach") { rt in
            let u = try UserPolicy.resolve(user, config: rt.config)
            let r = try rt.node(fakeMounts: fakeMount).detach(u, sessions: [session ?? "default"], all: all, dryRun: dryRun)
            let human = dryRun ? rt.planLines(r.plan)
                : ["\(u.name): \(r.unmounted ? "unmounted" : (r.remainingLeases > 0 ? "\(r.remainingLeases) lease(s) remain, still mounted" : "no mount"))"]
                    + r.plan.notes.map { "  \($0)" }
            var json: [(String, JSONValue)] = [("user", .string(u.name)), ("remaining_leases", .int(r.remainingLeases)),
                                               ("unmounted", .bool(r.unmounted))]
            if dryRun || global.verbose { json.append(("plan", rt.planJSON(r.plan))) }
            rt.emit(human: human, json: json)
        }
    }
}
