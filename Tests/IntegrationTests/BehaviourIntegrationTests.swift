import AzureFiles
import Foundation
import Ledger
import Logging
import Mounting
import Orchestrator
import Storage
import SystemSupport
import TestSupport
import Testing

@testable import PusMountCLI

/// Behaviours that no test pinned down before the mutation check (issue 16), at the level where they live:
/// the locator against the emulator, deprovision's refusals, the audit log, the SAS cap, the volume options
/// that reach mount(2), Retry-After, the real libmount mounter's deadline, XML character references and
/// rotate-key over several accounts. Each is listed in Tests/Mutants/mutants.txt with the bug it kills.
@Suite(.serialized) struct BehaviourIntegrationTests {
    static let quiet = Logger(label: "t") { _ in SwiftLogNoOpLogHandler() }

    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    func storage(_ emu: EmulatorProcess, _ accounts: [(String, String)]) throws -> AzureStorage {
        let specs = try accounts.map { name, key in
            try AccountSpec(
                name: name, keys: KeyFile(key1: Secret(key)), weight: 1, endpointSuffix: "core.windows.net",
                fileEndpoint: emu.endpoint(of: name), smbHost: "127.0.0.1")
        }
        return AzureStorage(
            accounts: specs, prefix: "pus", makeTransport: { LazyCurlTransport() }, retry: .none, logger: Self.quiet)
    }

    func client(_ emu: EmulatorProcess, _ account: String, _ key: String) throws -> FilesClient {
        FilesClient(
            endpoint: AccountEndpoint(
                account: account, key: SharedKey(account: account, key: Secret(key))!,
                endpointSuffix: "core.windows.net", override: emu.endpoint(of: account)),
            transport: try CurlTransport(), retry: .none, logger: Self.quiet)
    }

    /// M07. The locator refuses (77) a share in the ledger-recorded account whose pus_user names someone else.
    @Test func theLocatorRefusesAForeignOwnerInTheRecordedAccount() throws {
        let dir = TempDir()
        let b = EmulatorProcess.otherKey(1)
        let emu = try EmulatorProcess(dir: dir, account: "acta", moreAccounts: [("actb", b)])
        let user = TestUsers.name(11)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(
            try client(emu, "acta", EmulatorProcess.testKey).createShare(
                share, quotaGiB: 1, metadata: [("pus_user", "mallory")]) == .created)
        let az = try storage(emu, [("acta", EmulatorProcess.testKey), ("actb", b)])
        do {
            _ = try az.locate(user: user, recordedAccount: "acta")
            Issue.record("a share owned by mallory was accepted")
        } catch let e as StorageError {
            #expect(ErrorMapping.pusError(e).kind.exitCode == 77 && e.message.contains("mallory"), "\(e.message)")
        }
    }

    /// M08. A 404 in the recorded account makes the locator ask the other accounts; a share found there is
    /// used, and none is created.
    @Test func aNotFoundInTheRecordedAccountAsksTheOthers() throws {
        let dir = TempDir()
        let b = EmulatorProcess.otherKey(1)
        let emu = try EmulatorProcess(dir: dir, account: "acta", moreAccounts: [("actb", b)])
        let user = TestUsers.name(12)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(try client(emu, "actb", b).createShare(share, quotaGiB: 1, metadata: [("pus_user", user)]) == .created)
        let az = try storage(emu, [("acta", EmulatorProcess.testKey), ("actb", b)])
        let mark = emu.requestLog.count
        let found = try #require(try az.locate(user: user, recordedAccount: "acta"), "the share in B must be found")
        #expect(found.account.name == "actb" && found.share == share)
        let log = Array(emu.requestLog[mark...])
        #expect(log.contains { $0.hasPrefix("GET /acta/\(share)?restype=share -> 404") }, "\(log)")
        #expect(!log.contains { $0.hasPrefix("PUT ") }, "nothing created: \(log)")
        #expect(!FileManager.default.fileExists(atPath: "\(emu.dataDir)/acta/\(share)"))
    }

    /// A config whose ledger holds `user` with one lease and no mount (a session whose mount was lost).
    func ledgerWithALease(_ cfg: TestConfig, _ user: String, mounted: Bool = false) throws {
        let share = ShareName.forUser(user, prefix: "pus")
        try LedgerStore(path: cfg.dir.file("state/ledger.json")).update { l in
            l.entries[user] = Ledger.Entry(
                user: user, uid: 42013, gid: 100, backend: .azure, account: "pusacct", share: share,
                source: "//127.0.0.1/\(share)", mountpoint: cfg.dir.file("mnt/\(user)"), optionsDigest: "x",
                credentialsPath: cfg.dir.file("creds/\(share).cred"), mounted: mounted,
                leases: [Ledger.Lease(session: "s1", createdAt: 1)], now: 1)
        }
    }

    /// M09. deprovision refuses while a local lease exists, even when no mount is recorded; nothing is deleted.
    /// M10. deprovision --force with a local lease deletes the share but keeps the ledger record, and says so.
    @Test func deprovisionRefusesALeaseWithoutAMountAndForceKeepsTheRecord() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(13)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(try cfg.run(["provision", user]).status == 0)
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        try ledgerWithALease(cfg, user)
        let refused = try cfg.run(["deprovision", user, "--yes"])
        #expect(
            refused.status == 1 && refused.stderr.contains("still has 1 lease(s) on this node"), "\(refused.stderr)")
        #expect(
            FileManager.default.fileExists(atPath: "\(emu.dataDir)/pusacct/\(share)")
                && !emu.requestLog.contains { $0.hasPrefix("DELETE ") })

        let forced = try cfg.run(["--json", "deprovision", user, "--yes", "--force"])
        #expect(forced.status == 0, "\(forced.stderr)")
        let j = try json(forced.stdout)
        #expect(j["ledger_record_removed"] as? Bool == false, "\(j)")
        #expect(
            try LedgerStore(path: dir.file("state/ledger.json")).read().entries[user]?.leases.count == 1,
            "the record stays with its lease")
        // The control: without a lease the record goes.
        let other = TestUsers.name(14)
        #expect(try cfg.run(["provision", other]).status == 0)
        try LedgerStore(path: dir.file("state/ledger.json")).update { l in
            l.entries[other] = Ledger.Entry(
                user: other, uid: 42014, gid: 100, backend: .azure, account: "pusacct",
                share: ShareName.forUser(other, prefix: "pus"), source: "//127.0.0.1/x",
                mountpoint: dir.file("mnt/\(other)"),
                optionsDigest: "x", credentialsPath: nil, mounted: false, leases: [], now: 1)
        }
        let plain = try cfg.run(["--json", "deprovision", other, "--yes"])
        let removed = (try? json(plain.stdout))?["ledger_record_removed"] as? Bool
        #expect(plain.status == 0 && removed == true, "\(plain.stdout) \(plain.stderr)")
    }

    /// M11. A secret that reaches an audited field (an error or result text carrying sig= or password=) is
    /// redacted in the audit log.
    @Test func aSecretInAnAuditedFieldIsRedacted() throws {
        let dir = TempDir()
        let path = dir.file("audit.jsonl")
        AuditLog.record(
            path: path, command: "get", outcome: "failed",
            fields: [
                ("error", .string("GET https://a.file.core.windows.net/s/f?sv=2025&sig=SECRETSIG123 failed")),
                ("detail", .string("mount.cifs said password=SECRETPW456, retrying")),
            ]
        ) { Issue.record("\($0)") }
        let line = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!line.contains("SECRETSIG123") && !line.contains("SECRETPW456"), "\(line)")
        #expect(line.contains("sig=") && line.contains("password="), "the keys stay, the values go: \(line)")
    }

    /// M12. The SAS expiry cap is measured from now: a future --start cannot push the expiry past it; a 24 h
    /// expiry with the default start is accepted.
    @Test func theSASExpiryCapIsMeasuredFromNow() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: "[sas]\nmax_expiry_hours = 24\n")
        let user = TestUsers.name(15)
        #expect(try cfg.run(["provision", user]).status == 0)
        let now = Int(Date().timeIntervalSince1970)
        let start = SAS.timestamp(now + 20 * 3600)
        let expiry = SAS.timestamp(now + 25 * 3600)
        let far = try cfg.run(["sas", user, "--start", start, "--expiry", expiry])
        #expect(
            far.status == 65 && far.stderr.contains("more than sas.max_expiry_hours"), "\(far.status) \(far.stderr)")
        let day = try cfg.run(["--json", "sas", user, "--expiry", "24h"])
        #expect(day.status == 0, "\(day.stderr)")
        #expect((try? json(day.stdout))?["url"] is String)
    }

    /// M13. A [[volumes]] entry with the default read_only is mounted read-only: `ro`, file_mode 0444 and
    /// dir_mode 0555 in the options handed to mount(2).
    @Test func aVolumeWithTheDefaultReadOnlyIsMountedRo() throws {
        let dir = TempDir()
        var config = try ConfigLoader.parse(
            """
            [[azure.accounts]]
            name = "acct"
            key_file = "/nonexistent.key"
            [[volumes]]
            name = "data"
            account = "acct"
            share = "data"
            mountpoint = "\(dir.file("datasets/data"))"
            """, source: "test.toml")
        config.stateDir = dir.file("state")
        config.credentialsDir = dir.file("creds")
        config.mountRoot = dir.file("mnt")
        config.auditLog = dir.file("audit.jsonl")
        let mounter = FakeMounter()
        let spec = try AccountSpec(
            name: "acct", keys: KeyFile(key1: Secret(EmulatorProcess.testKey)), weight: 1,
            endpointSuffix: "core.windows.net",
            fileEndpoint: "http://127.0.0.1:9/acct", smbHost: "smb.example")
        let az = AzureStorage(
            accounts: [spec], prefix: "pus",
            makeTransport: {
                ScriptedTransport { r in
                    Issue.record("no REST request expected: \(r.method) \(r.url)")
                    return HTTPResponse(status: 500, headers: [:], body: [])
                }
            },
            retry: .none, logger: Self.quiet)
        let node = Node(
            config: config,
            ports: Node.Ports(
                mounter: mounter, mountTable: mounter, probe: HealthProbe(executable: "/bin/true"),
                processes: FakeProcesses(), sameDirectory: mounter.sameDirectory, clock: { 1_800_000_000 }),
            azure: { az }, logger: Self.quiet)
        let r = try node.reconcile(ReconcileOptions())
        #expect(r.actions.contains { $0.result == .done }, "\(r.actions.map(\.finding.what))")
        let options = try #require(mounter.specs.first { $0.target == dir.file("datasets/data") }?.options).split(
            separator: ","
        ).map(String.init)
        #expect(
            options.contains("ro") && options.contains("file_mode=0444") && options.contains("dir_mode=0555"),
            "\(options)")
        #expect(!options.contains("rw"))
    }

    /// M15. A 503 with `Retry-After: N` makes the client wait N seconds (within the budget), not the jittered
    /// backoff (here at most 20 ms).
    @Test func aRetryAfterIsHonoured() throws {
        var answers = [
            HTTPResponse(status: 503, headers: ["retry-after": "1", "x-ms-error-code": "ServerBusy"], body: []),
            HTTPResponse(
                status: 200, headers: ["x-ms-meta-pus_user": "alice", "etag": "\"1\"", "x-ms-share-quota": "5"],
                body: []),
        ]
        let transport = ScriptedTransport { _ in answers.removeFirst() }
        let c = FilesClient(
            endpoint: AccountEndpoint(
                account: "acct", key: SharedKey(account: "acct", key: Secret(EmulatorProcess.testKey))!,
                endpointSuffix: "core.windows.net", override: "http://127.0.0.1:9/acct"),
            transport: transport,
            retry: RetryPolicy(maxAttempts: 3, initialDelay: 0.01, maxDelay: 0.02, totalBudget: 10),
            logger: Self.quiet)
        let t0 = Clock.monotonicSeconds()
        _ = try c.getShareProperties("pus-alice-1")
        let waited = Clock.monotonicSeconds() - t0
        #expect(transport.sent.count == 2)
        #expect(waited >= 0.99, "Retry-After: 1 was not honoured (waited \(waited) s)")
        // The policy itself: the server's value, not the backoff; none past the budget.
        let p = RetryPolicy(maxAttempts: 3, initialDelay: 0.01, maxDelay: 0.02, totalBudget: 10)
        #expect(p.delay(beforeRetry: 1, elapsed: 0, retryAfter: 3, random: 0.5) == 3)
        #expect(p.delay(beforeRetry: 1, elapsed: 8, retryAfter: 3, random: 0.5) == nil)
    }

    /// M16. With the real libmount mounter, a mount whose helper never answers is abandoned at
    /// mount.timeout_seconds: exit 75, no lease, no credentials file, nothing mounted (mount.cifs replaced by a
    /// sleeper in the test's own mount namespace).
    @Test func aMountThatNeverAnswersIsAbandonedAtTheTimeout() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu, mount: "timeout_seconds = 2")
        let user = TestUsers.name(16)
        let ns = try MountNamespace()
        let sleeper = dir.write("mount.cifs", "#!/bin/sh\nexec sleep 600\n", mode: 0o755)
        let helper =
            FileManager.default.fileExists(atPath: "/sbin/mount.cifs") ? "/sbin/mount.cifs" : "/usr/sbin/mount.cifs"
        let r = try ns.sh(
            "mount --bind \(sleeper) \(helper) && exec timeout 60 \(Binaries.pusMount) --config \(cfg.path) attach \(user)"
        )
        #expect(r.status == 75, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("did not complete within mount.timeout_seconds = 2 s"), "\(r.stderr)")
        let ledger = try? LedgerStore(path: dir.file("state/ledger.json")).read()
        #expect(ledger?.entries[user]?.leases.isEmpty ?? true, "no lease")
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.file("creds"))) ?? []).isEmpty,
            "no credentials file")
        #expect(ns.mounts(at: dir.file("mnt/\(user)")).isEmpty)
    }

    /// M17. XML character references decode to the right character: decimal and hexadecimal alike.
    @Test func xmlCharacterReferencesDecode() throws {
        let e = try #require(XMLElement.parse(Array("<E><Message>&#937; &#x3A9; &#65;&lt;&amp;</Message></E>".utf8)))
        #expect(e.text(of: "Message") == "\u{3A9} \u{3A9} A<&")
    }

    /// M18. rotate-key with several accounts rewrites every account's credentials files.
    @Test func rotateKeyRewritesEveryAccountsCredentialsFiles() throws {
        let dir = TempDir()
        let ka = EmulatorProcess.testKey
        let kb = EmulatorProcess.otherKey(1)
        let ka2 = EmulatorProcess.otherKey(2)
        let kb2 = EmulatorProcess.otherKey(3)
        let emu = try EmulatorProcess(
            dir: dir, account: "acta", key: ka, moreAccounts: [("actb", kb), ("acta", ka2), ("actb", kb2)])
        func config(_ keys: [String: String]) -> String {
            var text = "backend = \"azure\"\n"
            for name in ["acta", "actb"] {
                let kf = dir.write("\(name).key", keys[name]! + "\n", mode: 0o600)
                text +=
                    "[[azure.accounts]]\nname = \"\(name)\"\nkey_file = \"\(kf)\"\nfile_endpoint = \"\(emu.endpoint(of: name))\"\nsmb_host = \"127.0.0.1\"\n"
            }
            text +=
                "[mount]\nroot = \"\(dir.file("mnt"))\"\n[paths]\nstate_dir = \"\(dir.file("state"))\"\ncredentials_dir = \"\(dir.file("creds"))\"\naudit_log = \"\(dir.file("audit.jsonl"))\"\n"
            return dir.write("c.toml", text, mode: 0o644)
        }
        let cfg = config(["acta": ka, "actb": kb])
        let ua = TestUsers.name(17)
        let ub = TestUsers.name(18)
        // One user's share in each account (made by hand, owned by the user), then attached.
        #expect(
            try client(emu, "acta", ka).createShare(
                ShareName.forUser(ua, prefix: "pus"), quotaGiB: 1, metadata: [("pus_user", ua)]) == .created)
        #expect(
            try client(emu, "actb", kb).createShare(
                ShareName.forUser(ub, prefix: "pus"), quotaGiB: 1, metadata: [("pus_user", ub)]) == .created)
        let ns = try MountNamespace()
        for u in [ua, ub] {
            let r = try ns.run(Binaries.pusMount, ["--config", cfg, "attach", u, "--fake-mount"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.file("creds")).sorted()
        #expect(files.count == 2, "\(files)")
        _ = config(["acta": "\(ka)\n\(ka2)", "actb": "\(kb)\n\(kb2)"])
        let r = try Run.run(Binaries.pusMount, ["--config", cfg, "--json", "rotate-key"])
        #expect(r.status == 0, "\(r.stderr)")
        for (file, user, k1, k2) in [
            (ShareName.forUser(ua, prefix: "pus"), ua, ka, ka2), (ShareName.forUser(ub, prefix: "pus"), ub, kb, kb2),
        ] {
            let text = try String(contentsOfFile: dir.file("creds/\(file).cred"), encoding: .utf8)
            let account = user == ua ? "acta" : "actb"
            #expect(text == "username=\(account)\npassword2=\(k2)\npassword=\(k1)\n", "\(file) was not rewritten")
        }
    }

    /// Issue 15, item 9. --metrics-file through a symlinked parent that a user owns (pointing at a directory
    /// the user cannot write) is refused: root writes nothing there; a user-owned parent directory too.
    @Test func theMetricsFileIsNotWrittenWhereAUserCouldRedirectIt() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let uid = 42019
        let owned = dir.file("userdir")
        let protected = dir.file("rootonly")
        try FileManager.default.createDirectory(atPath: owned, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: protected, withIntermediateDirectories: true)
        chmod(protected, 0o700)
        chown(owned, uid_t(uid), 100)
        #expect(symlink(protected, "\(owned)/link") == 0)
        lchown("\(owned)/link", uid_t(uid), 100)
        // A link in a root-owned directory that a user owns: not followed. (Root's own links are followed and
        // their targets checked by the same rule.)
        let rootDir = dir.file("rootdir")
        try FileManager.default.createDirectory(atPath: rootDir, withIntermediateDirectories: true)
        #expect(symlink(protected, "\(rootDir)/ulink") == 0 && lchown("\(rootDir)/ulink", uid_t(uid), 100) == 0)
        #expect(symlink(owned, "\(rootDir)/rlink") == 0)
        for (target, why) in [
            ("\(owned)/link/pus.prom", "lies in \(owned), owned by uid \(uid)"),
            ("\(owned)/pus.prom", "lies in \(owned), owned by uid \(uid)"),
            ("\(rootDir)/ulink/pus.prom", "passes through the symlink \(rootDir)/ulink, owned by uid \(uid)"),
            ("\(rootDir)/rlink/pus.prom", "lies in \(owned), owned by uid \(uid)"),
        ] {
            let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "reconcile", "--metrics-file", target])
            #expect(
                r.stderr.contains("could not write the metrics file") && r.stderr.contains(why),
                "\(target): \(r.stderr)")
        }
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: protected)) ?? ["?"]).isEmpty,
            "nothing written behind the link")
        #expect(!FileManager.default.fileExists(atPath: "\(owned)/pus.prom"))
        // The control: a root-owned directory works, also through root's own link to it.
        #expect(symlink(protected, "\(rootDir)/ok") == 0)
        let ok = try ns.run(
            Binaries.pusMount, ["--config", cfg.path, "reconcile", "--metrics-file", "\(rootDir)/ok/pus.prom"])
        #expect(
            ok.status == 0 && FileManager.default.fileExists(atPath: "\(protected)/pus.prom")
                && !ok.stderr.contains("metrics"), "\(ok.stderr)")
    }

    /// Issue 15, item 9. An existing audit log that a user owns (mode 0666), or that is group-writable, is
    /// refused: not appended to (the user could truncate or forge it); the command itself still runs.
    @Test(arguments: [(42019, mode_t(0o666)), (0, mode_t(0o660))])
    func anAuditLogAUserCouldWriteIsRefused(_ c: (Int, mode_t)) throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let log = dir.write("audit.jsonl", "forged\n", mode: c.1)
        chown(log, uid_t(c.0), 100)
        let ns = try MountNamespace()
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", TestUsers.name(19)])
        #expect(r.status == 0, "the attach itself succeeds: \(r.stderr)")
        #expect(
            r.stderr.contains("could not append to the audit log") && r.stderr.contains("will not write to it"),
            "\(r.stderr)")
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "forged\n")
        _ = try ns.run(Binaries.pusMount, ["--config", cfg.path, "detach", TestUsers.name(19)])
        let doctor = try ns.run(Binaries.pusMount, ["--config", cfg.path, "doctor"])
        #expect(doctor.status == 1 && doctor.stdout.contains("fail audit log: audit log \(log)"), "\(doctor.stdout)")
    }

    /// Issue 15, item 1. deprovision holds the user's lock for its whole run: an attach that starts while it
    /// works (here once deprovision's first request has reached a slow emulator, so deprovision holds the lock)
    /// waits, and then finds the share gone. The request log shows the share's DELETE before attach's lookup;
    /// the ledger records the attach (never a mount on a deleted share with its record erased).
    @Test func deprovisionAndAttachDoNotInterleave() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--fault", "latency:400"])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(20)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(try cfg.run(["provision", user]).status == 0)
        let ns = try MountNamespace()
        let p = "\(Binaries.pusMount) --config \(cfg.path)"
        let r = try ns.sh(
            """
            n0=$(wc -l < \(emu.logPath))
            \(p) deprovision \(user) --yes > \(dir.file("dep.out")) 2>&1 & dep=$!
            for i in $(seq 600); do [ "$(wc -l < \(emu.logPath))" -gt "$n0" ] && break; sleep 0.02; done
            \(p) attach \(user) --session live --fake-mount > \(dir.file("att.out")) 2>&1; echo "attach=$?"
            wait $dep; echo "deprovision=$?"
            """)
        #expect(
            r.stdout.contains("attach=0") && r.stdout.contains("deprovision=0"),
            "\(r.stdout) \((try? String(contentsOfFile: dir.file("dep.out"), encoding: .utf8)) ?? "") \((try? String(contentsOfFile: dir.file("att.out"), encoding: .utf8)) ?? "")"
        )
        let log = emu.requestLog
        let delete = try #require(
            log.firstIndex { $0.hasPrefix("DELETE /\(emu.account)/\(share)?restype=share") }, "\(log)")
        let lastCreate = try #require(
            log.lastIndex { $0.hasPrefix("PUT /\(emu.account)/\(share)?restype=share -> 201") })
        #expect(lastCreate > delete, "attach ran after the delete and made the share anew: \(log)")
        let entry = try #require(
            try LedgerStore(path: dir.file("state/ledger.json")).read().entries[user], "the attach is recorded")
        #expect(entry.leases.map(\.session) == ["live"])
        #expect(
            FileManager.default.fileExists(atPath: "\(emu.dataDir)/\(emu.account)/\(share)"),
            "the share the mount names exists")
    }
}
