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
        guard !converged, !actions.contains(where: { $0.result == .reported || $0.result == .planned }) else {
            return false
        }
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
        let policy = Planner.RepairPolicy(
            prune: o.prune, lingerSeconds: config.lingerSeconds, now: now, atBoot: o.atBoot)
        // A rebuild has changed the node's ledger but not its mounts: the table read meanwhile still holds.
        let survey = try inspector.survey(
            ledger: current, ledgerError: nil, config: config, now: now, strictBoot: o.atBoot,
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
            let findings = Planner.reconcileVolume(
                v,
                desired: v.configured.map { c in Result { try volumeTarget(c) }.mapError { PlanningProblem("\($0)") } },
                credentials: volumeCredentialState(v), policy: policy)
            if !findings.isEmpty { volumePlans.append((v, findings)) }
        }
        let orphanFindings = survey.orphans.map { m in
            Planner.orphanFinding(
                mountpoint: m.target, source: Inspector.shownSource(m), fstype: m.fstype, prune: o.prune)
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

        if changed,
            let after = try? inspector.survey(
                ledger: (try? ledger.read()) ?? fresh, ledgerError: nil, config: config, now: clock(),
                probeHealth: false)
        {
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

    static func isFuture(_ e: LedgerError) -> Bool {
        if case .futureVersion = e.kind { return true } else { return false }
    }

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
        } catch let p as any ExplainedError {
            return .failure(PlanningProblem(p.message))
        } catch {
            return .failure(PlanningProblem("\(error)"))
        }
    }

    /// The credentials file of an azure user whose mount is ours, against the current key files.
    func credentialState(_ f: UserFacts) -> CredentialState? {
        guard let e = f.entry, f.state.isOurs, let path = e.credentialsPath, let name = e.account,
            let az = try? azure(), let a = az.account(named: name)
        else { return nil }
        return credentials.check(
            path, expected: CredentialsFile(username: a.name, password: a.keys.key1, password2: a.keys.key2))
    }

    func volumeCredentialState(_ v: VolumeFacts) -> CredentialState? {
        guard let r = v.record, v.state.isOurs, let path = r.credentialsPath, let az = try? azure(),
            let a = az.account(named: r.account)
        else { return nil }
        return credentials.check(
            path, expected: CredentialsFile(username: a.name, password: a.keys.key1, password2: a.keys.key2))
    }

    /// Credentials files no user with a mount or a lease and no volume refers to. At boot, files written
    /// before this boot are stale whatever their age; otherwise only files older than the lock timeout (an
    /// attach in progress writes its file before the ledger knows it).
    func unusedCredentialFindings(_ l: Ledger, now: Int, atBoot: Bool) -> [Finding] {
        var referenced = Set<String>()
        for e in l.entries.values where e.mounted || !e.leases.isEmpty {
            if let p = e.credentialsPath { referenced.insert(p) }
        }
        for v in l.volumes.values { if let p = v.credentialsPath { referenced.insert(p) } }
        let bootAge = atBoot ? Host.uptimeSeconds().map { Int($0) } : nil
        let files = credentials.files(now: now).map { f in
            (path: f.path, age: bootAge.map { f.age > $0 ? Int(lockTimeout) : f.age } ?? f.age)
        }
        return Planner.unusedCredentials(files: files, referenced: referenced, minAge: Int(lockTimeout))
    }
}
