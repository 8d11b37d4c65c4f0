import ArgumentParser
import Glibc
import Orchestrator
import SystemSupport

/// `pus-mount reconcile [--dry-run] [--prune] [--rebuild-ledger] [--metrics-file PATH]`
struct ReconcileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reconcile",
        abstract: "Repair drift between the ledger, the mount table and the configuration (cron or a systemd timer).",
        discussion:
            "Exit 0 when converged, 75 when only busy users or temporary failures stand in the way (retry next time), 1 otherwise."
    )

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print what would be repaired and change nothing.") var dryRun = false
    @Flag(help: "Also unmount orphan mounts under mount.root and remount stale mounts held by live sessions.")
    var prune = false
    @Flag(
        help:
            "Rebuild the ledger now, even one that parses, from the mount table and its last good copy (commands rebuild a lost or unreadable one by themselves)."
    )
    var rebuildLedger = false
    @Option(
        help: ArgumentHelp(
            "Write Prometheus metrics (node_exporter textfile collector) to this file, atomically.", valueName: "path"))
    var metricsFile: String?

    func run() throws {
        try ReconcileRun.run(
            global, command: "reconcile",
            options: ReconcileOptions(dryRun: dryRun, prune: prune, rebuildLedger: rebuildLedger),
            metricsFile: metricsFile)
    }
}

/// `pus-mount bootstrap [--dry-run] [--metrics-file PATH]`
struct BootstrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootstrap",
        abstract:
            "At boot, before user sessions: drop earlier boots' leases, clear records whose mounts are gone, remove stale credentials, mount [[volumes]].",
        discussion: "Safe to run twice. Exit statuses as reconcile.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print what would be done and change nothing.") var dryRun = false
    @Option(help: ArgumentHelp("Write Prometheus metrics to this file, atomically.", valueName: "path"))
    var metricsFile: String?

    func run() throws {
        try ReconcileRun.run(
            global, command: "bootstrap", options: ReconcileOptions(dryRun: dryRun, atBoot: true),
            metricsFile: metricsFile)
    }
}

/// The shared run of reconcile and bootstrap: the pass, its output, metrics, audit, exit status.
enum ReconcileRun {
    static func run(_ global: GlobalOptions, command: String, options: ReconcileOptions, metricsFile: String?) throws {
        if let m = metricsFile, !m.hasPrefix("/") {
            throw ValidationError("--metrics-file must be an absolute path")
        }
        var status: Int32 = 0
        try CommandRunner.run(global, dryRun: options.dryRun) { rt in
            let progress = Progress(label: command, json: global.json)
            let report = try rt.node().reconcile(options) { done, total in
                if total >= 20 { progress.count(done, total, unit: "users repaired") }
            }
            progress.finish()
            status = ReconcileRendering.exitStatus(report)
            if let m = metricsFile {
                do {
                    rt.recordServiceStats()  // this pass's own answers count too
                    try ReconcileMetrics.write(
                        report, to: m, command: command, now: Clock.unixSeconds(), exitStatus: status,
                        stats: ServiceStats.read(stateDir: rt.config.stateDir), accounts: rt.config.accounts)
                } catch {
                    rt.logger.warning("could not write the metrics file \(m): \(error)")
                }
            }
            if !options.dryRun && (report.actions.contains(where: { $0.result == .done }) || report.rebuild != nil) {
                // A summary, not every action (a pass over thousands of users stays one short line).
                AuditLog.record(
                    path: rt.config.auditLog, command: command,
                    fields: [
                        ("drift", .object(report.drift.filter { $0.1 > 0 }.map { ($0.0.rawValue, .int($0.1)) })),
                        ("repaired", .int(report.actions.filter { $0.result == .done }.count)),
                        ("failed", .int(report.actions.filter { $0.result == .failed }.count)),
                        ("rebuilt_ledger", .bool(report.rebuild != nil)), ("converged", .bool(report.converged)),
                        ("exit_status", .int(Int(status))),
                    ]
                ) { [logger = rt.logger] in logger.warning("\($0)") }
            }
            rt.emit(
                human: ReconcileRendering.lines(report, command: command, exitStatus: status),
                json: ReconcileRendering.json(report))
        }
        if status != 0 { throw ExitCode(status) }
    }
}
