import AzureFiles
import Foundation
import Ledger
import Logging
import Mounting
import Storage
import SystemSupport
import TestSupport
import Testing

@testable import Orchestrator

/// Behaviours that no test pinned down before the mutation check (issue 16); each test names its behaviour,
/// asserts the exact outcome, and is listed in Tests/Mutants/mutants.txt with the deliberate bug it kills.
@Suite(.serialized) struct BehaviourTests {
    func entry(_ b: Bench, leases: [Ledger.Lease]) -> Ledger.Entry {
        Ledger.Entry(
            user: "alice", uid: 42001, gid: 100, backend: .local, account: nil, share: nil,
            source: b.dir.file("local/alice"),
            mountpoint: b.mp, optionsDigest: "x", credentialsPath: nil, mounted: true, leases: leases, now: 1)
    }

    /// M01. bootstrap drops a lease that recorded no boot id (a version-1 ledger's lease): it cannot be from
    /// this boot. reconcile keeps it (without a pid it lives until detached).
    @Test func bootstrapDropsALeaseThatRecordedNoBootID() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s1", pid: nil, dryRun: false)
        try LedgerStore(path: b.config.ledgerPath).update { l in
            l.entries["alice"]?.leases = [Ledger.Lease(session: "v1", createdAt: 1)]
        }
        let kept = try b.reconcile()
        #expect(
            kept.count(.deadLease) == 0 && b.ledger.entries["alice"]?.leases.map(\.session) == ["v1"],
            "reconcile keeps a pid-less lease")
        let boot = try b.reconcile(ReconcileOptions(atBoot: true))
        #expect(boot.count(.deadLease) == 1, "\(boot.actions.map(\.finding.what))")
        #expect(b.ledger.entries["alice"]?.leases.isEmpty == true)
        #expect(b.mounts(at: b.mp) == 0, "the last lease was dead: unmounted")
    }

    /// M02. With linger_seconds set and no live lease, a stale or hung mount is unmounted at once (lazily), not
    /// kept lingering: only a healthy mount lingers.
    @Test(arguments: [Health.stale, Health.hung])
    func aStaleMountWithNoLeaseIsUnmountedAtOnceEvenWithLinger(_ health: Health) {
        var e = Ledger.Entry(
            user: "alice", uid: 1, gid: 1, backend: .local, account: nil, share: nil, source: "/srv/a",
            mountpoint: "/mnt/pus/alice",
            optionsDigest: "d", credentialsPath: nil, mounted: true, leases: [], now: 100)
        e.idleSince = 100
        let f = UserFacts(name: "alice", entry: e, state: .ours(health), live: nil, stacked: 1, leases: [])
        let findings = Planner.reconcile(
            f, desired: .failure(PlanningProblem("n/a")), credentials: nil,
            policy: Planner.RepairPolicy(lingerSeconds: 3600, now: 101))
        #expect(findings.count == 1 && findings[0].kind == .stale && findings[0].disposition == .repair)
        #expect(
            findings.first?.steps == [
                .unmountLazily("/mnt/pus/alice", reason: "\(health.rawValue), no live lease"),
                .removeMountpoint("/mnt/pus/alice"), .markUnmounted,
            ])
        // The control: a healthy one lingers.
        let ok = UserFacts(name: "alice", entry: e, state: .ours(.ok), live: nil, stacked: 1, leases: [])
        #expect(
            Planner.reconcile(
                ok, desired: .failure(PlanningProblem("n/a")), credentials: nil,
                policy: Planner.RepairPolicy(lingerSeconds: 3600, now: 101)
            ).isEmpty)
    }

    /// M03. Without --prune, a foreign mount at a live user's mountpoint is only reported, never replaced.
    @Test func aForeignMountUnderALiveSessionIsOnlyReportedWithoutPrune() {
        let e = Ledger.Entry(
            user: "alice", uid: 1, gid: 1, backend: .local, account: nil, share: nil, source: "/srv/a",
            mountpoint: "/mnt/pus/alice",
            optionsDigest: "d", credentialsPath: nil, mounted: true, leases: [Ledger.Lease(session: "s", createdAt: 1)],
            now: 1)
        let f = UserFacts(
            name: "alice", entry: e, state: .foreign(source: "evil:/x", fstype: "nfs"), live: nil, stacked: 1,
            leases: [LeaseCheck(lease: e.leases[0], dead: nil)])
        let t = MountTarget(
            backend: .local, account: nil, share: nil, localDirectory: "/srv/a", credentialsPath: nil,
            spec: MountSpec(source: "/srv/a", target: "/mnt/pus/alice", fstype: "none", options: "bind"),
            optionsDigest: "d")
        let quiet = Planner.reconcile(f, desired: .success(t), credentials: nil, policy: Planner.RepairPolicy(now: 2))
        #expect(
            quiet.map(\.kind) == [.orphan] && quiet[0].disposition == .reported && quiet[0].steps.isEmpty, "\(quiet)")
        let pruned = Planner.reconcile(
            f, desired: .success(t), credentials: nil, policy: Planner.RepairPolicy(prune: true, now: 2))
        #expect(pruned.map(\.kind) == [.orphan, .missing], "--prune replaces it")
    }

    /// M04. Without --prune, a foreign mount at an idle user's recorded mountpoint is only reported, never
    /// unmounted (the record is marked unmounted; the foreign mount is left alone).
    @Test func aForeignMountAtAnIdleUsersMountpointIsOnlyReportedWithoutPrune() {
        let e = Ledger.Entry(
            user: "alice", uid: 1, gid: 1, backend: .local, account: nil, share: nil, source: "/srv/a",
            mountpoint: "/mnt/pus/alice",
            optionsDigest: "d", credentialsPath: nil, mounted: true, leases: [], now: 1)
        let f = UserFacts(
            name: "alice", entry: e, state: .foreign(source: "evil:/x", fstype: "nfs"), live: nil, stacked: 1,
            leases: [])
        let findings = Planner.reconcile(
            f, desired: .failure(PlanningProblem("n/a")), credentials: nil, policy: Planner.RepairPolicy(now: 2))
        let steps = findings.flatMap(\.steps)
        #expect(
            !steps.contains {
                if case .unmount = $0 { return true }
                if case .unmountLazily = $0 { return true }
                return false
            }, "\(steps)")
        #expect(!steps.contains(.removeMountpoint("/mnt/pus/alice")))
        #expect(findings.contains { $0.kind == .orphan && $0.disposition == .reported })
    }

    /// M05. A mount beside mount.root whose path only starts with the same text (/mnt/pus-old next to
    /// /mnt/pus) is not ours: no orphan, and --prune leaves it; a mount right under mount.root is an orphan.
    @Test func aMountBesideMountRootWithTheSamePrefixIsNotOurs() throws {
        let b = Bench()
        let beside = b.dir.file("mnt-old")  // mount.root is .../mnt
        b.mounter.add(source: "/dev/sdz1", target: beside, fstype: "ext4")
        let inside = b.dir.file("mnt/stray")
        b.mounter.add(source: "/dev/sdz2", target: inside, fstype: "ext4")
        let r = try b.reconcile()
        #expect(
            r.count(.orphan) == 1 && r.actions.allSatisfy { $0.finding.subject == inside },
            "\(r.actions.map(\.finding.subject))")
        _ = try b.reconcile(ReconcileOptions(prune: true))
        #expect(b.mounts(at: beside) == 1, "--prune left the neighbour's mount")
        #expect(b.mounts(at: inside) == 0, "and unmounted the real orphan")
    }

    /// M06. A change of mount.options alone is option drift (an azure mount: a bind mount has no options to
    /// drift): deferred while a session holds the mount, remounted with the new options once idle.
    @Test func aChangeOfMountOptionsAloneIsOptionDrift() throws {
        let b = Bench()
        try b.useAzure()
        b.probe = HealthProbe(executable: "/bin/true")  // the cifs mount answers
        let share = ShareName.forUser("alice", prefix: "pus")
        let before = try b.node().target(for: b.user, entry: nil)
        try FileManager.default.createDirectory(atPath: b.mp, withIntermediateDirectories: true)
        b.mounter.add(source: "//smb.example/\(share)", target: b.mp, fstype: "cifs")
        try LedgerStore(path: b.config.ledgerPath).update { l in
            l.entries["alice"] = Ledger.Entry(
                user: "alice", uid: 42001, gid: 100, backend: .azure, account: "acct", share: share,
                source: "//smb.example/\(share)", mountpoint: b.mp, optionsDigest: before.optionsDigest,
                credentialsPath: before.credentialsPath, mounted: true,
                leases: [Ledger.Lease(session: "s1", bootID: "boot-1", createdAt: b.now)], now: b.now)
        }
        let quiet = try b.reconcile()
        #expect(quiet.count(.optionDrift) == 0, "the same options: no drift")
        b.config.mountOptions.append("noexec")
        let held = try b.reconcile()
        #expect(
            held.count(.optionDrift) == 1
                && held.actions.first { $0.finding.kind == .optionDrift }?.result == .deferred,
            "\(held.actions.map(\.finding.what))")
        #expect(b.mounter.calls.isEmpty, "nothing remounted under a live session")
        try LedgerStore(path: b.config.ledgerPath).update { l in l.entries["alice"]?.leases = [] }
        b.config.lingerSeconds = 3600
        let idle = try b.reconcile()
        #expect(
            idle.actions.first { $0.finding.kind == .optionDrift }?.result == .done,
            "\(idle.actions.map(\.finding.what))")
        #expect(
            b.mounter.calls.first == "unmount \(b.mp)"
                && b.mounter.calls.contains("mount //smb.example/\(share) \(b.mp)"), "\(b.mounter.calls)")
    }

    /// M14. reconcile never removes a volume's credentials file as unused, however old: the volume record
    /// refers to it (here a volume no longer configured but still mounted: reported, its file kept).
    @Test func reconcileNeverRemovesAVolumesCredentialsFile() throws {
        let b = Bench()
        let volumeCred = b.dir.file("creds/volume.data.cred")
        let strayCred = b.dir.file("creds/pus-gone-1.cred")
        try FileManager.default.createDirectory(atPath: b.dir.file("creds"), withIntermediateDirectories: true)
        for p in [volumeCred, strayCred] {
            b.dir.write(String(p.dropFirst(b.dir.path.count + 1)), "username=acct\npassword=x\n", mode: 0o600)
        }
        let vmp = b.dir.file("datasets/data")
        try LedgerStore(path: b.config.ledgerPath).update { l in
            l.volumes["data"] = Ledger.Volume(
                name: "data", account: "acct", share: "data", source: "//smb.example/data", mountpoint: vmp,
                readOnly: true, optionsDigest: "x", credentialsPath: volumeCred, mounted: true, keyID: nil, now: 1)
        }
        b.mounter.add(source: "//smb.example/data", target: vmp, fstype: "cifs")
        let r = try b.reconcile()
        #expect(
            r.count(.unusedCredentials) == 1 && r.actions.contains { $0.finding.subject == strayCred },
            "\(r.actions.map(\.finding.what))")
        #expect(FileManager.default.fileExists(atPath: volumeCred), "the volume's credentials file stays")
        #expect(!FileManager.default.fileExists(atPath: strayCred), "the unused one goes")
    }

    /// Issue 15, item 6. rotate-key hands the new key (password2) only to the recorded mount: a cifs mount of
    /// another server at a recorded mountpoint is reported as not ours and never touched; the recorded one is.
    @Test func rotateKeyNeverHandsTheKeyToAMountItDidNotMake() throws {
        let b = Bench()
        let dir = TempDir()
        let k1 = EmulatorProcess.testKey
        let k2 = EmulatorProcess.otherKey(2)
        let emu = try b.useEmulator(in: dir, key1: k1, key2: k2)
        defer { withExtendedLifetime(emu) {} }
        let theirs = b.dir.file("mnt/bob")
        let ours = b.mp
        try LedgerStore(path: b.config.ledgerPath).update { l in
            for (user, mp) in [("alice", ours), ("bob", theirs)] {
                l.entries[user] = Ledger.Entry(
                    user: user, uid: 42001, gid: 100, backend: .azure, account: "acct", share: "pus-\(user)-1",
                    source: "//smb.example/pus-\(user)-1", mountpoint: mp, optionsDigest: "x",
                    credentialsPath: b.dir.file("creds/pus-\(user)-1.cred"), mounted: true, leases: [], now: 1)
                l.entries[user]?.keyID = "an-older-key"
            }
        }
        b.mounter.add(source: "//smb.example/pus-alice-1", target: ours, fstype: "cifs")
        b.mounter.add(source: "//attacker.example/loot", target: theirs, fstype: "cifs")
        let marker = dir.file("refresh-ran")
        let refresher = dir.write("refresher", "#!/bin/sh\necho \"$@\" >> \(marker)\nexit 1\n", mode: 0o755)
        let r = try b.node().rotateKey(account: nil, dryRun: false, executable: refresher)
        let a = try #require(r.accounts.first)
        #expect(
            a.notOurs.map(\.mountpoint) == [theirs] && a.notOurs.first?.source == "//attacker.example/loot",
            "\(a.notOurs)")
        let handled = a.refreshed + a.current + a.mustRemount.map(\.mountpoint)
        #expect(handled == [ours], "the recorded mount is handled, the foreign one is not: \(handled)")
        let ran = (try? String(contentsOfFile: marker, encoding: .utf8)) ?? ""
        #expect(!ran.contains(theirs), "the refresher was run on the foreign mount: \(ran)")
    }

    /// Issue 15, item 5. An empty root-owned d--------- mountpoint under mount.root that no record uses (a
    /// pus-mount killed between mkdir and the ledger write leaves one) is drift: reconcile removes it, with
    /// rmdir only. A directory with content, one with other modes, and a live user's mountpoint stay.
    @Test func anEmptyMountpointNoRecordUsesIsRemoved() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s1", pid: nil, dryRun: false)
        func dir(_ name: String, mode: mode_t) throws -> String {
            let p = b.dir.file("mnt/\(name)")
            try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
            chmod(p, mode)
            return p
        }
        let stray = try dir("pusu30", mode: 0)
        let full = try dir("pusu31", mode: 0o700)
        b.dir.write("mnt/pusu31/keep.txt", "data")
        chmod(full, 0)
        let open = try dir("pusu32", mode: 0o755)
        let dry = try b.reconcile(ReconcileOptions(dryRun: true))
        #expect(
            dry.actions.filter { $0.finding.subject == stray }.map(\.result) == [.planned],
            "\(dry.actions.map(\.finding.what))")
        #expect(FileManager.default.fileExists(atPath: stray), "a dry run removes nothing")
        let r = try b.reconcile()
        #expect(
            r.actions.map(\.finding.subject) == [stray] && r.actions.first?.result == .done,
            "\(r.actions.map(\.finding.what))")
        #expect(!FileManager.default.fileExists(atPath: stray))
        #expect(
            FileManager.default.fileExists(atPath: b.dir.file("mnt/pusu31/keep.txt"))
                && FileManager.default.fileExists(atPath: open))
        #expect(b.mounts(at: b.mp) == 1, "the live user's mount is untouched")
        #expect(try b.reconcile().actions.isEmpty, "a second pass has nothing to do")
    }
}
