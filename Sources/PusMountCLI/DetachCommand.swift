import ArgumentParser
import Orchestrator
import SystemSupport

/// `pus-mount detach <user> [--session ID | --all] [--dry-run]`
struct DetachCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detach", _superCommandName: "pus-mount",
        abstract: "Drop the lease; unmount when no lease remains (after mount.linger_seconds); never deletes data.")

    @OptionGroup var global: GlobalOptions
    @OptionGroup var pam: PAMOrigin
    @Argument(help: "Login name.") var user: String
    @Option(help: "Session id whose lease to drop (default: default).") var session: String?
    @Flag(help: "Drop every lease of the user.") var all = false
    @Flag(
        help:
            "When the last lease goes, unmount lazily even while processes still use the mount (they go on against a detached tree)."
    )
    var force = false
    @Flag(help: "Print the plan and change nothing.") var dryRun = false
    @Flag(name: .customLong("fake-mount"), help: ArgumentHelp("libmount fake mode.", visibility: .hidden))
    var fakeMount = false

    func validate() throws {
        if all && session != nil { throw ValidationError("--session and --all exclude each other") }
    }

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "detach") { rt in
            rt.auditOrigin = pam.auditFields
            let node = rt.node(fakeMounts: fakeMount)
            let u = try node.userForDetach(user, resolve: rt.resolve)
            let r = try node.detach(u, sessions: [session ?? "default"], all: all, force: force, dryRun: dryRun)
            if let b = r.busy {
                let next =
                    "`pus-mount reconcile` unmounts it once nothing holds it; `pus-mount detach --force \(u.name)` detaches it now (lazily)"
                rt.logger.warning("\(u.name): \(b.target) stays mounted: \(b.reason). \(next)")
            }
            let human =
                dryRun
                ? rt.planLines(r.plan)
                : [
                    "\(u.name): "
                        + (r.unmounted
                            ? "unmounted"
                            : r.busy != nil
                                ? "last lease gone; still mounted: busy, no lease"
                                : r.remainingLeases > 0
                                    ? "\(r.remainingLeases) lease(s) remain, still mounted"
                                    : r.lingering
                                        ? "last lease gone; the mount lingers for mount.linger_seconds = \(rt.config.lingerSeconds) s (reconcile unmounts it)"
                                        : "no mount")
                ]
                    + r.plan.notes.map { "  \($0)" }
            var json: [(String, JSON)] = [
                ("user", .string(u.name)), ("remaining_leases", .int(r.remainingLeases)),
                ("unmounted", .bool(r.unmounted)), ("lingering", .bool(r.lingering)),
                ("busy", r.busy.map { StatusCommand.holdersJSON($0.holders) } ?? .null),
            ]
            if dryRun || global.verbose { json.append(("plan", rt.planJSON(r.plan))) }
            rt.emit(human: human, json: json)
        }
    }
}
