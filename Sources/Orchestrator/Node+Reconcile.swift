import AzureFiles
import Credentials
import Glibc
import Ledger
import Mounting
import Storage
import SystemSupport

/// What one reconcile (or bootstrap) pass found and did.
public struct ReconcileReport: Sendable {
    /// What became of one finding.
    public enum Result: String, Sendable {
        case done, planned, deferred, reported, failed
        /// The user's lock was held by another pus-mount: skipped, not waited for.
        case busy
    }

    public struct Action: Sendable {
        public var finding: Finding
        public var result: Result
        /// For `failed`: what went wrong (one line, redacted by the caller's error mapping).
        public var error: (any Error)?
    }

    public var actions: [Action] = []
    /// Users (or volumes) skipped because their lock was busy.
    public var busy: [String] = []
    /// The rebuild, when `--rebuild-ledger` ran.
    public var rebuild: RebuildReport?
    public var users = 0
    public var mounts = 0
    public var leases = 0
    public var liveLeases = 0
    public var seconds = 0.0
    public var dryRun = false

    /// Drift found, by kind (every kind present, zeros included).
    public var drift: [(DriftKind, Int)] {
        DriftKind.allCases.map { k in (k, actions.filter { $0.finding.kind == k }.count) }
    }

    /// Converged: nothing failed, nobody was busy, and nothing needs a person (deferred drift resolves itself
    /// when sessions end). A dry run is converged only when it would do nothing.
    public var converged: Bool {
        busy.isEmpty && !actions.contains { [.failed, .reported, .planned, .busy].contains($0.result) }
    }

    /// Worth another run soon: only busy users or failures the caller classed as temporary stand in the way.
    public func retryable(_ isTemporary: (any Error) -> Bool) -> Bool {
        guard !converged, !actions.contains(where: { $0.result == .reported || $0.result == .planned }) else { return false }
        return actions.filter { $0.result == .failed }.allSatisfy { $0.error.map(isTemporary) ?? false }
    }
}

/// Options of one pass.
public struct ReconcileOptions: Sendable {
    public var dryRun = false
    public var prune = false
    public var rebuildLedger = false
    /// Bootstrap: leases of earlier boots (and those that recorded no boot) are dead, stale volumes are
    /// remounted, linger does not apply.
    public var atBoot = false
    public init(dryRun: Bool = false, prune: Bool = false, rebuildLedger: Bool = false, atBoot: Bool = false) {
        self.dryRun = dryRun
        self.prune = prune
        self.rebuildLedger = rebuildLedger
        self.atBoot = atBoot
    }
}

extension Node {
    /// Users whose ledger-only repairs share one ledger write (and hold their locks meanwhile).
    static let ledgerBatch = 128

    /// One reconcile pass: survey the node, plan every user, volume, orphan and credentials file, and repair
    /// under each user's lock (skipping, never waiting for, users whose lock is busy). Sends no REST request
    /// unless a repair needs one. `progress(done, total)` is called as users are repaired.
    public func reconcile(_ o: ReconcileOptions, progress: ((Int, Int) -> Void)? = nil) throws -> ReconcileReport {
        let t0 = Clock.monotonicSeconds()
        var report = ReconcileReport()
        report.dryRun = o.dryRun
        let pendingTable = inspector.tableInBackground()
        var current: Ledger
        if o.rebuildLedger {
            // Forced: whatever the ledger is (a newer format version excepted), rebuilt from the mount table,
            // keeping what it (or its backup) knows.
            do { _ = try ledger.read() } catch let e as LedgerError where Self.isFuture(e) { throw e } catch {}
            report.rebuild = try rebuildLedger(dryRun: o.dryRun)
            current = o.dryRun ? report.rebuild!.ledger : try ledger.read()
        } else {
            (current, report.rebuild) = try healedLedger(dryRun: o.dryRun)
        }
        let now = clock()
        let policy = Planner.RepairPolicy(prune: o.prune, lingerSeconds: config.lingerSeconds, now: now, atBoot: o.atBoot)
        // A rebuild has changed the node's ledger but not its mounts: the table read meanwhile still holds.
        let survey = try inspector.survey(ledger: current, ledgerError: nil, config: config, now: now, strictBoot: o.atBoot,
                                          table: try pendingTable.wait())
        report.users = survey.users.count

        // Plan.
        var userPlans: [(UserFacts, [Finding])] = []
        for f in survey.users {
            let findings = Planner.reconcile(f, desired: desired(f), credentials: credentialState(f), policy: policy)
            if !findings.isEmpty { userPlans.append((f, findings)) }
        }
        var volumePlans: [(VolumeFacts, [Finding])] = []
        for v in survey.volumes {
            let findings = Planner.reconcileVolume(v, desired: v.configured.map { c in Result { try volumeTarget(c) }.mapError { PlanningProblem("\($0)") } },
                                                   credentials: volumeCredentialState(v), policy: policy)
            if !findings.isEmpty { volumePlans.append((v, findings)) }
        }
        let orphanFindings = survey.orphans.map { m in
            Planner.orphanFinding(mountpoint: m.target, source: Inspector.shownSource(m), fstype: m.fstype, prune: o.prune)
        }
        let strays = strayMountpoints(survey)

        if o.dryRun {
            for f in userPlans.flatMap(\.1) + volumePlans.flatMap(\.1) + orphanFindings + strays {
                report.actions.append(.init(finding: f, result: Self.plannedResult(f), error: nil))
            }
            for f in unusedCredentialFindings(current, now: now, atBoot: o.atBoot) {
                report.actions.append(.init(finding: f, result: .planned, error: nil))
            }
            Self.count(survey, into: &report)
            report.seconds = Clock.monotonicSeconds() - t0
            return report
        }

        // Repair users: ledger-only repairs in batches, the rest one by one.
        let total = userPlans.count
        var done = 0
        var single: [(UserFacts, [Finding])] = []
        var batch: [(UserFacts, [Finding])] = []
        for p in userPlans {
            let repairing = p.1.filter { $0.disposition == .repair }
            if repairing.isEmpty {
                // Only reported or deferred: nothing to do under a lock, and no second probe of a hung mount.
                for f in p.1 { report.actions.append(.init(finding: f, result: Self.plannedResult(f), error: nil)) }
            } else if repairing.allSatisfy({ $0.steps.allSatisfy(\.isLedgerOnly) }) {
                batch.append(p)
            } else {
                single.append(p)
            }
        }
        var i = 0
        while i < batch.count {
            let chunk = Array(batch[i..<min(i + Self.ledgerBatch, batch.count)])
            i += chunk.count
            single += try repairLedgerOnly(chunk, policy: policy, report: &report)
            done += chunk.count
            progress?(done, total)
        }
        for (f, planned) in single {
            try repairUser(f, planned: planned, policy: policy, strictBoot: o.atBoot, report: &report)
            done += 1
            progress?(done, total)
        }
        // Volumes, orphans, credentials files.
        for (v, planned) in volumePlans { try repairVolume(v.name, planned: planned, policy: policy, report: &report) }
        for (m, f) in zip(survey.orphans, orphanFindings) { try repairOrphan(m, f, report: &report) }
        for f in strays { try removeStray(f, report: &report) }
        // Unused credentials files are judged against the ledger as it is now (our repairs, or a concurrent
        // attach, may have changed it). When this pass changed nothing and the ledger it read leaves no file
        // unused, there is nothing to judge and the second read is skipped (a quiet 10,000-user pass: about 300 ms
        // with it, 160 ms without; BENCHMARKS.md section 4).
        let changed = report.actions.contains { $0.result == .done }
        var fresh = current
        var unused = unusedCredentialFindings(current, now: clock(), atBoot: o.atBoot)
        if changed || !unused.isEmpty {
            fresh = (try? ledger.read()) ?? current
            unused = unusedCredentialFindings(fresh, now: clock(), atBoot: o.atBoot)
        }
        for f in unused { perform(f, subject: .node, report: &report) }

        if changed, let after = try? inspector.survey(ledger: (try? ledger.read()) ?? fresh, ledgerError: nil, config: config, now: clock(),
                                                      probeHealth: false) {
            Self.count(after, into: &report)
        } else {
            Self.count(survey, into: &report)
        }
        report.seconds = Clock.monotonicSeconds() - t0
        return report
    }

    /// A performed repair: done, or deferred when its unmount found the mount busy (it stays; a later pass
    /// unmounts it once nothing holds it).
    static func action(_ f: Finding, _ o: Executor.Outcome) -> ReconcileReport.Action {
        guard let busy = o.busy else { return .init(finding: f, result: .done, error: nil) }
        var x = f
        x.op = .attention
        x.what += ": \(busy.reason); it stays mounted until nothing holds it"
        return .init(finding: x, result: .deferred, error: nil)
    }

    static func isFuture(_ e: LedgerError) -> Bool { if case .futureVersion = e.kind { return true } else { return false } }

    static func plannedResult(_ f: Finding) -> ReconcileReport.Result {
        switch f.disposition {
        case .repair: return .planned
        case .deferred: return .deferred
        case .reported: return .reported
        }
    }

    static func count(_ s: NodeSurvey, into r: inout ReconcileReport) {
        r.mounts = s.ourMounts
        r.leases = s.users.reduce(0) { $0 + $1.leases.count }
        r.liveLeases = s.users.reduce(0) { n, u in n + u.leases.reduce(0) { $0 + ($1.isAlive ? 1 : 0) } }
    }

    /// The user's target per the configuration (recorded share kept), or why there is none.
    func desired(_ f: UserFacts) -> Result<MountTarget, PlanningProblem> {
        guard let e = f.entry else { return .failure(PlanningProblem("no ledger record")) }
        do {
            return .success(try target(for: ResolvedUser(name: f.name, uid: e.uid, gid: e.gid), entry: e))
        } catch let p as PusError {
            return .failure(PlanningProblem(p.message))
        } catch {
            return .failure(PlanningProblem("\(error)"))
        }
    }

    /// The credentials file of an azure user whose mount is ours, against the current key files.
    func credentialState(_ f: UserFacts) -> CredentialState? {
        guard let e = f.entry, e.backend == .azure, f.state.isOurs, let path = e.credentialsPath, let name = e.account,
              let az = try? azure(), let a = az.account(named: name) else { return nil }
        return credentials.check(path, expected: CredentialsFile(username: a.name, password: a.keys.key1, password2: a.keys.key2))
    }

    func volumeCredentialState(_ v: VolumeFacts) -> CredentialState? {
        guard let r = v.record, v.state.isOurs, let path = r.credentialsPath, let az = try? azure(),
              let a = az.account(named: r.account) else { return nil }
        return credentials.check(path, expected: CredentialsFile(username: a.name, password: a.keys.key1, password2: a.keys.key2))
    }

    /// Credentials files no user with a mount or a lease and no volume refers to. At boot, files written
    /// before this boot are stale whatever their age; otherwise only files older than the lock timeout (an
    /// attach in progress writes its file before the ledger knows it).
    func unusedCredentialFindings(_ l: Ledger, now: Int, atBoot: Bool) -> [Finding] {
        var referenced = Set<String>()
        for e in l.entries.values where e.mounted || !e.leases.isEmpty { if let p = e.credentialsPath { referenced.insert(p) } }
        for v in l.volumes.values { if let p = v.credentialsPath { referenced.insert(p) } }
        let bootAge = atBoot ? Host.uptimeSeconds().map { Int($0) } : nil
        let files = credentials.files(now: now).map { f in (path: f.path, age: bootAge.map { f.age > $0 ? Int(lockTimeout) : f.age } ?? f.age) }
        return Planner.unusedCredentials(files: files, referenced: referenced, minAge: Int(lockTimeout))
    }

    /// Ledger-only repairs (dead leases, unmounted records) of up to ``ledgerBatch`` users under one ledger
    /// write, each user's lock held. Users whose fresh plan now needs more than the ledger are returned.
    func repairLedgerOnly(_ chunk: [(UserFacts, [Finding])], policy: Planner.RepairPolicy,
                          report: inout ReconcileReport) throws -> [(UserFacts, [Finding])] {
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
                    guard !repairing.isEmpty, repairing.allSatisfy({ $0.steps.allSatisfy(\.isLedgerOnly) }), var e = f.entry else {
                        handOn.append((f, fs))
                        continue
                    }
                    for x in fs {
                        if x.disposition == .repair { for s in x.steps { Executor.applyLedgerOnly(s, to: &e, now: now) } }
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
    func repairUser(_ surveyed: UserFacts, planned: [Finding], policy: Planner.RepairPolicy, strictBoot: Bool,
                    report: inout ReconcileReport) throws {
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
        if case .ours(let m) = inspector.presence(of: Self.record(e), in: table), m.id == surveyed.live?.id, surveyed.state.isOurs {
            state = surveyed.state
        } else {
            state = inspector.state(of: Self.record(e), in: table)
        }
        let f = UserFacts(name: name, entry: e, state: state, live: stack.last, stacked: stack.count,
                          leases: inspector.check(e.leases, strictBoot: strictBoot))
        let findings = Planner.reconcile(f, desired: desired(f), credentials: credentialState(f), policy: policy)
        var failed = false
        for x in findings {
            guard x.disposition == .repair else {
                report.actions.append(.init(finding: x, result: Self.plannedResult(x), error: nil))
                continue
            }
            if failed {
                report.actions.append(.init(finding: x, result: .failed, error: PusError(.other, "skipped after an earlier failure for \(name)")))
                continue
            }
            do {
                let outcome = try executor.run(x.steps, for: .user(ResolvedUser(name: name, uid: e.uid, gid: e.gid)), holding: lock)
                report.actions.append(Self.action(x, outcome))
            } catch {
                failed = true
                report.actions.append(.init(finding: x, result: .failed, error: error))
            }
        }
    }

    /// One volume's repairs under its lock, re-planned from fresh facts.
    func repairVolume(_ name: String, planned: [Finding], policy: Planner.RepairPolicy, report: inout ReconcileReport) throws {
        guard let lock = try tryLock(lockPath(volume: name)) else {
            report.busy.append("volume \(name)")
            for x in planned { report.actions.append(.init(finding: x, result: .busy, error: nil)) }
            return
        }
        defer { withExtendedLifetime(lock) {} }
        let l = try ledger.read()
        let s = try inspector.survey(ledger: l, ledgerError: nil, config: config, now: clock())
        guard let v = s.volumes.first(where: { $0.name == name }) else { return }
        let findings = Planner.reconcileVolume(v, desired: v.configured.map { c in Result { try volumeTarget(c) }.mapError { PlanningProblem("\($0)") } },
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
        try repairUnderMountpointLock(f, report: &report) { s in s.orphans.contains(where: { $0.target == m.target }) }
    }

    /// Performs `f` (a repair at a path under mount.root) under the lock of the user the path is named after
    /// (none for a name that is no user's; busy when another pus-mount holds it: an attach in progress), when
    /// a fresh survey taken under that lock still `shows` the drift.
    func repairUnderMountpointLock(_ f: Finding, report: inout ReconcileReport, shows: (NodeSurvey) -> Bool) throws {
        let name = AtomicFile.basename(of: f.subject)
        let lock = UserPolicy.problem(with: name) == nil ? try tryLock(lockPath(user: name)) : nil
        if UserPolicy.problem(with: name) == nil && lock == nil {
            report.busy.append(name)
            report.actions.append(.init(finding: f, result: .busy, error: nil))
            return
        }
        defer { withExtendedLifetime(lock) {} }
        let s = try inspector.survey(ledger: try ledger.read(), ledgerError: nil, config: config, now: clock(), probeHealth: false)
        guard shows(s) else { return }
        perform(f, subject: .node, holding: lock, report: &report)
    }

    /// Empty mountpoints pus-mount made (root:root, mode 0, nothing mounted) that no ledger record uses: left
    /// by a pus-mount killed between creating a mountpoint and recording it (issue 15, item 5). Removed with
    /// rmdir only, so nothing with content is ever touched.
    func strayMountpoints(_ s: NodeSurvey) -> [Finding] {
        guard let names = try? Syscalls.directoryEntries(config.mountRoot) else { return [] }
        var used = Set<String>()
        for u in s.users { if let e = u.entry, e.mounted || !e.leases.isEmpty || u.state != .absent { used.insert(e.mountpoint) } }
        let mounted = Set(s.table.map(\.target))
        return names.sorted().compactMap { name -> Finding? in
            let path = config.mountRoot + "/" + name
            guard !used.contains(path), !mounted.contains(path), Self.isStrayMountpoint(path) else { return nil }
            return Finding(.orphan, subject: path, op: .remove, what: "remove the empty mountpoint \(path) (nothing mounted, no ledger record uses it)", disposition: .repair, steps: [.removeMountpoint(path)])
        }
    }

    /// What pus-mount's own mountpoints look like unmounted: a real directory, root:root, mode 0, empty.
    static func isStrayMountpoint(_ path: String) -> Bool {
        guard let st = try? Syscalls.linkStatus(path), (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == 0, st.st_gid == 0,
              st.st_mode & 0o7777 == 0, let entries = try? Syscalls.directoryEntries(path) else { return false }
        return entries.isEmpty
    }

    /// Removes one stray mountpoint under its user's lock (an attach in progress holds it: then it is busy),
    /// after looking again.
    func removeStray(_ f: Finding, report: inout ReconcileReport) throws {
        try repairUnderMountpointLock(f, report: &report) { s in strayMountpoints(s).contains(where: { $0.subject == f.subject }) }
    }

    func perform(_ f: Finding, subject: Executor.Subject, holding lock: FileLock? = nil, report: inout ReconcileReport) {
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

extension Executor {
    /// Applies a ledger-only step to an entry in memory (for batched repairs under one ledger write).
    static func applyLedgerOnly(_ step: Step, to e: inout Ledger.Entry, now: Int) {
        let before = e
        switch step {
        case .dropLeases(let sessions, _): e.leases.removeAll { sessions.contains($0.session) }
        case .markIdle: if e.idleSince == nil { e.idleSince = now }
        case .markUnmounted:
            if e.leases.isEmpty {
                e.mounted = false
                e.idleSince = nil
            }
        default: preconditionFailure("\(step) is not a ledger-only step")
        }
        if e != before { e.updatedAt = now }
    }
}
