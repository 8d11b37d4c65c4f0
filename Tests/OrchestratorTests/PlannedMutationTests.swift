import AzureFiles
import Credentials
import Foundation
import Ledger
import Logging
import Orchestrator
import Storage
import SystemSupport
import TestSupport
import Testing

/// Issue 17, item 4: deprovision, undelete and giving deleted versions up are plans the executor runs under
/// the user's lock with its undo journal. The REST side is the real emulator over loopback HTTP, reached
/// through a scripted transport that forwards every request and, where a test says so, fails one or runs a
/// side effect after it: the failure half-way is scripted, the undo it triggers is real.
@Suite(.serialized) struct PlannedMutationTests {
    /// Forwards to the emulator; `before` may answer a request itself (a scripted failure), `after` runs once
    /// the emulator answered. Records each request with the time it was sent.
    final class Relay: @unchecked Sendable {
        let real = LazyCurlTransport()
        var sent: [(method: String, url: String, at: UInt64)] = []
        var before: (HTTPRequest) -> HTTPResponse? = { _ in nil }
        var after: (HTTPRequest, HTTPResponse) -> Void = { _, _ in }
        /// Rewrites the emulator's answer (a scripted lie from the service).
        var rewrite: (HTTPRequest, HTTPResponse) -> HTTPResponse = { $1 }

        func transport() -> ScriptedTransport {
            ScriptedTransport { [self] r in
                sent.append((r.method, r.url, DispatchTime.now().uptimeNanoseconds))
                if let scripted = before(r) { return scripted }
                let answer = rewrite(r, try real.send(r, sink: nil))
                after(r, answer)
                return answer
            }
        }

        /// The requests sent, as "METHOD query" (the share's path left out).
        var operations: [String] {
            sent.map { "\($0.method) \($0.url.split(separator: "?", maxSplits: 1).last.map(String.init) ?? "")" }
        }
    }

    struct Setup {
        let b = Bench()
        let dir = TempDir()
        let emu: EmulatorProcess
        let relay = Relay()
        let az: AzureStorage
        let share = ShareName.forUser("alice", prefix: "pus")

        init() throws {
            emu = try EmulatorProcess(dir: dir, account: "acct", extraArgs: ["--soft-delete-days", "7"])
            let spec = try AccountSpec(
                name: "acct", keys: KeyFile(key1: Secret(EmulatorProcess.testKey)), weight: 1,
                endpointSuffix: "core.windows.net", fileEndpoint: emu.endpoint, smbHost: "smb.example")
            let relay = relay
            az = AzureStorage(
                accounts: [spec], prefix: "pus", makeTransport: { relay.transport() }, retry: .none,
                logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
            b.config.backend = .azure
            b.azure = az
        }

        var client: FilesClient { az.client(az.accounts[0]) }
        /// A client that does not pass through the relay (the test's own look at the account).
        var direct: FilesClient {
            let plain = AzureStorage(
                accounts: az.accounts, prefix: "pus", makeTransport: { LazyCurlTransport() }, retry: .none,
                logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
            return plain.client(plain.accounts[0])
        }
        var isLive: Bool {
            ((try? direct.listAllShares(prefix: share)) ?? []).contains { $0.name == share && !$0.deleted }
        }
        var deletedVersions: [DeletedShare] { (try? az.shareVersions(user: "alice").deleted) ?? [] }
        var lockPath: String { b.config.stateDir + "/locks/alice.lock" }
    }

    /// An undelete whose restored share turns out to be someone else's puts it back as it was (deleted): the
    /// owner check is a step of the plan, and its failure undoes the restore. (The listing said alice; the
    /// restored share's properties, scripted, say mallory.)
    @Test func anUndeleteThatFindsAForeignOwnerDeletesTheShareAgain() throws {
        let s = try Setup()
        _ = try s.b.node().provision(s.b.user, quotaGiB: nil, dryRun: false)
        try s.direct.deleteShare(s.share, includeSnapshots: true)
        s.relay.rewrite = { r, answer in
            guard r.method == "GET", r.url.hasSuffix("?restype=share"), answer.status == 200 else { return answer }
            var lie = answer
            lie.headers["x-ms-meta-pus_user"] = "mallory"
            return lie
        }
        do {
            _ = try s.b.node().undelete(s.b.user, dryRun: false)
            Issue.record("a share owned by mallory was restored for alice")
        } catch let e as StorageError {
            #expect(exitStatus(e) == 77 && e.message.contains("mallory"), "\(e.message)")
        }
        s.relay.rewrite = { $1 }
        #expect(!s.isLive, "the foreign share was left restored: \(s.relay.operations)")
        #expect(s.deletedVersions.count >= 1, "the deleted version is still there to restore")
        let ops = s.relay.operations
        let undelete = try #require(ops.firstIndex { $0.hasPrefix("PUT") && $0.contains("comp=undelete") }, "\(ops)")
        #expect(
            ops[(undelete + 1)...].contains { $0.hasPrefix("DELETE") && $0.contains("restype=share") },
            "the undo deletes it again: \(ops)")
        // Without the lie it is restored.
        _ = try s.b.node().undelete(s.b.user, dryRun: false)
        #expect(s.isLive)
    }

    /// A deprovision whose ledger write fails after Delete Share undeletes the share: the user keeps their
    /// data and their record.
    @Test func aDeprovisionThatFailsAfterTheDeleteRestoresTheShare() throws {
        let s = try Setup()
        _ = try s.b.node().provision(s.b.user, quotaGiB: nil, dryRun: false)
        try LedgerStore(path: s.b.config.ledgerPath).update { l in
            l.entries["alice"] = Ledger.Entry(
                user: "alice", uid: 42001, gid: 100, backend: .azure, account: "acct", share: s.share,
                source: "//smb.example/\(s.share)", mountpoint: s.b.mp, optionsDigest: "x",
                credentialsPath: nil, mounted: false, leases: [], now: 1)
        }
        let ledgerPath = s.b.config.ledgerPath
        let aside = ledgerPath + ".test-aside"
        // Right after the service deleted the share, the ledger becomes unwritable (a directory in its place).
        s.relay.after = { r, answer in
            guard r.method == "DELETE", answer.status == 202, rename(ledgerPath, aside) == 0 else { return }
            mkdir(ledgerPath, 0o700)
        }
        #expect(throws: (any Error).self) {
            try s.b.node().deprovision(s.b.user, force: false, allowUnrecoverable: false, dryRun: false)
        }
        s.relay.after = { _, _ in }
        #expect(s.isLive, "the deleted share was not restored: \(s.relay.operations)")
        let props = try s.direct.getShareProperties(s.share)
        #expect(props.metadata["pus_user"] == "alice")
        rmdir(ledgerPath)
        #expect(rename(aside, ledgerPath) == 0)
        #expect(s.b.ledger.entries["alice"] != nil, "the record stays with the share")
        #expect(
            s.relay.operations.contains { $0.hasPrefix("PUT") && $0.contains("comp=undelete") }, "\(s.relay.operations)"
        )
    }

    /// Giving a deleted version up (`deprovision --purge-deleted`) is restore, owner check, mark, delete: when
    /// the last step fails the version is put back as it was (deleted, not marked as given up).
    @Test func givingAVersionUpThatFailsHalfWayLeavesItAsItWas() throws {
        let s = try Setup()
        _ = try s.b.node().provision(s.b.user, quotaGiB: nil, dryRun: false)
        try s.direct.deleteShare(s.share, includeSnapshots: true)
        #expect(s.deletedVersions.count == 1)
        var failed = false
        s.relay.before = { r in
            // The plan's own Delete Share (after Set Share Metadata) fails once; the undo's is let through.
            guard r.method == "DELETE", !failed, s.relay.operations.contains(where: { $0.contains("comp=metadata") })
            else { return nil }
            failed = true
            return HTTPResponse(status: 500, headers: ["x-ms-error-code": "InternalError"], body: [])
        }
        #expect(throws: (any Error).self) {
            try s.b.node().deprovision(
                s.b.user, force: false, allowUnrecoverable: false, purgeDeleted: true, dryRun: false)
        }
        s.relay.before = { _ in nil }
        #expect(failed)
        #expect(!s.isLive, "the version was left restored: \(s.relay.operations)")
        let versions = s.deletedVersions
        #expect(
            versions.count >= 1 && versions.allSatisfy { !$0.abandoned }, "the version must not stay marked as given up"
        )
        // Without the failure the same command gives it up.
        _ = try s.b.node().deprovision(
            s.b.user, force: false, allowUnrecoverable: false, purgeDeleted: true, dryRun: false)
        #expect(s.deletedVersions.contains { $0.abandoned })
    }

    /// deprovision and undelete send their first mutating request only after the user's lock is free.
    @Test func deprovisionAndUndeleteWaitForTheUsersLock() throws {
        let s = try Setup()
        _ = try s.b.node().provision(s.b.user, quotaGiB: nil, dryRun: false)
        try Syscalls.mkdirs(s.b.config.stateDir + "/locks", mode: 0o700)
        final class Holder: @unchecked Sendable {
            var lock: FileLock?
            var released: UInt64 = 0
        }
        for run in ["deprovision", "undelete"] {
            let h = Holder()
            h.lock = try FileLock.acquire(path: s.lockPath, timeout: 5)
            Thread {
                Thread.sleep(forTimeInterval: 0.5)
                h.released = DispatchTime.now().uptimeNanoseconds
                h.lock = nil
            }.start()
            let start = s.relay.sent.count
            if run == "deprovision" {
                _ = try s.b.node().deprovision(s.b.user, force: false, allowUnrecoverable: false, dryRun: false)
            } else {
                _ = try s.b.node().undelete(s.b.user, dryRun: false)
            }
            let first = try #require(s.relay.sent[start...].first { $0.method != "GET" && $0.method != "HEAD" })
            #expect(
                h.released > 0 && first.at > h.released,
                "\(run) sent \(first.method) \(first.url) while the user's lock was held")
        }
    }
}

extension PlannedMutationTests {
    /// rotate-key rewrites the account's credentials files as one plan run: when one cannot be written (a
    /// directory planted at bob's path), the files already rewritten get their previous content back, so no
    /// user is left on a key set the others do not have.
    @Test func aRotateKeyThatFailsHalfWayPutsTheEarlierFilesBack() throws {
        let b = Bench()
        let dir = TempDir()
        let k1 = EmulatorProcess.testKey
        let k2 = EmulatorProcess.otherKey(2)
        let emu = try b.useEmulator(in: dir, key1: k1, key2: k2)
        defer { withExtendedLifetime(emu) {} }
        let creds = CredentialsStore(directory: b.config.credentialsDir)
        let old = CredentialsFile(username: "acct", password: Secret(k1))
        let alice = try creds.write(old, share: "pus-alice-1")
        let bob = creds.path(for: "pus-bob-1")
        try LedgerStore(path: b.config.ledgerPath).update { l in
            for (user, path) in [("alice", alice), ("bob", bob)] {
                l.entries[user] = Ledger.Entry(
                    user: user, uid: 42001, gid: 100, backend: .azure, account: "acct", share: "pus-\(user)-1",
                    source: "//smb.example/pus-\(user)-1", mountpoint: b.dir.file("mnt/\(user)"), optionsDigest: "x",
                    credentialsPath: path, mounted: true, leases: [], now: 1)
            }
        }
        try FileManager.default.createDirectory(atPath: bob, withIntermediateDirectories: false)
        #expect(throws: CredentialsError.self) {
            try b.node().rotateKey(account: nil, dryRun: false, executable: "/bin/false")
        }
        #expect(try creds.read(path: alice) == old, "alice's file must be back on the old keys")
        try FileManager.default.removeItem(atPath: bob)
        let r = try b.node().rotateKey(account: nil, dryRun: false, executable: "/bin/false")
        #expect(r.accounts.first?.credentialsRewritten.sorted() == [alice, bob])
        #expect(try creds.read(path: alice)?.password2?.reveal() == k2)
    }
}

extension PlannedMutationTests {
    /// A ledger rebuild is a plan too (set the unusable file aside, write the rebuilt ledger): when the write
    /// fails (a directory planted where its second copy goes), the unusable file is put back where it was, so
    /// the next command finds the same ledger to heal, and no `.corrupt-` copy is left beside it.
    @Test func aRebuildThatCannotWritePutsTheUnusableLedgerBack() throws {
        let b = Bench()
        let path = b.config.ledgerPath
        try FileManager.default.createDirectory(atPath: b.config.stateDir, withIntermediateDirectories: true)
        b.dir.write("state/ledger.json", "{\"version\": 2, \"entries\": {\"alice\": tru", mode: 0o600)
        try FileManager.default.createDirectory(atPath: path + ".bak", withIntermediateDirectories: false)
        #expect(throws: (any Error).self) { try b.node().attach(b.user, session: "s", pid: nil, dryRun: false) }
        #expect(
            try String(contentsOfFile: path, encoding: .utf8).hasSuffix("tru"), "the unusable ledger is back in place")
        let left = try FileManager.default.contentsOfDirectory(atPath: b.config.stateDir).filter {
            $0.contains("corrupt")
        }
        #expect(left.isEmpty, "\(left)")
        #expect(b.mounter.entries.isEmpty)
        // With the obstacle gone the same command heals it and attaches.
        try FileManager.default.removeItem(atPath: path + ".bak")
        _ = try b.node().attach(b.user, session: "s", pid: nil, dryRun: false)
        #expect(b.ledger.entries["alice"]?.leases.count == 1)
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: b.config.stateDir).contains { $0.contains("corrupt") })
    }

    /// undelete --blob whose restored container turns out to be someone else's deletes it again: Restore
    /// Container and the owner check are steps of one plan, and the check's failure undoes the restore. (The
    /// listing says alice; the restored container's properties, scripted, say mallory.)
    @Test func anUndeleteThatFindsAForeignContainerDeletesItAgain() throws {
        let b = Bench()
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, account: "acct", extraArgs: ["--soft-delete-days", "7"], blob: true)
        let spec = try AccountSpec(
            name: "acct", keys: KeyFile(key1: Secret(EmulatorProcess.testKey)), weight: 1,
            endpointSuffix: "core.windows.net", fileEndpoint: emu.endpoint, smbHost: "smb.example",
            blobEndpoint: emu.blobEndpoint())
        let relay = Relay()
        let az = AzureStorage(
            accounts: [spec], prefix: "pus", makeTransport: { relay.transport() }, retry: .none,
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        b.config.backend = .azure
        b.azure = az
        let container = az.containerName(for: "alice")
        _ = try b.node().blob.provision(b.user)
        _ = try b.node().blob.deprovision(b.user, allowUnrecoverable: false, dryRun: false)
        relay.rewrite = { r, answer in
            guard r.method == "GET", r.url.hasSuffix("\(container)?restype=container"), answer.status == 200 else {
                return answer
            }
            var lie = answer
            lie.headers["x-ms-meta-pus_user"] = "mallory"
            return lie
        }
        do {
            _ = try b.node().blob.undelete(b.user, version: nil, dryRun: false)
            Issue.record("a container owned by mallory was restored for alice")
        } catch let e as StorageError {
            #expect(exitStatus(e) == 77 && e.message.contains("mallory"), "\(e.message)")
        }
        relay.rewrite = { $1 }
        let ops = relay.operations
        let restore = try #require(ops.firstIndex { $0.hasPrefix("PUT") && $0.contains("comp=undelete") }, "\(ops)")
        #expect(
            ops[(restore + 1)...].contains { $0.hasPrefix("DELETE") && $0.contains("restype=container") },
            "the undo deletes it again: \(ops)")
        let versions = try az.containerVersions(user: "alice")
        #expect(versions.live.isEmpty, "the foreign container was left restored")
        #expect(!versions.deleted.isEmpty, "a deleted version is still there to restore")
        // Without the lie it is restored.
        _ = try b.node().blob.undelete(b.user, version: nil, dryRun: false)
        #expect(try az.containerVersions(user: "alice").live.count == 1)
    }
}
