import AzureFiles
import Foundation
import Logging
import SystemSupport
import TestSupport
import Testing

/// A plain client on the emulator's account (a snapshot taken by someone else than pus-mount).
struct ShareClientForTest {
    let client: FilesClient
    init(_ emu: EmulatorProcess) throws {
        let key = try #require(SharedKey(account: emu.account, key: Secret(emu.key)))
        client = FilesClient(
            endpoint: AccountEndpoint(account: emu.account, key: key, override: emu.endpoint),
            transport: LazyCurlTransport(), retry: .none, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }
    func snapshot(_ share: String) throws -> String { try client.createSnapshot(share) }
}

/// Fleet operations (issue 19): capacity-aware placement, throttling, where a user is mounted.
@Suite(.serialized) struct FleetTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// Accounts with max_shares and weights, written as a config; `extra` accounts are appended as given.
    func config(
        _ dir: TempDir, _ emu: EmulatorProcess, _ accounts: [(name: String, weight: Int, cap: Int?, extra: String)],
        file: String
    ) -> TestConfig {
        var text = "backend = \"azure\"\n"
        for (i, a) in accounts.enumerated() {
            let key = dir.write(
                "\(a.name).key", (i == 0 ? EmulatorProcess.testKey : EmulatorProcess.otherKey(i)) + "\n", mode: 0o600)
            text += """
                [[azure.accounts]]
                name = "\(a.name)"
                key_file = "\(key)"
                file_endpoint = "\(emu.endpoint(of: a.name))"
                weight = \(a.weight)
                \(a.cap.map { "max_shares = \($0)" } ?? "")
                \(a.extra)

                """
        }
        text += """
            [paths]
            state_dir = "\(dir.file("state"))"
            credentials_dir = "\(dir.file("creds"))"
            audit_log = "\(dir.file("audit.jsonl"))"
            [retry]
            max_attempts = 2
            initial_delay_ms = 10
            total_seconds = 5

            """
        return TestConfig(existing: dir.write(file, text, mode: 0o600), dir: dir)
    }

    func shares(_ emu: EmulatorProcess, _ account: String) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(emu.dataDir)/\(account)")) ?? []).filter {
            !$0.hasPrefix(".")
        }.count
    }

    /// The issue's figures: caps 2, 2 and 100 with weights 1000, 1000 and 1: ten new users put two in each of
    /// the first two and six in the third; a fourth account added as draining gets none; existing users stay
    /// put; with every account full, provision exits 75 and creates nothing.
    @Test func fullAndDrainingAccountsAreSkipped() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(
            dir: dir, account: "acca",
            moreAccounts: [
                ("accb", EmulatorProcess.otherKey(1)), ("accc", EmulatorProcess.otherKey(2)),
                ("accd", EmulatorProcess.otherKey(3)),
            ])
        let three = [("acca", 1000, 2, ""), ("accb", 1000, 2, ""), ("accc", 1, 100, "")].map {
            (name: $0.0, weight: $0.1, cap: Optional($0.2), extra: $0.3)
        }
        let cfg = config(
            dir, emu, three + [(name: "accd", weight: 1000, cap: nil, extra: "draining = true")], file: "c.toml")
        var placed: [String: String] = [:]
        for i in 1...10 {
            let user = TestUsers.name(30 + i)
            let r = try cfg.run(["--json", "provision", user])
            #expect(r.status == 0, "\(user): \(r.stderr)")
            placed[user] = try json(r.stdout)["account"] as? String
        }
        #expect(shares(emu, "acca") == 2 && shares(emu, "accb") == 2, "\(placed)")
        #expect(shares(emu, "accc") == 6 && shares(emu, "accd") == 0, "\(placed)")
        // Existing users stay put: provisioning them again finds each where it is.
        for (user, account) in placed {
            let r = try cfg.run(["--json", "provision", user])
            #expect(try json(r.stdout)["account"] as? String == account && json(r.stdout)["created"] as? Bool == false)
        }
        let acc = try json(try cfg.run(["--json", "accounts"]).stdout)["accounts"] as? [[String: Any]] ?? []
        #expect(acc.map { $0["shares"] as? Int } == [2, 2, 6, 0])
        #expect(acc.map { $0["takes_new_users"] as? Bool } == [false, false, true, false])
        // The metrics file reports each account's count (as `accounts` last counted it) against its cap, and
        // reconcile asks Azure nothing for it.
        let sent = emu.requestLog.count
        let prom = dir.file("m.prom")
        #expect(try cfg.run(["reconcile", "--metrics-file", prom]).status == 0)
        #expect(emu.requestLog.count == sent, "reconcile without drift sends no request")
        let m = try String(contentsOfFile: prom, encoding: .utf8)
        for line in [
            "pus_mount_account_shares{account=\"acca\"} 2", "pus_mount_account_shares{account=\"accc\"} 6",
            "pus_mount_account_shares{account=\"accd\"} 0", "pus_mount_account_max_shares{account=\"acca\"} 2",
            "pus_mount_account_max_shares{account=\"accc\"} 100",
            "pus_mount_account_takes_new_users{account=\"acca\"} 0",
            "pus_mount_account_takes_new_users{account=\"accc\"} 1",
            "pus_mount_account_takes_new_users{account=\"accd\"} 0",
        ] {
            #expect(m.contains(line + "\n"), "\(line) missing from:\n\(m)")
        }
        #expect(!m.contains("pus_mount_account_max_shares{account=\"accd\"}"), "accd has no cap")
        let doctor = try cfg.run(["doctor"]).stdout
        #expect(doctor.contains("warn account acca: capacity: 2 of 2 users' shares: full"), "\(doctor)")
        #expect(doctor.contains("ok   account accc: capacity: 6 of 100 users' shares"), "\(doctor)")
        #expect(doctor.contains("account accd: capacity: 0 users' shares; draining"), "\(doctor)")
        // Every account full or draining: 75, nothing created.
        let tight = config(
            dir, emu,
            [
                (name: "acca", weight: 1, cap: 2, extra: ""), (name: "accb", weight: 1, cap: 2, extra: ""),
                (name: "accc", weight: 1, cap: 6, extra: ""),
                (name: "accd", weight: 1, cap: nil, extra: "draining = true"),
            ], file: "tight.toml")
        let before = emu.requestLog.filter { $0.contains("restype=share -> 201") }.count
        let full = try tight.run(["provision", TestUsers.name(45)])
        #expect(full.status == 75, "\(full.stderr)")
        #expect(full.stderr.contains("add an account") && full.stderr.contains("acca (2 of 2)"), "\(full.stderr)")
        #expect(emu.requestLog.filter { $0.contains("restype=share -> 201") }.count == before, "nothing created")
    }

    /// An account without a cap that the service refuses as full (409 TotalSharesCountExceedsAccountLimit) is
    /// skipped for the next one in placement order by provision.
    @Test func theServicesOwnRefusalMovesOnToTheNextAccount() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(
            dir: dir, account: "acca", moreAccounts: [("accb", EmulatorProcess.otherKey(1))],
            extraArgs: ["--max-shares", "acca=0"])
        let cfg = config(
            dir, emu,
            [(name: "acca", weight: 1000, cap: nil, extra: ""), (name: "accb", weight: 1, cap: nil, extra: "")],
            file: "c.toml")
        let r = try cfg.run(["--json", "provision", TestUsers.name(46)])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try json(r.stdout)["account"] as? String == "accb")
        #expect(emu.operationLog.contains { $0.contains("409 TotalSharesCountExceedsAccountLimit") })
        let prom = dir.file("m.prom")
        #expect(try cfg.run(["reconcile", "--metrics-file", prom]).status == 0)
        let m = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(m.contains("pus_mount_service_account_full_total{account=\"acca\"} 1\n"), "\(m)")
    }

    /// Throttling: 503 ServerBusy is retried within the budget and then exits 75 naming the limit the service
    /// reported (here egress); the retries honour Retry-After.
    @Test func throttlingPastTheBudgetIsATemporaryFailureNamingTheLimit() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--fault", "503:ServerBusy:1:egress:retry-after=0"])
        let cfg = TestConfig(
            dir: dir, emulator: emu, retry: "max_attempts = 3\ninitial_delay_ms = 10\ntotal_seconds = 5")
        let r = try cfg.run(["provision", TestUsers.name(47)])
        #expect(r.status == 75, "\(r.stderr)")
        #expect(r.stderr.contains("ServerBusy") && r.stderr.contains("Egress is over the account limit"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count <= 2, "one line (and its hint): \(r.stderr)")
        #expect(emu.operationLog.count == 3, "three attempts within the budget: \(emu.operationLog)")
        // Counted in the metrics file: every throttled answer, by the limit the service named.
        let prom = dir.file("m.prom")
        _ = try cfg.run(["reconcile", "--metrics-file", prom])
        let m = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(
            m.contains("pus_mount_service_throttled_total{account=\"\(emu.account)\",limit=\"egress\"} 3\n"), "\(m)")
        _ = try cfg.run(["provision", TestUsers.name(47)])
        _ = try cfg.run(["reconcile", "--metrics-file", prom])
        #expect(
            try String(contentsOfFile: prom, encoding: .utf8).contains(
                "pus_mount_service_throttled_total{account=\"\(emu.account)\",limit=\"egress\"} 6\n"),
            "counters add up across runs")
    }

    /// HandleLimitExceeded: one line naming the share and the limit, exit 75, counted in the metrics file.
    @Test func theOpenHandleLimitNamesTheShare() throws {
        let dir = TempDir()
        let user = TestUsers.name(47)
        let share = ShareName.forUser(user, prefix: "pus")
        let setup = try EmulatorProcess(dir: dir)
        let plain = TestConfig(dir: dir, emulator: setup)
        #expect(try plain.run(["provision", user]).status == 0)
        setup.process.terminate()
        setup.process.waitUntilExit()
        // The same data directory, now answering every request as a share at its handle limit would.
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--fault", "400:HandleLimitExceeded:1"])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let r = try cfg.run(["ls", user])
        #expect(r.status == 75, "\(r.stderr)")
        #expect(r.stderr.contains("HandleLimitExceeded (HTTP 400) on share \(share)"), "\(r.stderr)")
        #expect(r.stderr.contains("share \(share) is at the service's open-handle limit (10,000"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        let prom = dir.file("m.prom")
        _ = try cfg.run(["reconcile", "--metrics-file", prom])
        let m = try String(contentsOfFile: prom, encoding: .utf8)
        #expect(m.contains("pus_mount_service_handle_limit_total{account=\"\(emu.account)\"} 1\n"), "\(m)")
    }

    /// where: the clients with open handles on the user's share, grouped by address (the port dropped), busiest
    /// first, the service's client name kept, this node's own address marked.
    @Test func whereListsTheClientsOfAShare() throws {
        let dir = TempDir()
        let hook = dir.write(
            "handles.sh",
            """
            #!/bin/sh
            printf 'a.txt\\t10.9.8.7:50001\\tnode17\\n'
            printf 'b/c.txt\\t10.9.8.7:50002\\tnode17\\n'
            printf 'd.txt\\t10.9.8.7:50003\\tnode17\\n'
            printf 'e.txt\\t127.0.0.1:445\\t\\n'
            """, mode: 0o755)
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--handles-hook", hook])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(48)
        #expect(try cfg.run(["provision", user]).status == 0)
        let r = try cfg.run(["--json", "where", user, "--no-resolve"])
        #expect(r.status == 0, "\(r.stderr)")
        let clients = try #require(try json(r.stdout)["clients"] as? [[String: Any]])
        #expect(clients.map { $0["address"] as? String } == ["10.9.8.7", "127.0.0.1"], "\(clients)")
        #expect(clients.map { $0["handles"] as? Int } == [3, 1])
        #expect(clients.first?["name"] as? String == "node17" && clients.first?["this_node"] as? Bool == false)
        #expect(clients.last?["this_node"] as? Bool == true, "127.0.0.1 is one of this node's addresses")
        #expect((clients.first?["oldest_open"] as? String)?.hasSuffix("GMT") == true)
        let human = try cfg.run(["where", user, "--no-resolve"]).stdout
        #expect(human.contains("(this node)") && human.contains("node17"), "\(human)")
        // A configured map names a client (before the service's name and DNS); a key that is no address is 78.
        let base = try String(contentsOfFile: cfg.path, encoding: .utf8)
        let mapped = TestConfig(
            existing: dir.write(
                "mapped.toml", base + "\n[nodes]\n\"127.0.0.1\" = \"login-1\"\n\"10.9.8.7\" = \"gpu-17\"\n", mode: 0o600
            ),
            dir: dir)
        let mr = try mapped.run(["--json", "where", user, "--no-resolve"])
        #expect(mr.status == 0, "\(mr.stderr)")
        let named = try #require(try json(mr.stdout)["clients"] as? [[String: Any]])
        #expect(named.map { $0["name"] as? String } == ["gpu-17", "login-1"], "\(named)")
        let bad = TestConfig(
            existing: dir.write("bad.toml", base + "\n[nodes]\n\"node17\" = \"x\"\n", mode: 0o600), dir: dir)
        let br = try bad.run(["where", user])
        #expect(br.status == 78 && br.stderr.contains("nodes key \"node17\" is not an IP address"), "\(br.stderr)")
    }

    /// Mount profiles: a premium account's mounts get SMB multichannel (max_channels from the config), a standard
    /// one's do not; unknown profiles and max_channels outside premium are configuration errors; doctor warns
    /// that vers 3.0 leaves encryption in transit off.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/sbin/mount.cifs")))
    func premiumAccountsMountWithMultichannel() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let ns = try MountNamespace()
        func options(_ extra: String, vers: String = "3.0") throws -> (String?, TestConfig) {
            let base = TestConfig(dir: dir, emulator: emu, mount: "vers = \"\(vers)\"")
            let text = try String(contentsOfFile: base.path, encoding: .utf8).replacingOccurrences(
                of: "smb_host = \"127.0.0.1\"\n", with: "smb_host = \"127.0.0.1\"\n\(extra)\n")
            let cfg = TestConfig(existing: dir.write("p.toml", text, mode: 0o600), dir: dir)
            let user = TestUsers.name(49)
            let r = try ns.run(
                Binaries.pusMount, ["--config", cfg.path, "--json", "attach", user, "--fake-mount", "--dry-run"])
            let plan = (try? json(r.stdout))?["plan"] as? [String: Any]
            return ((plan?["mount"] as? [String: String])?["options"], cfg)
        }
        let (premium, _) = try options("profile = \"premium\"\nmax_channels = 2")
        #expect(premium?.hasSuffix(",multichannel,max_channels=2") == true, "\(premium ?? "no plan")")
        let (standard, cfg) = try options("profile = \"standard\"", vers: "3.1.1")
        #expect(standard?.contains("multichannel") == false && standard?.hasPrefix("vers=3.1.1,") == true)
        #expect(try cfg.run(["doctor"]).stdout.contains("ok   smb dialect: mount.vers = \"3.1.1\""))
        let (_, old) = try options("")
        #expect(
            try old.run(["doctor"]).stdout.contains(
                "warn smb dialect: mount.vers = \"3.0\": SMB encryption in transit is off"))
        let (_, gold) = try options("profile = \"gold\"")
        let g = try gold.run(["status"])
        #expect(g.status == 78 && g.stderr.contains("profile"), "\(g.stderr)")
        let (_, bad) = try options("max_channels = 2")
        #expect(try bad.run(["status"]).status == 78)
    }

    /// Snapshots a user can get back: `snapshots` lists what `snapshot` made (and marks it), `--keep 2` leaves
    /// two of pus-mount's own, `restore` copies a file and a directory tree back byte-identical (server-side), and
    /// refuses to overwrite an existing file without --force.
    @Test func snapshotsAndRestore() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(44)
        #expect(try cfg.run(["provision", user]).status == 0)
        let share = "\(emu.dataDir)/\(emu.account)/" + ShareName.forUser(user, prefix: "pus")
        try FileManager.default.createDirectory(atPath: share + "/proj/sub", withIntermediateDirectories: true)
        let a = Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        FileManager.default.createFile(atPath: share + "/proj/a.bin", contents: a)
        FileManager.default.createFile(atPath: share + "/proj/sub/b.txt", contents: Data("bee".utf8))
        // Someone else's snapshot (no pus_snapshot metadata), then three of pus-mount's.
        let other = try ShareClientForTest(emu).snapshot(ShareName.forUser(user, prefix: "pus"))
        var taken: [String] = []
        for i in 0..<3 {
            let r = try cfg.run(["--json", "snapshot", user] + (i == 2 ? ["--keep", "2"] : []))
            #expect(r.status == 0, "\(r.stderr)")
            taken.append(try json(r.stdout)["snapshot"] as? String ?? "")
            if i == 2 { #expect(try json(r.stdout)["pruned"] as? [String] == [taken[0]]) }
        }
        let listed = try json(try cfg.run(["--json", "snapshots", user]).stdout)["snapshots"] as? [[String: Any]] ?? []
        #expect(listed.map { $0["time"] as? String } == [other, taken[1], taken[2]], "\(listed)")
        #expect(listed.map { $0["by_pus_mount"] as? Bool } == [false, true, true])
        // The files change after the snapshots; restore brings back the snapshot's bytes.
        FileManager.default.createFile(atPath: share + "/proj/a.bin", contents: Data("changed".utf8))
        try FileManager.default.removeItem(atPath: share + "/proj/sub")
        let refused = try cfg.run(["restore", user, "--snapshot", taken[2], "proj/a.bin"])
        #expect(refused.status == 1 && refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(FileManager.default.contents(atPath: share + "/proj/a.bin") == Data("changed".utf8), "nothing copied")
        let file = try cfg.run(["restore", user, "--snapshot", taken[2], "proj/a.bin", "--force"])
        #expect(file.status == 0, "\(file.stderr)")
        #expect(FileManager.default.contents(atPath: share + "/proj/a.bin") == a)
        let tree = try cfg.run(["--json", "restore", user, "--snapshot", taken[2], "proj", "--to", "back/proj"])
        #expect(tree.status == 0, "\(tree.stderr)")
        #expect(FileManager.default.contents(atPath: share + "/back/proj/a.bin") == a)
        #expect(FileManager.default.contents(atPath: share + "/back/proj/sub/b.txt") == Data("bee".utf8))
        #expect(emu.requestLog.filter { $0.hasPrefix("PUT") && $0.contains("-> 202") }.count == 3, "Copy File x3")
        let missing = try cfg.run(["restore", user, "--snapshot", "2001-01-01T00:00:00.0000000Z", "proj"])
        #expect(missing.status == 65, "\(missing.stderr)")
    }
}
