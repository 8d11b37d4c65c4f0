import Ledger
import Mounting

extension Planner {
    /// What reconcile (or bootstrap) may do, beyond the defaults.
    public struct RepairPolicy: Sendable {
        /// `--prune`: unmount orphans and remount stale mounts even under live sessions.
        public var prune: Bool
        public var lingerSeconds: Int
        public var now: Int
        /// Bootstrap: stale volumes are remounted (nobody uses them yet), linger does not apply.
        public var atBoot: Bool

        public init(prune: Bool = false, lingerSeconds: Int = 0, now: Int, atBoot: Bool = false) {
            self.prune = prune
            self.lingerSeconds = lingerSeconds
            self.now = now
            self.atBoot = atBoot
        }
    }

    /// Reconcile one user: drop dead leases; unmount what no live lease holds (after the linger); remount what
    /// live leases hold and is missing; report stale mounts under live sessions (remount with `--prune`);
    /// defer option and key drift until the sessions end; rewrite a wrong credentials file.
    ///
    /// - Parameters:
    ///   - desired: the mount the configuration asks for (for a known user: the recorded share), or why there
    ///     is none (an account no longer configured).
    ///   - credentials: the credentials file against the current keys (azure entries; nil when not checked).
    public static func reconcile(
        _ f: UserFacts, desired: Result<MountTarget, PlanningProblem>, credentials: CredentialState?,
        policy: RepairPolicy
    ) -> [Finding] {
        var out: [Finding] = []
        let user = f.name
        let dead = f.deadLeases
        let live = f.liveLeases
        var deadFinding: Finding?
        if !dead.isEmpty {
            let reasons = dead.map { "\($0.lease.session): \($0.dead ?? "dead")" }.joined(separator: ", ")
            deadFinding = Finding(
                .deadLease, subject: user, op: .remove, what: "drop \(dead.count) dead lease(s) (\(reasons))",
                disposition: .repair, steps: [.dropLeases(sessions: dead.map(\.lease.session), reason: "dead")])
        }
        guard let e = f.entry else { return deadFinding.map { [$0] } ?? [] }
        let mp = e.mountpoint
        let target = try? desired.get()
        if !(e.mounted || f.state.isOurs) && live.isEmpty {
            return deadFinding.map { [$0] } ?? []
        }
        if !live.isEmpty {
            if let d = deadFinding { out.append(d) }
            let held = "\(live.count) live session(s)"
            switch f.state {
            case .absent:
                if let t = target {
                    out.append(
                        Finding(
                            .missing, subject: user, op: .add,
                            what: "mount \(t.spec.source) on \(t.spec.target) (nothing mounted; \(held))",
                            disposition: .repair, steps: remountSteps(t, entry: e)))
                } else {
                    out.append(
                        Finding(
                            .missing, subject: user, op: .attention,
                            what: "nothing mounted at \(mp) (\(held)) and it cannot be remounted: \(problem(desired))",
                            disposition: .reported))
                }
            case .ours(.ok):
                if let t = target {
                    let why = t.differs(from: e)
                    if !why.isEmpty {
                        out.append(
                            Finding(
                                .optionDrift, subject: user, op: .attention,
                                what:
                                    "\(mp) differs from the configuration (\(why.joined(separator: "; "))); remounted once its \(held) end",
                                disposition: .deferred))
                    }
                    if let k = e.keyID, let want = t.keyID, k != want {
                        out.append(
                            Finding(
                                .credentialDrift, subject: user, op: .attention,
                                what: "\(mp) was mounted with an older account key; remounted once its \(held) end",
                                disposition: .deferred))
                    }
                }
                out += credentialFindings(user, e, target, credentials)
            case .ours(let health):
                if policy.prune, let t = target {
                    out.append(
                        Finding(
                            .stale, subject: user, op: .change,
                            what: "remount \(mp) (\(health.rawValue)) under \(held) (--prune)", disposition: .repair,
                            steps: [.unmountLazily(mp, reason: "mount is \(health.rawValue)")]
                                + remountSteps(t, entry: e, unmounted: true)))
                } else {
                    out.append(
                        Finding(
                            .stale, subject: user, op: .attention,
                            what:
                                "\(mp) is \(health.rawValue) and held by \(held); `pus-mount reconcile --prune` remounts it",
                            disposition: .reported))
                    out += credentialFindings(user, e, target, credentials)
                }
            case .foreign(let source, let fstype):
                if policy.prune, let t = target {
                    out.append(
                        Finding(
                            .orphan, subject: user, op: .remove,
                            what: "unmount \(source) (\(fstype)) from \(mp): not the recorded mount (--prune)",
                            disposition: .repair, steps: [.unmountLazily(mp, reason: "a mount pus-mount did not make")])
                    )
                    out.append(
                        Finding(
                            .missing, subject: user, op: .add,
                            what: "mount \(t.spec.source) on \(t.spec.target) (\(held))", disposition: .repair,
                            steps: remountSteps(t, entry: e)))
                } else {
                    out.append(
                        Finding(
                            .orphan, subject: user, op: .attention,
                            what:
                                "\(mp) holds \(source) (\(fstype)), not the recorded mount, while \(held) need it; `--prune` replaces it",
                            disposition: .reported))
                }
            }
            return out
        }
        // No live lease.
        switch f.state {
        case .ours(let health):
            let idle = e.idleSince ?? (dead.isEmpty ? e.updatedAt : policy.now)
            let lingering =
                health == .ok && !policy.atBoot && policy.lingerSeconds > 0 && policy.now - idle < policy.lingerSeconds
            if lingering {
                var steps = deadFinding?.steps ?? []
                if e.idleSince == nil { steps.append(.markIdle) }
                if var d = deadFinding {
                    d.steps = steps
                    out.append(d)
                }
                if let t = target, !t.differs(from: e).isEmpty {
                    out.append(
                        Finding(
                            .optionDrift, subject: user, op: .change,
                            what:
                                "remount \(mp) with the configuration (\(t.differs(from: e).joined(separator: "; "))); no live session",
                            disposition: .repair,
                            steps: [.unmount(mp, reason: "option drift, no live session")]
                                + remountSteps(t, entry: e, unmounted: true)))
                }
                out += credentialFindings(user, e, target, credentials)
                return out
            }
            let unmount: Step =
                health == .ok
                ? .unmount(mp, reason: "no live lease")
                : .unmountLazily(mp, reason: "\(health.rawValue), no live lease")
            let cleanup =
                [unmount] + (e.credentialsPath.map { [.removeCredentials($0)] } ?? []) + [
                    .removeMountpoint(mp), .markUnmounted,
                ]
            if var d = deadFinding {
                d.steps += cleanup
                d.what += "; unmount \(mp) (no live lease left)"
                out.append(d)
            } else if health != .ok {
                out.append(
                    Finding(
                        .stale, subject: user, op: .remove, what: "unmount \(mp) (\(health.rawValue), no live session)",
                        disposition: .repair, steps: cleanup))
            } else {
                let why = policy.lingerSeconds > 0 ? "linger of \(policy.lingerSeconds) s expired" : "no lease"
                out.append(
                    Finding(
                        .lingerExpired, subject: user, op: .remove, what: "unmount \(mp) (\(why))",
                        disposition: .repair, steps: cleanup))
            }
        case .absent:
            let cleanup =
                (e.credentialsPath.map { [Step.removeCredentials($0)] } ?? []) + [
                    .removeMountpoint(mp), .markUnmounted,
                ]
            if var d = deadFinding {
                d.steps += cleanup
                out.append(d)
            } else {
                out.append(
                    Finding(
                        .missing, subject: user, op: .change,
                        what: "nothing mounted at \(mp) and no live session: record the user as unmounted",
                        disposition: .repair, steps: cleanup))
            }
        case .foreign(let source, let fstype):
            let cleanup = (e.credentialsPath.map { [Step.removeCredentials($0)] } ?? []) + [.markUnmounted]
            if var d = deadFinding {
                d.steps += cleanup
                out.append(d)
            } else {
                out.append(
                    Finding(
                        .missing, subject: user, op: .change,
                        what: "the recorded mount at \(mp) is gone: record the user as unmounted", disposition: .repair,
                        steps: cleanup))
            }
            out.append(orphanFinding(mountpoint: mp, source: source, fstype: fstype, prune: policy.prune))
        }
        return out
    }

    static func credentialFindings(_ user: String, _ e: Ledger.Entry, _ t: MountTarget?, _ c: CredentialState?)
        -> [Finding]
    {
        guard let c, c != .ok, let path = e.credentialsPath, let account = e.account ?? t?.account else { return [] }
        let why: String
        switch c {
        case .ok: return []
        case .missing: why = "missing"
        case .wrong(let w): why = w
        }
        return [
            Finding(
                .credentialDrift, subject: user, op: .change, what: "rewrite \(path) (\(why))", disposition: .repair,
                steps: [.writeCredentials(path: path, account: account)])
        ]
    }

    /// Steps that (re)mount `t` for a user whose leases are kept.
    static func remountSteps(_ t: MountTarget, entry e: Ledger.Entry, unmounted: Bool = false) -> [Step] {
        var s: [Step] = []
        if let c = t.credentialsPath, let a = t.account { s.append(.writeCredentials(path: c, account: a)) }
        if t.readiness?.everyAttach == true { s.append(.ensureStorage(t)) }
        if e.mountpoint != t.spec.target { s.append(.removeMountpoint(e.mountpoint)) }
        s += [.prepareMountpoint(t.spec.target), .recordIntent(t), .mount(t), .recordMounted(t)]
        if let old = e.credentialsPath, old != t.credentialsPath { s.append(.removeCredentials(old)) }
        return s
    }

    static func problem(_ r: Result<MountTarget, PlanningProblem>) -> String {
        if case .failure(let p) = r { return p.message }
        return ""
    }

    /// A mount under `mount.root` (or at a recorded mountpoint) that no record claims.
    public static func orphanFinding(mountpoint: String, source: String, fstype: String, prune: Bool) -> Finding {
        if prune {
            return Finding(
                .orphan, subject: mountpoint, op: .remove,
                what: "unmount \(source) (\(fstype)) from \(mountpoint): no ledger record claims it (--prune)",
                disposition: .repair, steps: [.unmount(mountpoint, reason: "orphan"), .removeMountpoint(mountpoint)])
        }
        return Finding(
            .orphan, subject: mountpoint, op: .attention,
            what:
                "\(mountpoint) holds \(source) (\(fstype)) that no ledger record claims; `pus-mount reconcile --prune` unmounts it",
            disposition: .reported)
    }

    /// Reconcile one shared volume: mount a configured one that is missing, record one that is mounted but not
    /// recorded, report (or with `--prune`, or at boot, repair) stale and changed ones, and let go of volumes no
    /// longer configured.
    public static func reconcileVolume(
        _ v: VolumeFacts, desired: Result<MountTarget, PlanningProblem>?, credentials: CredentialState?,
        policy: RepairPolicy
    ) -> [Finding] {
        let subject = "volume \(v.name)"
        guard let c = v.configured else {
            // No longer configured.
            guard let r = v.record else { return [] }
            let forget: [Step] = (r.credentialsPath.map { [.removeCredentials($0)] } ?? []) + [.forgetVolume(v.name)]
            switch v.state {
            case .ours:
                if policy.prune || policy.atBoot {
                    return [
                        Finding(
                            .orphan, subject: subject, op: .remove,
                            what: "unmount \(r.mountpoint): the volume is no longer configured", disposition: .repair,
                            steps: [.unmount(r.mountpoint, reason: "volume no longer configured")] + forget)
                    ]
                }
                return [
                    Finding(
                        .orphan, subject: subject, op: .attention,
                        what:
                            "\(r.mountpoint) is mounted but the volume is no longer configured; `--prune` unmounts it",
                        disposition: .reported)
                ]
            default:
                return [
                    Finding(
                        .orphan, subject: subject, op: .remove,
                        what: "forget the volume (no longer configured, not mounted)", disposition: .repair,
                        steps: forget)
                ]
            }
        }
        guard let d = desired, let t = try? d.get() else {
            return [
                Finding(
                    .missing, subject: subject, op: .attention,
                    what: "cannot mount \(c.share) on \(c.mountpoint): \(desired.map(problem) ?? "no target")",
                    disposition: .reported)
            ]
        }
        let mount: [Step] =
            (t.credentialsPath.map { [.writeCredentials(path: $0, account: t.account ?? c.account)] } ?? [])
            + [
                .prepareVolumeMountpoint(t.spec.target), .mount(t),
                .recordVolume(volumeRecord(c, t, mounted: true, now: policy.now)),
            ]
        switch v.state {
        case .absent:
            return [
                Finding(
                    .missing, subject: subject, op: .add,
                    what: "mount \(t.spec.source) on \(t.spec.target)\(c.readOnly ? " read-only" : "")",
                    disposition: .repair, steps: mount)
            ]
        case .foreign(let source, let fstype):
            let mp = v.record?.mountpoint ?? c.mountpoint
            if v.record == nil, let live = v.live, isMount(live, of: t) {
                // Mounted by an earlier run whose ledger write did not happen: adopt it.
                return [
                    Finding(
                        .missing, subject: subject, op: .change,
                        what: "record \(t.spec.source) on \(mp) in the ledger (mounted, not recorded)",
                        disposition: .repair, steps: [.recordVolume(volumeRecord(c, t, mounted: true, now: policy.now))]
                    )
                ]
            }
            return [orphanFinding(mountpoint: mp, source: source, fstype: fstype, prune: policy.prune)]
        case .ours(let health):
            let r = v.record!
            var out: [Finding] = []
            let changed =
                r.mountpoint != t.spec.target || !MountIdentity.sameSource(r.source, t.spec.source)
                || r.optionsDigest != t.optionsDigest
            if health != .ok {
                if policy.prune || policy.atBoot {
                    out.append(
                        Finding(
                            .stale, subject: subject, op: .change, what: "remount \(r.mountpoint) (\(health.rawValue))",
                            disposition: .repair,
                            steps: [.unmountLazily(r.mountpoint, reason: "mount is \(health.rawValue)")] + mount))
                } else {
                    out.append(
                        Finding(
                            .stale, subject: subject, op: .attention,
                            what: "\(r.mountpoint) is \(health.rawValue); `pus-mount reconcile --prune` remounts it",
                            disposition: .reported))
                }
            } else if changed {
                if policy.prune || policy.atBoot {
                    out.append(
                        Finding(
                            .optionDrift, subject: subject, op: .change,
                            what: "remount \(r.mountpoint) with the configuration", disposition: .repair,
                            steps: [.unmount(r.mountpoint, reason: "volume configuration changed")] + mount))
                } else {
                    out.append(
                        Finding(
                            .optionDrift, subject: subject, op: .attention,
                            what:
                                "\(r.mountpoint) differs from the configuration; `--prune` (or the next boot) remounts it",
                            disposition: .deferred))
                }
            } else if let cred = credentials, cred != .ok, let path = r.credentialsPath {
                out.append(
                    Finding(
                        .credentialDrift, subject: subject, op: .change, what: "rewrite \(path)", disposition: .repair,
                        steps: [.writeCredentials(path: path, account: r.account)]))
            }
            return out
        }
    }

    /// Whether `m` is the mount `t` describes, by its provider's identity rule and without touching the disk
    /// (a rule that needs to stat a directory answers no here).
    static func isMount(_ m: MountEntry, of t: MountTarget) -> Bool {
        var cache: [String: MountEntry?] = [:]
        if case .ours = MountIdentity.presence(of: t.record, top: m, cache: &cache, sameDirectory: { _, _ in false }) {
            return true
        }
        return false
    }

    static func volumeRecord(_ c: Config.Volume, _ t: MountTarget, mounted: Bool, now: Int) -> Ledger.Volume {
        Ledger.Volume(
            name: c.name, account: c.account, share: c.share, source: t.spec.source, mountpoint: t.spec.target,
            readOnly: c.readOnly,
            optionsDigest: t.optionsDigest, credentialsPath: t.credentialsPath, mounted: mounted, keyID: t.keyID,
            now: now)
    }

    /// Credentials files no record uses. `referenced` holds the paths of users with a mount or a live lease and
    /// of volumes; files younger than `minAge` seconds may belong to an attach still in progress and stay.
    public static func unusedCredentials(files: [(path: String, age: Int)], referenced: Set<String>, minAge: Int)
        -> [Finding]
    {
        files.filter { !referenced.contains($0.path) && $0.age >= minAge }.map {
            Finding(
                .unusedCredentials, subject: $0.path, op: .remove, what: "remove \($0.path) (no mount uses it)",
                disposition: .repair, steps: [.removeCredentials($0.path)])
        }
    }
}

/// Why no target can be built for a user or volume (a value, so plans stay pure).
public struct PlanningProblem: Error, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
