import AzureFiles
import Credentials
import Glibc
import Ledger
import Mounting
import Storage
import SystemSupport

/// Reconcile's repairs, each under the lock of whom it repairs (skipped, never waited for, when another
/// pus-mount holds it) and re-planned from facts read again under that lock: users (ledger-only repairs
/// batched), volumes, orphan mounts and stray mountpoints.
extension Node {
    /// Ledger-only repairs (dead leases, unmounted records) of up to ``ledgerBatch`` users under one ledger
    /// write, each user's lock held. Users whose fresh plan now needs more than the ledger are returned.
    func repairLedgerOnly(
        _ chunk: [(UserFacts, [Finding])], policy: Planner.RepairPolicy,
        report: inout ReconcileReport
    ) throws -> [(UserFacts, [Finding])] {
        var locks: [FileLock] = []
        var locked: [UserFacts] = []
        for (f, fs) in chunk {
            guard let l = try tryLock(lockPath(user: f.name)) else {
                report.busy.append(f.name)
                for x in fs { report.actions.append(.init(finding: x, result: .busy, error: nil)) }
                continue
            }
            locks.append(l)
            locked.append(f)
        }
        defer { withExtendedLifetime(locks) {} }
        var handOn: [(UserFacts, [Finding])] = []
        var outcome: [(Finding, ReconcileReport.Result)] = []
        let now = clock()
        do {
            try ledger.update { l in
                for f0 in locked {
                    var f = f0
                    f.entry = l.entries[f.name]
                    f.leases = inspector.check(f.entry?.leases ?? [], strictBoot: policy.atBoot)
                    let fs = Planner.reconcile(f, desired: desired(f), credentials: nil, policy: policy)
                    let repairing = fs.filter { $0.disposition == .repair }
                    guard !repairing.isEmpty, repairing.allSatisfy({ $0.steps.allSatisfy(\.isLedgerOnly) }),
                        var e = f.entry
                    else {
                        handOn.append((f, fs))
                        continue
                    }
                    for x in fs {
                        if x.disposition == .repair {
                            for s in x.steps { Executor.applyLedgerOnly(s, to: &e, now: now) }
                        }
                        outcome.append((x, Self.plannedResult(x) == .planned ? .done : Self.plannedResult(x)))
                    }
                    l.entries[f.name] = e
                }
            }
        } catch {
            for (f, fs) in chunk where locked.contains(where: { $0.name == f.name }) {
                for x in fs { report.actions.append(.init(finding: x, result: .failed, error: error)) }
            }
            return []
        }
        for (x, r) in outcome { report.actions.append(.init(finding: x, result: r, error: nil)) }
        return handOn
    }

    /// One user's repairs under its lock, re-planned from a fresh ledger entry and mount table. The surveyed
    /// health is reused while the same mount (by mount id) is in place: a hung mount costs one probe deadline
    /// per pass, not two.
    func repairUser(
        _ surveyed: UserFacts, planned: [Finding], policy: Planner.RepairPolicy, strictBoot: Bool,
        report: inout ReconcileReport
    ) throws {
        let name = surveyed.name
        guard let lock = try tryLock(lockPath(user: name)) else {
            report.busy.append(name)
            for x in planned { report.actions.append(.init(finding: x, result: .busy, error: nil)) }
            return
        }
        defer { withExtendedLifetime(lock) {} }
        guard let e = try ledger.read().entries[name] else { return }
        let table = try inspector.table()
        let stack = MountTable.mounts(at: e.mountpoint, in: table)
        let state: MountState
        if case .ours(let m) = inspector.presence(of: Self.record(e), in: table), m.id == surveyed.live?.id,
            surveyed.state.isOurs
        {
            state = surveyed.state
        } else {
            state = inspector.state(of: Self.record(e), in: table)
        }
        let f = UserFacts(
            name: name, entry: e, state: state, live: stack.last, stacked: stack.count,
            leases: inspector.check(e.leases, strictBoot: strictBoot))
        let findings = Planner.reconcile(f, desired: desired(f), credentials: credentialState(f), policy: policy)
        var failed = false
        for x in findings {
            guard x.disposition == .repair else {
                report.actions.append(.init(finding: x, result: Self.plannedResult(x), error: nil))
                continue
            }
            if failed {
                report.actions.append(
                    .init(
                        finding: x, result: .failed,
                        error: OrchestratorError(.failed, "skipped after an earlier failure for \(name)")))
                continue
            }
            do {
                let outcome = try executor.run(
                    x.steps, for: .user(ResolvedUser(name: name, uid: e.uid, gid: e.gid)), holding: lock)
                report.actions.append(Self.action(x, outcome))
            } catch {
                failed = true
                report.actions.append(.init(finding: x, result: .failed, error: error))
            }
        }
    }

    /// One volume's repairs under its lock, re-planned from fresh facts.
    func repairVolume(_ name: String, planned: [Finding], policy: Planner.RepairPolicy, report: inout ReconcileReport)
        throws
    {
        guard let lock = try tryLock(lockPath(volume: name)) else {
            report.busy.append("volume \(name)")
            for x in planned { report.actions.append(.init(finding: x, result: .busy, error: nil)) }
            return
        }
        defer { withExtendedLifetime(lock) {} }
        // Re-planned from this volume's own facts, read again under its lock (only its mount is probed).
        guard let v = try inspector.volume(name, ledger: try ledger.read(), config: config) else { return }
        let findings = Planner.reconcileVolume(
            v, desired: v.configured.map { c in Result { try volumeTarget(c) }.mapError { PlanningProblem("\($0)") } },
            credentials: volumeCredentialState(v), policy: policy)
        for x in findings { perform(x, subject: .volume(name), holding: lock, report: &report) }
    }

    /// An orphan under `mount.root`: with `--prune` unmounted under the lock of the user it is named after,
    /// after checking again that no record claims it.
    func repairOrphan(_ m: MountEntry, _ f: Finding, report: inout ReconcileReport) throws {
        guard f.disposition == .repair else {
            report.actions.append(.init(finding: f, result: .reported, error: nil))
            return
        }
        try repairUnderMountpointLock(f, report: &report) { l, table in isOrphan(m.target, ledger: l, table: table) }
    }

    /// Whether the mount at `target` (directly under mount.root) is still one no ledger record or configured
    /// volume claims: the survey's rule for this one path.
    func isOrphan(_ target: String, ledger l: Ledger, table: [MountEntry]) -> Bool {
        guard MountTable.children(of: config.mountRoot, in: table).contains(where: { $0.target == target }),
            !config.volumes.contains(where: { $0.mountpoint == target })
        else { return false }
        let index = MountIndex(table)
        var cache: [String: MountEntry?] = [:]
        let records =
            l.entries.values.filter { $0.mountpoint == target }.map(Self.record)
            + l.volumes.values.filter { $0.mountpoint == target }.map {
                MountRecord(backend: .azure, source: $0.source, mountpoint: $0.mountpoint)
            }
        return !records.contains { r in
            if case .ours = inspector.presence(of: r, in: index, cache: &cache) { return true }
            return false
        }
    }

    /// Performs `f` (a repair at a path under mount.root) under the lock of the user the path is named after
    /// (none for a name that is no user's; busy when another pus-mount holds it: an attach in progress), when
    /// the ledger and mount table read again under that lock still `show` the drift (for this one path: no
    /// survey of the node).
    func repairUnderMountpointLock(_ f: Finding, report: inout ReconcileReport, shows: (Ledger, [MountEntry]) -> Bool)
        throws
    {
        let name = AtomicFile.basename(of: f.subject)
        let lock = UserPolicy.problem(with: name) == nil ? try tryLock(lockPath(user: name)) : nil
        if UserPolicy.problem(with: name) == nil && lock == nil {
            report.busy.append(name)
            report.actions.append(.init(finding: f, result: .busy, error: nil))
            return
        }
        defer { withExtendedLifetime(lock) {} }
        guard shows(try ledger.read(), try inspector.table()) else { return }
        perform(f, subject: .node, holding: lock, report: &report)
    }

    /// Empty mountpoints pus-mount made (root:root, mode 0, nothing mounted) that no ledger record uses: left
    /// by a pus-mount killed between creating a mountpoint and recording it (issue 15, item 5). Removed with
    /// rmdir only, so nothing with content is ever touched.
    func strayMountpoints(_ s: NodeSurvey) -> [Finding] {
        strayMountpoints(ledger: s.ledger ?? Ledger(), table: s.table)
    }

    /// The same, from a ledger and a mount table; `only` looks at that one name instead of reading mount.root.
    func strayMountpoints(ledger l: Ledger, table: [MountEntry], only: String? = nil) -> [Finding] {
        guard let names = only.map({ [$0] }) ?? (try? Syscalls.directoryEntries(config.mountRoot)) else { return [] }
        var used = Set<String>()
        for e in l.entries.values where e.mounted || !e.leases.isEmpty { used.insert(e.mountpoint) }
        let mounted = Set(table.map(\.target))
        return names.sorted().compactMap { name -> Finding? in
            let path = config.mountRoot + "/" + name
            guard !used.contains(path), !mounted.contains(path), Self.isStrayMountpoint(path) else { return nil }
            return Finding(
                .orphan, subject: path, op: .remove,
                what: "remove the empty mountpoint \(path) (nothing mounted, no ledger record uses it)",
                disposition: .repair, steps: [.removeMountpoint(path)])
        }
    }

    /// What pus-mount's own mountpoints look like unmounted: a real directory, root:root, mode 0, empty.
    static func isStrayMountpoint(_ path: String) -> Bool {
        guard let st = try? Syscalls.linkStatus(path), (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == 0, st.st_gid == 0,
            st.st_mode & 0o7777 == 0, let entries = try? Syscalls.directoryEntries(path)
        else { return false }
        return entries.isEmpty
    }

    /// Removes one stray mountpoint under its user's lock (an attach in progress holds it: then it is busy),
    /// after looking again.
    func removeStray(_ f: Finding, report: inout ReconcileReport) throws {
        try repairUnderMountpointLock(f, report: &report) { l, table in
            !strayMountpoints(ledger: l, table: table, only: AtomicFile.basename(of: f.subject)).isEmpty
        }
    }

    func perform(_ f: Finding, subject: Executor.Subject, holding lock: FileLock? = nil, report: inout ReconcileReport)
    {
        guard f.disposition == .repair else {
            report.actions.append(.init(finding: f, result: Self.plannedResult(f), error: nil))
            return
        }
        do {
            report.actions.append(Self.action(f, try executor.run(f.steps, for: subject, holding: lock)))
        } catch {
            report.actions.append(.init(finding: f, result: .failed, error: error))
        }
    }
}
