import ArgumentParser
import Orchestrator
import SystemSupport

/// `pus-mount attach <user> [--session ID] [--pid PID] [--dry-run]`
struct AttachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attach", _superCommandName: "pus-mount",
        abstract:
            "Provision if needed, write credentials, mount at <mount.root>/<user>, add a lease; idempotent; prints the mountpoint."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var pam: PAMOrigin
    @Argument(help: "Login name (must resolve through NSS).") var user: String
    @Option(help: "Session id holding the lease (default: default).") var session = "default"
    @Option(help: "Pid of the session's process; reconcile drops the lease when it is gone.") var pid: Int32?
    @Flag(help: "Print the plan (REST calls, mount source/target/options, files, ledger changes) and change nothing.")
    var dryRun = false
    @Flag(
        name: .customLong("fake-mount"),
        help: ArgumentHelp(
            "Run mounts in libmount's fake mode (mount.cifs -f): everything but mount(2).", visibility: .hidden))
    var fakeMount = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "attach") { rt in
            rt.auditOrigin = pam.auditFields
            let u = try rt.resolve(user)
            let r = try rt.node(fakeMounts: fakeMount).attach(u, session: session, pid: pid, dryRun: dryRun)
            rt.auditShare = r.plan.target?.share
            rt.auditAccount = r.plan.target?.account
            var json: [(String, JSON)] = [
                ("user", .string(u.name)), ("mountpoint", .string(r.mountpoint)), ("session", .string(session)),
                ("leases", .int(r.leases)), ("mounted_now", .bool(r.mounted)),
            ]
            if dryRun || global.verbose { json.append(("plan", rt.planJSON(r.plan))) }
            if dryRun { rt.plannedOperations = r.plan.steps.compactMap(\.restOperation) }
            rt.emit(human: dryRun ? rt.planLines(r.plan) : [r.mountpoint], json: json)
        }
    }
}
