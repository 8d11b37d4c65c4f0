import Ledger
import Mounting
import Orchestrator
import SystemSupport
import Testing

@Suite struct PlannerTests {
    let local = MountTarget(
        backend: .local, account: nil, share: nil, localDirectory: "/srv/pus-mount/alice", credentialsPath: nil,
        spec: MountSpec(source: "/srv/pus-mount/alice", target: "/mnt/pus/alice", fstype: "none", options: "bind"),
        optionsDigest: "d1")
    let azure: MountTarget = {
        var t = MountTarget(
            backend: .azure, account: "acct", share: "pus-alice-1", localDirectory: nil,
            credentialsPath: "/c/pus-alice-1.cred",
            spec: MountSpec(source: "//h/pus-alice-1", target: "/mnt/pus/alice", fstype: "cifs", options: "vers=3.0"),
            optionsDigest: "d2")
        t.readiness = MountTarget.Readiness(
            what: "provision share pus-alice-1", restOperation: "Create Share", everyAttach: false)
        return t
    }()
    let lease = Ledger.Lease(session: "s", createdAt: 1)

    func entry(_ sessions: [String], mountpoint: String = "/mnt/pus/alice", source: String = "//h/pus-alice-1")
        -> Ledger.Entry
    {
        Ledger.Entry(
            user: "alice", uid: 1001, gid: 1001, backend: .azure, account: "acct", share: "pus-alice-1", source: source,
            mountpoint: mountpoint, optionsDigest: "d2", credentialsPath: "/c/pus-alice-1.cred", mounted: true,
            leases: sessions.map { Ledger.Lease(session: $0, createdAt: 1) }, now: 1)
    }

    func attach(_ t: MountTarget, _ e: Ledger.Entry?, _ s: MountState, dead: [String] = []) throws -> Plan {
        try Planner.attach(target: t, entry: e, recorded: e == nil ? .absent : s, atTarget: s, lease: lease, dead: dead)
    }

    @Test func coldAzureAttachProvisionsWritesCredentialsRecordsTheIntentMountsAndLeases() throws {
        let p = try attach(azure, nil, .absent)
        #expect(
            p.steps == [
                .ensureStorage(azure), .writeCredentials(path: "/c/pus-alice-1.cred", account: "acct"),
                .prepareMountpoint("/mnt/pus/alice"), .recordIntent(azure), .mount(azure),
                .addLease(lease, dropping: [], mounted: azure),
            ])
    }

    @Test func reattachOfAKnownShareSkipsProvisioning() throws {
        let p = try attach(azure, entry([]), .absent)
        #expect(
            p.steps == [
                .writeCredentials(path: "/c/pus-alice-1.cred", account: "acct"), .prepareMountpoint("/mnt/pus/alice"),
                .recordIntent(azure), .mount(azure), .addLease(lease, dropping: [], mounted: azure),
            ])
    }

    @Test func warmAttachOnlyAddsALeaseAndDropsDeadOnes() throws {
        let p = try attach(azure, entry(["a", "gone"]), .ours(.ok), dead: ["gone"])
        #expect(p.steps == [.addLease(lease, dropping: ["gone"], mounted: nil)])
        #expect(!p.mounts)
    }

    @Test func aHealthyRecordedMountIsKeptWhenTheConfigurationChanged() throws {
        // local.root / smb_host / mount.root changed since: the recorded mount is still ours and is kept.
        let old = entry(["a"], mountpoint: "/old/alice", source: "//oldhost/pus-alice-1")
        let p = try Planner.attach(
            target: azure, entry: old, recorded: .ours(.ok), atTarget: .absent, lease: lease, dead: [])
        #expect(p.steps == [.addLease(lease, dropping: [], mounted: nil)])
        #expect(p.mountpoint == "/old/alice")
        #expect(p.notes.contains { $0.contains("differs from the configuration") })
    }

    @Test func staleMountIsReplacedNotStacked() throws {
        let p = try attach(local, nil, .ours(.stale))
        #expect(p.steps.first == .unmountLazily("/mnt/pus/alice", reason: "mount is stale"))
        #expect(p.steps.filter { if case .mount = $0 { return true } else { return false } }.count == 1)
    }

    @Test func aMountLeftByAnInterruptedAttachIsAdopted() throws {
        let p = try attach(local, nil, .ours(.ok))
        #expect(p.steps == [.addLease(lease, dropping: [], mounted: local)])
    }

    @Test func foreignMountIsRefusedWith73() {
        do {
            _ = try attach(local, nil, .foreign(source: "tmpfs", fstype: "tmpfs"))
            Issue.record("must refuse")
        } catch let e as OrchestratorError {
            #expect(exitStatus(e) == 73)
        } catch { Issue.record("\(error)") }
    }

    func detach(
        _ e: Ledger.Entry?, _ sessions: [String], all: Bool = false, dead: [String] = [], _ s: MountState,
        linger: Int = 0,
        force: Bool = false
    ) -> Plan {
        Planner.detach(
            entry: e, sessions: sessions, all: all, dead: dead, state: s, mountpoint: "/mnt/pus/alice",
            credentialsPath: e?.credentialsPath, lingerSeconds: linger, force: force)
    }

    /// Only `detach --force` plans a lazy unmount of a healthy mount (a busy one otherwise stays), and it
    /// skips the linger; it never drops another session's lease.
    @Test func forceDetachesLazilyWithoutLinger() {
        let p = detach(entry(["a"]), ["a"], .ours(.ok), linger: 60, force: true)
        #expect(p.steps.first == .dropLeases(sessions: ["a"], reason: "detach"))
        #expect(
            p.steps.contains {
                if case .unmountLazily("/mnt/pus/alice", _) = $0 { return true }
                return false
            })
        #expect(!p.steps.contains(.markIdle))
        #expect(
            detach(entry(["a", "b"]), ["a"], .ours(.ok), force: true).steps == [
                .dropLeases(sessions: ["a"], reason: "detach")
            ])
        #expect(
            !detach(entry(["a"]), ["a"], .ours(.ok)).steps.contains {
                if case .unmountLazily = $0 { return true }
                return false
            })
    }

    @Test func detachKeepsTheMountWhileLeasesRemain() {
        let p = detach(entry(["a", "b"]), ["a"], .ours(.ok))
        #expect(p.steps == [.dropLeases(sessions: ["a"], reason: "detach")])
        #expect(p.remainingLeases == 1)
    }

    @Test func theLastLiveSessionsDetachUnmountsDespiteDeadLeases() {
        // Two ssh logins: one session's process died without a close; the other's logout must still unmount.
        let p = detach(entry(["a", "dead"]), ["a"], dead: ["dead"], .ours(.ok))
        #expect(
            p.steps == [
                .dropLeases(sessions: ["a", "dead"], reason: "detach"),
                .unmount("/mnt/pus/alice", reason: "last lease gone"),
                .removeCredentials("/c/pus-alice-1.cred"), .removeMountpoint("/mnt/pus/alice"), .markUnmounted,
            ])
    }

    @Test func lastDetachUnmountsAndNeverDeletesData() {
        let p = detach(entry(["a"]), ["a"], .ours(.ok))
        #expect(
            p.steps == [
                .dropLeases(sessions: ["a"], reason: "detach"), .unmount("/mnt/pus/alice", reason: "last lease gone"),
                .removeCredentials("/c/pus-alice-1.cred"), .removeMountpoint("/mnt/pus/alice"), .markUnmounted,
            ])
    }

    @Test func lingerLeavesTheMountForReconcileAndStartsTheClock() {
        let p = detach(entry(["a"]), ["a"], .ours(.ok), linger: 60)
        #expect(p.steps == [.dropLeases(sessions: ["a"], reason: "detach"), .markIdle])
    }

    @Test func detachAfterACrashStillUnmounts() {
        // A detach killed after dropping the lease but before unmounting: the next detach finishes the job.
        let p = detach(entry([]), ["x"], .ours(.ok))
        #expect(p.steps.contains(.unmount("/mnt/pus/alice", reason: "last lease gone")))
    }

    @Test func foreignMountIsNeverUnmountedByDetach() {
        let p = detach(entry(["a"]), ["a"], .foreign(source: "x", fstype: "nfs"))
        #expect(
            !p.steps.contains {
                if case .unmount = $0 { return true }
                if case .unmountLazily = $0 { return true }
                return false
            })
        #expect(!p.steps.contains(.removeMountpoint("/mnt/pus/alice")))
    }
}

@Suite struct UserPolicyTests {
    @Test(arguments: [
        "a,uid=0", "../x", "x/y", "-x", "a\nb", String(repeating: "a", count: 300), "ünïcode", "a=b", " a", ".a", "",
        "a b", "a\u{7f}",
    ])
    func hostileNamesHaveAProblem(_ name: String) {
        #expect(UserPolicy.problem(with: name) != nil)
    }

    @Test(arguments: ["alice", "john.doe", "john_doe", "a-b", "user@realm", "svc$"])
    func plainNamesPass(_ name: String) {
        #expect(UserPolicy.problem(with: name) == nil)
    }

    /// A case-insensitive NSS (sssd, AD) answers ALICE with alice: the user is alice (her share, mountpoint and
    /// ledger entry), and users.deny applies to the name NSS returns.
    @Test func theUserIsTheNameNSSReturns() throws {
        var c = Config()
        c.denyUsers = ["root", "mallory"]
        let nss: (String) -> PasswdEntry? = { n in
            switch n.lowercased() {
            case "alice": return PasswdEntry(name: "alice", uid: 1001, gid: 100, home: "/")
            case "mallory": return PasswdEntry(name: "mallory", uid: 1002, gid: 100, home: "/")
            case "weird": return PasswdEntry(name: "we/ird", uid: 1003, gid: 100, home: "/")
            default: return nil
            }
        }
        #expect(try UserPolicy.resolve("ALICE", config: c, lookup: nss).name == "alice")
        #expect(
            try UserPolicy.resolve("Alice", config: c, lookup: nss)
                == UserPolicy.resolve("alice", config: c, lookup: nss))
        for n in ["MALLORY", "Mallory"] {
            #expect(throws: OrchestratorError.self, "\(n) slips past users.deny") {
                try UserPolicy.resolve(n, config: c, lookup: nss)
            }
        }
        #expect(throws: OrchestratorError.self, "a name NSS returns must pass the same checks") {
            try UserPolicy.resolve("weird", config: c, lookup: nss)
        }
    }

    @Test func policyOrderAndCodes() throws {
        var c = Config()
        c.minUID = 1000
        c.denyUsers = ["blocked"]
        let db: (String) -> PasswdEntry? = { n in
            [
                "alice": PasswdEntry(name: "alice", uid: 1001, gid: 100, home: "/"),
                "blocked": PasswdEntry(name: "blocked", uid: 2000, gid: 100, home: "/"),
                "daemon": PasswdEntry(name: "daemon", uid: 2, gid: 2, home: "/"),
            ][n]
        }
        #expect(
            try UserPolicy.resolve("alice", config: c, lookup: db) == ResolvedUser(name: "alice", uid: 1001, gid: 100))
        for (name, code) in [("ghost", Int32(67)), ("blocked", 67), ("daemon", 67), ("a,b", 65)] {
            do {
                _ = try UserPolicy.resolve(name, config: c, lookup: db)
                Issue.record("\(name) must be refused")
            } catch let e as OrchestratorError {
                #expect(exitStatus(e) == code, "\(name)")
            }
        }
    }
}

extension PlannerTests {
    /// A configured volume mounted but not recorded (an earlier run's ledger write did not happen) is adopted
    /// when the mount is the one the configuration makes (its provider's identity rule: the recorded cifs
    /// source); another share, or a bind mount, at the mountpoint is an orphan, never adopted.
    @Test func anUnrecordedVolumeMountIsAdoptedOnlyWhenItIsTheConfiguredOne() {
        var target = azure
        target.spec.target = "/mnt/data"
        let volume = Config.Volume(name: "data", account: "acct", share: "data", mountpoint: "/mnt/data")
        func plan(source: String, fstype: String) -> [Finding] {
            let live = MountEntry(
                id: 40, parentID: 1, source: source, target: "/mnt/data", fstype: fstype, vfsOptions: "rw",
                fsOptions: "", root: "/")
            let facts = VolumeFacts(
                name: "data", configured: volume, record: nil, state: .foreign(source: source, fstype: fstype),
                live: live)
            return Planner.reconcileVolume(
                facts, desired: .success(target), credentials: nil, policy: .init(now: 100))
        }
        let adopted = plan(source: "//H/PUS-ALICE-1", fstype: "cifs")
        #expect(adopted.count == 1 && adopted[0].steps.count == 1, "\(adopted)")
        if case .recordVolume(let r)? = adopted.first?.steps.first {
            #expect(r.name == "data" && r.mounted)
        } else {
            Issue.record("the configured share's mount must be recorded: \(adopted)")
        }
        for (source, fstype) in [("//h/someone-else", "cifs"), ("/dev/sda1", "ext4"), ("//h/pus-alice-1", "nfs")] {
            let other = plan(source: source, fstype: fstype)
            #expect(other.allSatisfy { $0.kind == .orphan } && !other.isEmpty, "\(source) \(fstype): \(other)")
        }
    }
}
