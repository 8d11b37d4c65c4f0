import AzureFiles
import Credentials
import Foundation
import Ledger
import Logging
import Mounting
import Orchestrator
import Storage
import SystemSupport
import TestSupport
import Testing

/// The node's attach, detach and reconcile in process, over scripted ports (FakeMounter for mounts and the
/// mount table, FakeProcesses for lease liveness, a settable clock) and real files in a temp dir (ledger,
/// credentials, mountpoints, local directories: their modes and atomic writes are what matters).
final class Bench: @unchecked Sendable {
    let dir = TempDir("pus-node")
    let mounter = FakeMounter()
    let processes = FakeProcesses()
    var now = 1_800_000_000
    var config = Config()
    let user = ResolvedUser(name: "alice", uid: 42001, gid: 100)
    var azure: AzureStorage?
    var probe = HealthProbe(executable: "/bin/false")

    init() {
        config.backend = .local
        config.localRoot = dir.file("local")
        config.mountRoot = dir.file("mnt")
        config.stateDir = dir.file("state")
        config.credentialsDir = dir.file("creds")
        config.auditLog = dir.file("audit.jsonl")
    }

    func node() -> Node {
        let ports = Node.Ports(
            mounter: mounter, mountTable: mounter, probe: probe, processes: processes,
            sameDirectory: mounter.sameDirectory, clock: { [unowned self] in self.now })
        return Node(
            config: config, ports: ports,
            azure: { [unowned self] in
                guard let a = self.azure else { throw OrchestratorError(.notConfigured, "no azure in this test") }
                return a
            }, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    var ledger: Ledger { (try? LedgerStore(path: config.ledgerPath).read()) ?? Ledger() }
    var mp: String { dir.file("mnt/alice") }
    func mounts(at p: String) -> Int { mounter.entries.filter { $0.target == p }.count }

    /// An azure setup on a running emulator serving account `acct` with keys `key1` and `key2` (both in the
    /// key file), over real loopback HTTP. Returns the emulator (keep it alive for the test).
    func useEmulator(
        in dir: TempDir, key1: String = EmulatorProcess.testKey, key2: String = EmulatorProcess.otherKey(2)
    ) throws
        -> EmulatorProcess
    {
        let emu = try EmulatorProcess(dir: dir, account: "acct", key: key1, moreAccounts: [("acct", key2)])
        config.backend = .azure
        let spec = try AccountSpec(
            name: "acct", keys: KeyFile(key1: Secret(key1), key2: Secret(key2)), weight: 1,
            endpointSuffix: "core.windows.net", fileEndpoint: emu.endpoint, smbHost: "smb.example")
        azure = AzureStorage(
            accounts: [spec], prefix: "pus", makeTransport: { LazyCurlTransport() }, retry: .none,
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        return emu
    }

    /// An azure setup whose REST side must not be called (the share is known to the ledger).
    func useAzure(key: String = EmulatorProcess.testKey) throws {
        config.backend = .azure
        let spec = try AccountSpec(
            name: "acct", keys: KeyFile(key1: Secret(key)), weight: 1, endpointSuffix: "core.windows.net",
            fileEndpoint: "http://127.0.0.1:9/acct", smbHost: "smb.example")
        let transport = ScriptedTransport { r in
            Issue.record("unexpected REST request \(r.method) \(r.url)")
            return HTTPResponse(status: 500, headers: [:], body: [])
        }
        azure = AzureStorage(
            accounts: [spec], prefix: "pus", makeTransport: { transport }, retry: .none,
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }

    func reconcile(_ o: ReconcileOptions = ReconcileOptions()) throws -> ReconcileReport { try node().reconcile(o) }
}

extension ReconcileReport {
    func count(_ k: DriftKind) -> Int { drift.first { $0.0 == k }!.1 }
    var done: Int { actions.filter { $0.result == .done }.count }
}

@Suite(.serialized) struct NodeTests {
    @Test func attachRecordsTheMountAndTheLease() throws {
        let b = Bench()
        let r = try b.node().attach(b.user, session: "s1", pid: nil, dryRun: false)
        #expect(r.mounted && r.leases == 1 && r.mountpoint == b.mp)
        #expect(b.mounts(at: b.mp) == 1)
        let e = try #require(b.ledger.entries["alice"])
        #expect(e.mounted && e.source == b.dir.file("local/alice") && e.leases.map(\.session) == ["s1"])
        #expect(e.leases.first?.bootID == "boot-1")
        // A second session adds a lease, no mount.
        _ = try b.node().attach(b.user, session: "s2", pid: nil, dryRun: false)
        #expect(b.mounts(at: b.mp) == 1 && b.ledger.entries["alice"]?.leases.count == 2)
    }

    @Test func aFailureAfterMountIsUndoneCompletely() throws {
        let b = Bench()
        b.mounter.mountThenFail = MountError(
            operation: "mount", target: b.mp, exitCode: 32, syscallErrno: nil, helperStatus: nil,
            helperErrno: nil, detail: "post-mount check failed")
        #expect(throws: OrchestratorError.self) { try b.node().attach(b.user, session: "s1", pid: nil, dryRun: false) }
        #expect(
            b.mounter.entries.isEmpty,
            "the executor's undo unmounts what it mounted, even when the mount call itself failed")
        #expect(b.mounter.calls.contains("unmount \(b.mp)"))
        #expect(b.ledger.entries["alice"] == nil, "the intent record is undone: no ledger change")
        #expect(!FileManager.default.fileExists(atPath: b.mp), "the mountpoint it created is gone")
    }

    @Test func aMountPastItsDeadlineIs75AndLeavesNoLease() throws {
        let b = Bench()
        b.mounter.timeOut = true
        do {
            _ = try b.node().attach(b.user, session: "s1", pid: nil, dryRun: false)
            Issue.record("must fail")
        } catch let e as OrchestratorError {
            #expect(exitStatus(e) == 75)
            #expect(e.message.contains("mount.timeout_seconds"))
        }
        #expect(b.mounter.entries.isEmpty && b.ledger.entries["alice"] == nil)
    }

    @Test func aChangedLocalRootDoesNotDisownTheMount() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s1", pid: nil, dryRun: false)
        b.config.localRoot = b.dir.file("elsewhere")
        let again = try b.node().attach(b.user, session: "s2", pid: nil, dryRun: false)
        #expect(again.mountpoint == b.mp && !again.mounted, "the recorded mount is kept, not refused and not stacked")
        #expect(b.mounts(at: b.mp) == 1)
        #expect(again.plan.notes.contains { $0.contains("differs from the configuration") })
        let d = try b.node().detach(b.user, sessions: [], all: true, dryRun: false)
        #expect(d.unmounted && b.mounter.entries.isEmpty, "detach identifies the mount by the ledger's record")
        // A reconcile after the change reports option drift only while sessions hold the mount.
        _ = try b.node().attach(b.user, session: "s3", pid: nil, dryRun: false)
        b.config.localRoot = b.dir.file("third")
        let r = try b.reconcile()
        #expect(r.count(.optionDrift) == 1 && r.actions.first?.result == .deferred && r.converged)
    }

    @Test func deadLeasesAreDroppedByAttachAndDetachSoTheLastLiveSessionUnmounts() throws {
        let b = Bench()
        b.processes.running = [100: 7, 200: 9]
        let n = b.node()
        _ = try n.attach(b.user, session: "pam-sshd-100", pid: 100, dryRun: false)
        _ = try n.attach(b.user, session: "pam-sshd-200", pid: 200, dryRun: false)
        b.processes.running[100] = nil  // the first login's process died without a close_session
        let d = try b.node().detach(b.user, sessions: ["pam-sshd-200"], all: false, dryRun: false)
        #expect(d.unmounted && d.remainingLeases == 0)
        #expect(b.ledger.entries["alice"]?.leases.isEmpty == true && b.mounter.entries.isEmpty)
        // A recycled pid does not keep a lease alive either.
        b.processes.running = [300: 5]
        _ = try n.attach(b.user, session: "a", pid: 300, dryRun: false)
        b.processes.running = [300: 6]
        _ = try n.attach(b.user, session: "b", pid: nil, dryRun: false)
        #expect(b.ledger.entries["alice"]?.leases.map(\.session) == ["b"])
    }

    @Test func reconcileDropsDeadLeasesUnmountsTheLastAndThenHasNothingToDo() throws {
        let b = Bench()
        b.processes.running = [100: 7]
        _ = try b.node().attach(b.user, session: "x", pid: 100, dryRun: false)
        b.processes.running = [:]
        let r = try b.reconcile()
        #expect(r.count(.deadLease) == 1 && r.converged && r.done == 1)
        #expect(b.mounter.entries.isEmpty && b.ledger.entries["alice"]?.mounted == false)
        let again = try b.reconcile()
        #expect(again.actions.isEmpty && again.converged)
    }

    @Test func leasesOfAnEarlierBootAreDead() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "x", pid: nil, dryRun: false)
        b.processes.bootID = "boot-2"
        let r = try b.reconcile()
        #expect(r.count(.deadLease) == 1 && r.actions.first?.finding.what.contains("earlier boot") == true)
    }

    @Test func reconcileRemountsWhatLiveLeasesHoldAndIsMissing() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        b.mounter.entries.removeAll()  // unmounted behind our back
        let r = try b.reconcile()
        #expect(r.count(.missing) == 1 && r.converged)
        #expect(b.mounts(at: b.mp) == 1 && b.ledger.entries["alice"]?.leases.count == 1)
        #expect(try b.reconcile().actions.isEmpty)
    }

    @Test func orphansAreReportedAndRemovedOnlyWithPrune() throws {
        let b = Bench()
        try FileManager.default.createDirectory(atPath: b.dir.file("mnt/stray"), withIntermediateDirectories: true)
        b.mounter.add(source: "tmpfs", target: b.dir.file("mnt/stray"), fstype: "tmpfs")
        let r = try b.reconcile()
        #expect(r.count(.orphan) == 1 && !r.converged && r.actions.first?.result == .reported)
        #expect(b.mounter.entries.count == 1)
        let dry = try b.reconcile(ReconcileOptions(dryRun: true, prune: true))
        #expect(dry.actions.first?.result == .planned && b.mounter.entries.count == 1)
        let p = try b.reconcile(ReconcileOptions(prune: true))
        #expect(p.actions.first?.result == .done && b.mounter.entries.isEmpty)
        #expect(try b.reconcile().converged)
    }

    @Test func lingerKeepsTheMountUntilItExpires() throws {
        let b = Bench()
        b.config.lingerSeconds = 2
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        let d = try b.node().detach(b.user, sessions: ["s"], all: false, dryRun: false)
        #expect(!d.unmounted && b.mounts(at: b.mp) == 1)
        #expect(b.ledger.entries["alice"]?.idleSince == b.now)
        b.now += 1
        #expect(try b.reconcile().actions.isEmpty, "still lingering")
        b.now += 2
        let r = try b.reconcile()
        #expect(r.count(.lingerExpired) == 1 && b.mounter.entries.isEmpty)
        #expect(try b.reconcile().actions.isEmpty)
    }

    @Test func busyUsersAreSkippedNotWaitedFor() throws {
        let b = Bench()
        b.processes.running = [100: 7]
        _ = try b.node().attach(b.user, session: "x", pid: 100, dryRun: false)
        b.processes.running = [:]
        let held = try FileLock.acquire(path: b.dir.file("state/locks/alice.lock"), timeout: 1)
        let t0 = Date()
        let r = try b.reconcile()
        #expect(Date().timeIntervalSince(t0) < 1)
        #expect(r.busy == ["alice"] && !r.converged && r.retryable { _ in false })
        withExtendedLifetime(held) {}
    }

    @Test func staleMountsUnderLiveSessionsAreReportedAndRemountedWithPrune() throws {
        let b = Bench()
        try b.useAzure()
        let probeDir = TempDir("pus-probe")
        // The probe child says ESTALE for every path (cifs mounts are probed in a child, never in-process).
        b.probe = HealthProbe(
            executable: probeDir.write(
                "probe",
                "#!/bin/sh\n[ \"$1\" = __probe ] && exit 116\nwhile IFS= read -r -d '' p 2>/dev/null; do :; done; cat >/dev/null; echo '0 116'\n",
                mode: 0o755), deadline: 5)
        let share = ShareName.forUser("alice", prefix: "pus")
        try LedgerStore(path: b.config.ledgerPath).update { l in
            var e = Ledger.Entry(
                user: "alice", uid: 42001, gid: 100, backend: .azure, account: "acct", share: share,
                source: "//smb.example/\(share)",
                mountpoint: b.mp, optionsDigest: "x", credentialsPath: b.dir.file("creds/\(share).cred"), mounted: true,
                leases: [Ledger.Lease(session: "s", bootID: "boot-1", createdAt: b.now)], now: b.now)
            e.keyID = KeyFile.id(of: Secret(EmulatorProcess.testKey))
            l.entries["alice"] = e
        }
        try FileManager.default.createDirectory(atPath: b.mp, withIntermediateDirectories: true)
        b.mounter.add(source: "//smb.example/\(share)", target: b.mp, fstype: "cifs")
        let r = try b.reconcile()
        #expect(
            r.count(.stale) == 1 && r.actions.first { $0.finding.kind == .stale }?.result == .reported && !r.converged)
        #expect(r.count(.credentialDrift) == 1, "the missing credentials file is rewritten")
        let cred = b.dir.file("creds/\(share).cred")
        let st = try #require(try Syscalls.linkStatus(cred))
        #expect(st.st_mode & 0o777 == 0o600 && st.st_uid == 0)
        #expect(
            try String(contentsOfFile: cred, encoding: .utf8) == "username=acct\npassword=\(EmulatorProcess.testKey)\n")
        let p = try b.reconcile(ReconcileOptions(prune: true))
        #expect(p.actions.first { $0.finding.kind == .stale }?.result == .done)
        #expect(b.mounter.calls.contains("lazy-unmount \(b.mp)") && b.mounts(at: b.mp) == 1)
    }

    /// Another share's cifs mount at the mountpoint is not ours: attach refuses to stack (73) instead of adding a
    /// lease to it, and reconcile reports it instead of counting it as the user's mount.
    @Test func anotherSharesCifsMountIsNotOurs() throws {
        let b = Bench()
        try b.useAzure()
        try FileManager.default.createDirectory(atPath: b.mp, withIntermediateDirectories: true)
        b.mounter.add(source: "//smb.example/pus-mallory-12345678", target: b.mp, fstype: "cifs")
        let share = ShareName.forUser("alice", prefix: "pus")
        try LedgerStore(path: b.config.ledgerPath).update { l in
            l.entries["alice"] = Ledger.Entry(
                user: "alice", uid: 42001, gid: 100, backend: .azure, account: "acct", share: share,
                source: "//smb.example/\(share)", mountpoint: b.mp, optionsDigest: "x",
                credentialsPath: b.dir.file("creds/\(share).cred"), mounted: false, leases: [], now: b.now)
        }
        do {
            _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
            Issue.record("must refuse")
        } catch let e as OrchestratorError {
            #expect(exitStatus(e) == 73 && e.message.contains("pus-mallory"))
        }
        #expect(b.ledger.entries["alice"]?.leases.isEmpty == true && b.mounter.entries.count == 1)
    }

    @Test func anUnreadableLedgerHealsItselfKeepingTheSessions() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        _ = try b.node().attach(b.user, session: "t", pid: nil, dryRun: false)
        try Data("{\"version\": 2, \"entr".utf8).write(to: URL(fileURLWithPath: b.config.ledgerPath))
        let s = try b.node().survey()
        #expect(s.ledgerError != nil && s.orphans.map(\.target) == [b.mp], "status still sees the live mount")
        let r = try b.reconcile()
        let rebuild = try #require(r.rebuild, "reconcile rebuilt it by itself")
        let moved = try #require(rebuild.movedTo)
        #expect(
            try String(contentsOfFile: moved, encoding: .utf8) == "{\"version\": 2, \"entr", "the corrupt copy is kept")
        #expect(
            rebuild.knownFrom == b.config.ledgerPath + ".bak" && rebuild.leasesKept == 2 && rebuild.recovered.isEmpty)
        let e = try #require(b.ledger.entries["alice"])
        #expect(e.source == b.dir.file("local/alice") && e.mounted && e.leases.map(\.session) == ["s", "t"])
        #expect(r.converged && r.actions.isEmpty, "the rebuilt ledger matches the node")
        // Forced on a ledger that parses: the same rebuild, keeping what the ledger knows.
        let forced = try b.reconcile(ReconcileOptions(rebuildLedger: true))
        #expect(
            forced.rebuild?.knownFrom == b.config.ledgerPath
                && b.ledger.entries["alice"]?.leases.map(\.session) == ["s", "t"])
        _ = try b.node().detach(b.user, sessions: ["s"], all: false, dryRun: false)
        #expect(b.mounter.entries.count == 1, "one session left: the mount stays")
        _ = try b.node().detach(b.user, sessions: ["t"], all: false, dryRun: false)
        #expect(b.mounter.entries.isEmpty, "the last session's detach unmounts")
    }

    /// With neither the ledger nor its copy, a mount is taken in with a `recovered` lease: nothing is
    /// unmounted under a session nobody can name.
    @Test func aMountNoCopyKnowsGetsARecoveredLease() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        try FileManager.default.removeItem(atPath: b.config.ledgerPath)
        try FileManager.default.removeItem(atPath: b.config.ledgerPath + ".bak")
        let (l, r) = try b.node().healedLedger()
        #expect(r?.movedTo == nil && r?.knownFrom == nil && r?.recovered == ["alice"])
        #expect(l.entries["alice"]?.leases.map(\.session) == ["recovered"])
        // Healed once: the next command finds a ledger and rebuilds nothing.
        #expect(try b.node().healedLedger().rebuild == nil)
    }

    /// A pass with nothing else to repair still removes an old credentials file nothing refers to, and keeps
    /// one a live record names and one young enough to belong to an attach in progress.
    @Test func unusedCredentialsFilesGoWhenNothingElseDrifted() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        let kept = b.dir.file("creds/kept.cred")
        let stale = b.dir.file("creds/stale.cred")
        let young = b.dir.file("creds/young.cred")
        try FileManager.default.createDirectory(atPath: b.dir.file("creds"), withIntermediateDirectories: true)
        for f in [kept, stale, young] {
            b.dir.write(String(f.dropFirst(b.dir.path.count + 1)), "username=x\n", mode: 0o600)
        }
        var times = [timespec(tv_sec: b.now - 1, tv_nsec: 0), timespec(tv_sec: b.now - 1, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, young, &times, 0) == 0)
        try LedgerStore(path: b.config.ledgerPath).update { l in l.entries["alice"]?.credentialsPath = kept }
        let r = try b.reconcile()
        #expect(r.count(.unusedCredentials) == 1 && r.done == 1 && r.converged, "\(r.actions.map(\.finding.what))")
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: kept) && FileManager.default.fileExists(atPath: young))
        #expect(b.mounts(at: b.mp) == 1 && b.ledger.entries["alice"]?.leases.count == 1, "nothing else touched")
        #expect(try b.reconcile().actions.isEmpty)
    }

    @Test func bootstrapDropsEarlierBootsAndClearsGoneMounts() throws {
        let b = Bench()
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        // Reboot: the mount is gone, the boot id changed.
        b.mounter.entries.removeAll()
        b.processes.bootID = "boot-2"
        let r = try b.node().reconcile(ReconcileOptions(atBoot: true))
        #expect(r.count(.deadLease) == 1 && r.converged)
        let e = try #require(b.ledger.entries["alice"])
        #expect(e.leases.isEmpty && !e.mounted)
        #expect(try b.node().reconcile(ReconcileOptions(atBoot: true)).actions.isEmpty, "safe to run twice")
    }
}
