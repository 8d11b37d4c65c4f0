import Glibc
import Mounting
import Orchestrator
import SystemSupport

extension Runtime {
    /// The node wired to the real ports: libmount with mount(2) and umount(2) in a child with a deadline, the
    /// live mountinfo, the probe child, /proc, and REST on demand. `PUS_MOUNT_MOUNTINFO` points the mount table
    /// at another file (fixtures).
    func node(fakeMounts: Bool = false) -> Node {
        if let cachedNode { return cachedNode }
        let mountinfo = getenv("PUS_MOUNT_MOUNTINFO").map { String(cString: $0) } ?? MountTable.processTable
        let exe = ChildProcess.selfExecutable
        let ports = Node.Ports(
            mounter: LibMountMounter(fake: fakeMounts, isolatedIn: exe), mountTable: MountinfoFile(path: mountinfo),
            probe: HealthProbe(executable: exe, deadline: Double(config.probeTimeoutSeconds)), processes: ProcFS())
        let node = Node(config: config, ports: ports, fakeMounts: fakeMounts, logger: logger)
        node.onLedgerRebuilt = { [unowned self] r in self.recordRebuild(r) }
        node.onShareLocated = { [unowned self] share, account in
            self.auditShare = share
            if let account { self.auditAccount = account }
        }
        if dryRun { node.dryRunRecorder = { [unowned self] in self.plannedRequests.append($0) } }
        cachedNode = node
        return node
    }

    /// A ledger a command rebuilt by itself: one syslog line and one audit line (the warning is on stderr).
    func recordRebuild(_ r: RebuildReport) {
        Syslog.log(Node.rebuildSummary(r, path: config.ledgerPath), facility: .daemon, level: .warning)
        AuditLog.record(
            path: config.auditLog, command: "ledger-rebuild",
            fields: [
                ("moved_to", .string(r.movedTo)), ("known_from", .string(r.knownFrom)),
                ("users", .int(r.ledger.entries.count)),
                ("leases_kept", .int(r.leasesKept)), ("leases_dropped", .int(r.leasesDropped)),
                ("recovered", .array(r.recovered.map { .string($0) })),
                (
                    "skipped",
                    .array(
                        r.skipped.map { .object([("mountpoint", .string($0.mountpoint)), ("why", .string($0.why))]) })
                ),
                ("rest_requests", .int(r.restRequests)),
            ]
        ) { [logger] in logger.warning("\($0)") }
    }

    /// Prints a plan for `--dry-run`.
    func planLines(_ plan: Plan) -> [String] {
        ["plan (nothing was changed):"] + plan.notes.map { "  note: \($0)" }
            + plan.steps.enumerated().map { "  \($0.offset + 1). \($0.element)" }
    }

    func planJSON(_ plan: Plan) -> JSON {
        .object(
            [
                ("steps", .array(plan.steps.map { .string($0.description) })),
                ("notes", .array(plan.notes.map { .string($0) })),
            ]
                + (plan.target.map { t in
                    [
                        (
                            "mount",
                            JSON.object([
                                ("source", .string(t.spec.source)), ("target", .string(t.spec.target)),
                                ("fstype", .string(t.spec.fstype)), ("options", .string(t.spec.options)),
                            ])
                        )
                    ]
                } ?? []))
    }
}
