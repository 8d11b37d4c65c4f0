import AzureFiles
import Foundation
import Logging
import Storage
import SystemSupport
import TestSupport
import Testing

/// One share per user across nodes and accounts: every command finds the user's share where it is (the ledger
/// record, else every account at once, owner-checked) and creates one only when no account has it.
@Suite(.serialized) struct AccountsTests {
    struct Account {
        var name: String
        var key: String
        var weight: Int
        var endpoint: String? = nil
    }

    /// A node: its own config, ledger, credentials and mountpoints under `dir/<name>`, the given accounts.
    struct Node {
        let config: String
        let root: String

        init(_ name: String, dir: TempDir, emulator: EmulatorProcess, accounts: [Account]) {
            root = dir.file(name)
            var text = "backend = \"azure\"\n"
            for a in accounts {
                let keyFile = dir.write("\(name)-\(a.name).key", a.key + "\n", mode: 0o600)
                text += """
                    [[azure.accounts]]
                    name = "\(a.name)"
                    key_file = "\(keyFile)"
                    weight = \(a.weight)
                    file_endpoint = "\(a.endpoint ?? emulator.endpoint(of: a.name))"
                    smb_host = "127.0.0.1"

                    """
            }
            text += """
                [mount]
                root = "\(root)/mnt"
                [paths]
                state_dir = "\(root)/state"
                credentials_dir = "\(root)/creds"
                audit_log = "\(root)/audit.jsonl"
                [retry]
                max_attempts = 2
                initial_delay_ms = 20
                total_seconds = 5

                """
            config = dir.write("\(name).toml", text, mode: 0o644)
        }

        func run(_ args: [String]) throws -> RunResult { try Run.run(Binaries.pusMount, ["--config", config] + args) }
    }

    static let a = Account(name: "acta", key: EmulatorProcess.testKey, weight: 1)
    static let b = Account(name: "actb", key: EmulatorProcess.otherKey(1), weight: 1000)

    func emulator(_ dir: TempDir, more: [Account] = [b]) throws -> EmulatorProcess {
        try EmulatorProcess(
            dir: dir, account: Self.a.name, key: Self.a.key, moreAccounts: more.map { ($0.name, $0.key) })
    }

    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    func shareExists(_ emu: EmulatorProcess, _ account: String, _ share: String) -> Bool {
        FileManager.default.fileExists(atPath: "\(emu.dataDir)/\(account)/\(share)")
    }

    @Test func anExistingUserKeepsItsShareWhenAHeavierAccountIsAdded() throws {
        let dir = TempDir()
        let emu = try emulator(dir)
        let user = TestUsers.name(31)
        let newcomer = TestUsers.name(32)
        let share = ShareName.forUser(user, prefix: "pus")
        // Provisioned while only account A existed.
        let before = Node("before", dir: dir, emulator: emu, accounts: [Self.a])
        let p = try before.run(["--json", "provision", user])
        #expect(p.status == 0, "\(p.stderr)")
        #expect(shareExists(emu, "acta", share))
        #expect(try before.run(["put", user, dir.write("hello.txt", "hello from node A\n"), "hello.txt"]).status == 0)

        // Account B (weight 1000) added; a node that has never seen the user (empty ledger) runs every command.
        let node = Node("fresh", dir: dir, emulator: emu, accounts: [Self.a, Self.b])
        let mark = emu.requestLog.count
        var perCommand: [String: Int] = [:]
        func step(_ name: String, _ args: [String], namespace ns: MountNamespace? = nil) throws -> RunResult {
            let n0 = emu.requestLog.count
            let r = try ns.map { try $0.run(Binaries.pusMount, ["--config", node.config] + args) } ?? node.run(args)
            #expect(r.status == 0, "\(name): \(r.stderr)")
            perCommand[name] = emu.requestLog.count - n0
            return r
        }
        let ls = try step("ls", ["--json", "ls", user])
        #expect(
            (try json(ls.stdout)["entries"] as? [[String: Any]])?.contains { $0["name"] as? String == "hello.txt" }
                == true)
        let back = dir.file("back.txt")
        _ = try step("get", ["get", user, "hello.txt", back])
        #expect((try? String(contentsOfFile: back, encoding: .utf8)) == "hello from node A\n")
        _ = try step("put", ["put", user, dir.write("second.txt", "from the fresh node\n"), "second.txt"])
        let sas = try step("sas", ["--json", "sas", user])
        #expect((try json(sas.stdout)["url"] as? String)?.contains("/acta/\(share)?") == true)
        _ = try step("quota", ["quota", user])
        _ = try step("snapshot", ["snapshot", user])
        let prov = try step("provision", ["--json", "provision", user])
        #expect(try json(prov.stdout)["account"] as? String == "acta")
        #expect(try json(prov.stdout)["created"] as? Bool == false)
        let ns = try MountNamespace()
        let att = try step("attach", ["--json", "--verbose", "attach", user, "--fake-mount"], namespace: ns)
        let mount = (try json(att.stdout)["plan"] as? [String: Any])?["mount"] as? [String: String]
        #expect(mount?["source"] == "//127.0.0.1/\(share)")
        #expect(try json(att.stdout)["mounted_now"] as? Bool == true)
        let ledger = try json(String(contentsOfFile: "\(node.root)/state/ledger.json", encoding: .utf8))
        #expect(
            ((ledger["entries"] as? [String: Any])?[user] as? [String: Any])?["account"] as? String == "acta",
            "the ledger records account A")
        // After attach the ledger knows the account: one request for the owner check, in A only.
        _ = try step("ls after attach", ["ls", user])

        let log = Array(emu.requestLog[mark...])
        #expect(
            !log.contains { $0.hasPrefix("PUT /actb/") },
            "B received a write: \(log.filter { $0.hasPrefix("PUT /actb/") })")
        #expect(
            log.filter { $0.contains("/actb/") }.allSatisfy { $0.hasPrefix("GET /actb/\(share)?restype=share -> 404") })
        #expect(!shareExists(emu, "actb", share), "no second share in B")
        #expect(perCommand["ls after attach"] == 2, "a recorded user: 1 owner check + 1 listing; got \(perCommand)")
        print(
            "requests per command on a node with an empty ledger (2 accounts): \(perCommand.sorted { $0.key < $1.key })"
        )

        // A brand-new user lands in B.
        let np = try node.run(["--json", "provision", newcomer])
        #expect(np.status == 0, "\(np.stderr)")
        #expect(try json(np.stdout)["account"] as? String == "actb")
        #expect(shareExists(emu, "actb", ShareName.forUser(newcomer, prefix: "pus")))
        #expect(!shareExists(emu, "acta", ShareName.forUser(newcomer, prefix: "pus")))
    }

    @Test func everyRESTCommandRefusesAShareOwnedBySomeoneElseBeforeTouchingData() throws {
        let dir = TempDir()
        let emu = try emulator(dir)
        let user = TestUsers.name(33)
        let share = ShareName.forUser(user, prefix: "pus")
        // A share with the user's name but another owner, in account B.
        let client = FilesClient(
            endpoint: AccountEndpoint(
                account: "actb", key: SharedKey(account: "actb", key: Secret(Self.b.key))!,
                endpointSuffix: "core.windows.net", override: emu.endpoint(of: "actb")),
            transport: try CurlTransport(), retry: .none, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        #expect(try client.createShare(share, quotaGiB: 5, metadata: [("pus_user", "mallory")]) == .created)
        #expect(try client.createDirectory(share: share, path: "secret"))
        let node = Node("n", dir: dir, emulator: emu, accounts: [Self.a, Self.b])
        let local = dir.write("up.txt", "x\n")
        let commands: [[String]] = [
            ["ls", user], ["get", user, "secret/x", dir.file("got")], ["put", user, local, "up.txt"], ["sas", user],
            ["quota", user], ["quota", user, "--set", "7"], ["snapshot", user], ["provision", user],
            ["deprovision", user, "--yes"],
        ]
        for args in commands {
            let n0 = emu.requestLog.count
            let r = try node.run(args)
            #expect(r.status == 77, "\(args): exit \(r.status), \(r.stderr)")
            #expect(r.stderr.contains("belongs to user mallory, not \(user)"), "\(args): \(r.stderr)")
            let sent = emu.requestLog[n0...]
            #expect(
                sent.allSatisfy {
                    $0.hasPrefix("GET /acta/\(share)?restype=share -> 404")
                        || $0.hasPrefix("GET /actb/\(share)?restype=share -> 200")
                },
                "\(args) went past the owner check: \(Array(sent))")
        }
        let ns = try MountNamespace()
        let r = try ns.run(Binaries.pusMount, ["--config", node.config, "attach", user, "--fake-mount"])
        #expect(r.status == 77, "attach: \(r.stderr)")
        #expect(
            !FileManager.default.fileExists(atPath: "\(node.root)/creds/\(share).cred"),
            "no credentials file for someone else's share")
        #expect(!FileManager.default.fileExists(atPath: dir.file("got")))
        #expect(!FileManager.default.fileExists(atPath: "\(emu.dataDir)/actb/\(share)/up.txt"))
    }

    @Test func aNewUserIsNotCreatedWhileAnAccountCannotBeAsked() throws {
        let dir = TempDir()
        let emu = try emulator(dir)
        let user = TestUsers.name(34)
        // Account B's endpoint is a closed port: the user's share might be there.
        var down = Self.b
        down.endpoint = "http://127.0.0.1:9/actb"
        let node = Node("n", dir: dir, emulator: emu, accounts: [Self.a, down])
        let r = try node.run(["provision", user])
        #expect(r.status == 69, "\(r.stderr)")
        #expect(
            r.stderr.contains("could not ask account actb") && r.stderr.contains("nothing was created"), "\(r.stderr)")
        #expect(!emu.requestLog.contains { $0.hasPrefix("PUT ") }, "nothing may be created")
        let ns = try MountNamespace()
        let at = try ns.run(Binaries.pusMount, ["--config", node.config, "attach", user, "--fake-mount"])
        #expect(at.status == 69, "\(at.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(node.root)/mnt/\(user)"), "no mountpoint left behind")
        #expect(!emu.requestLog.contains { $0.hasPrefix("PUT ") })
        // Once the user's share is known in A, the unreachable B does not matter for finding it.
        let onlyA = Node("a", dir: dir, emulator: emu, accounts: [Self.a])
        #expect(try onlyA.run(["provision", user]).status == 0)
        #expect(try node.run(["ls", user]).status == 0)
    }

    /// A plain client on account B of the emulator: the "by hand" side (an administrator, an fstab-era script).
    func handClient(_ emu: EmulatorProcess) throws -> FilesClient {
        let key = try #require(SharedKey(account: Self.b.name, key: Secret(Self.b.key)))
        return FilesClient(
            endpoint: AccountEndpoint(account: Self.b.name, key: key, override: emu.endpoint(of: Self.b.name)),
            transport: LazyCurlTransport(), retry: .none, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }

    /// Issue 19, item 5: a share made by hand becomes the user's with `provision --adopt`; attach then mounts
    /// it, a second node with an empty ledger finds it by its metadata, and no share under the computed name is
    /// ever created. A foreign-owned share, a name in pus-mount's own name space, a missing share, a bad name
    /// and a second adoption are each refused with their exit status and change nothing.
    @Test func aHandMadeShareIsAdoptedAndEveryNodeFindsIt() throws {
        let dir = TempDir()
        let emu = try emulator(dir)
        let user = TestUsers.name(36)
        let computed = ShareName.forUser(user, prefix: "pus")
        let hand = try handClient(emu)
        _ = try hand.createShare("projects-data", quotaGiB: 10, metadata: [("team", "physics")])
        try hand.upload(
            localPath: dir.write("old.txt", "from the fstab days\n"), share: "projects-data", remotePath: "old.txt")
        _ = try hand.createShare("someone-elses", quotaGiB: 5, metadata: [("pus_user", TestUsers.name(35))])
        _ = try hand.createShare("pus-bob-0a1b2c3d", quotaGiB: 5, metadata: [])
        _ = try hand.createShare("scratch-data", quotaGiB: 5, metadata: [])
        let one = Node("one", dir: dir, emulator: emu, accounts: [Self.a, Self.b])
        func meta(_ share: String) throws -> [String: String] { try hand.getShareProperties(share).metadata }

        let writes0 = emu.requestLog.filter { $0.hasPrefix("PUT ") }.count
        let refusals: [([String], Int32, String)] = [
            (["--adopt", "Not_A_Share"], 65, "is not a valid share name"),
            (["--adopt", "no-such-share"], 1, "there is no share no-such-share in any configured account"),
            (["--adopt", "projects-data", "--account", "nosuch"], 1, "--account nosuch is not one of"),
            (["--adopt", "someone-elses"], 77, "belongs to user \(TestUsers.name(35))"),
            (["--adopt", "pus-bob-0a1b2c3d"], 77, "named like pus-mount's own shares"),
        ]
        for (args, status, text) in refusals {
            let r = try one.run(["provision", user] + args)
            #expect(r.status == status, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(text), "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").first?.hasPrefix("pus-mount: ") == true, "\(r.stderr)")
        }
        #expect(emu.requestLog.filter { $0.hasPrefix("PUT ") }.count == writes0, "a refusal changed something")
        #expect(try meta("someone-elses")["pus_user"] == TestUsers.name(35))
        #expect(try meta("pus-bob-0a1b2c3d")["pus_user"] == nil)
        #expect(try one.run(["provision", user, "--account", "actb"]).status == 64, "--account without --adopt")

        // The adoption: pus_user and pus_adopted set, the share's own metadata kept.
        let r = try one.run(["--json", "provision", user, "--adopt", "projects-data"])
        #expect(r.status == 0, "\(r.stderr)")
        let out = try json(r.stdout)
        #expect(out["share"] as? String == "projects-data")
        #expect(out["account"] as? String == "actb")
        #expect(out["adopted"] as? Bool == true)
        #expect(out["quota_gib"] as? Int == 10)
        let m = try meta("projects-data")
        #expect(m["pus_user"] == user && m["pus_uid"] == "42036" && m["team"] == "physics", "\(m)")
        #expect(m["pus_adopted"].flatMap { Int($0) } != nil, "\(m)")
        let again = try one.run(["--json", "provision", user, "--adopt", "projects-data"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try json(again.stdout)["adopted"] as? Bool == false, "\(again.stdout)")
        // One share per user: a second adoption is refused and changes nothing.
        let second = try one.run(["provision", user, "--adopt", "scratch-data"])
        #expect(second.status == 1 && second.stderr.contains("already has a share (projects-data"), "\(second.stderr)")
        #expect(try meta("scratch-data")["pus_user"] == nil)

        /// attach on `node` (libmount's fake mode, a namespace of its own): the mount source it planned.
        func attachedSource(_ node: Node, _ ns: MountNamespace) throws -> String? {
            let att = try ns.run(
                Binaries.pusMount, ["--config", node.config, "--json", "--verbose", "attach", user, "--fake-mount"])
            #expect(att.status == 0, "\(att.stderr)")
            return ((try json(att.stdout)["plan"] as? [String: Any])?["mount"] as? [String: String])?["source"]
        }
        // attach mounts the adopted share and the ledger records its name.
        let ns = try MountNamespace()
        #expect(try attachedSource(one, ns) == "//127.0.0.1/projects-data")
        let ledger = try json(String(contentsOfFile: "\(one.root)/state/ledger.json", encoding: .utf8))
        let entry = (ledger["entries"] as? [String: Any])?[user] as? [String: Any]
        #expect(entry?["share"] as? String == "projects-data" && entry?["account"] as? String == "actb", "\(ledger)")
        #expect(try ns.run(Binaries.pusMount, ["--config", one.config, "detach", user, "--all"]).status == 0)

        // A second node that has never seen the user finds it (metadata, not node state).
        let two = Node("two", dir: dir, emulator: emu, accounts: [Self.a, Self.b])
        let ls = try two.run(["--json", "ls", user])
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(
            (try json(ls.stdout)["entries"] as? [[String: Any]])?.contains { $0["name"] as? String == "old.txt" }
                == true, "\(ls.stdout)")
        let prov = try two.run(["--json", "provision", user])
        #expect(prov.status == 0, "\(prov.stderr)")
        #expect(try json(prov.stdout)["share"] as? String == "projects-data", "\(prov.stdout)")
        #expect(try json(prov.stdout)["created"] as? Bool == false)
        #expect(try attachedSource(two, try MountNamespace()) == "//127.0.0.1/projects-data")
        // A node with only account B (one account: no locating first, the listing finds it).
        let onlyB = Node("onlyb", dir: dir, emulator: emu, accounts: [Self.b])
        let p1 = try onlyB.run(["--json", "provision", user])
        #expect(p1.status == 0, "\(p1.stderr)")
        #expect(try json(p1.stdout)["share"] as? String == "projects-data", "\(p1.stdout)")
        #expect(!shareExists(emu, "acta", computed) && !shareExists(emu, "actb", computed), "no second share")
    }

    @Test func aShareInTwoAccountsIsNotGuessedBetween() throws {
        let dir = TempDir()
        let emu = try emulator(dir)
        let user = TestUsers.name(35)
        #expect(try Node("a", dir: dir, emulator: emu, accounts: [Self.a]).run(["provision", user]).status == 0)
        #expect(try Node("b", dir: dir, emulator: emu, accounts: [Self.b]).run(["provision", user]).status == 0)
        let both = Node("ab", dir: dir, emulator: emu, accounts: [Self.a, Self.b])
        let r = try both.run(["ls", user])
        #expect(r.status == 1)
        #expect(r.stderr.contains("in more than one account (acta, actb)"), "\(r.stderr)")
    }

    @Test func lookupsInSeveralAccountsRunSideBySide() throws {
        let dir = TempDir()
        let names = ["acta", "actb", "actc", "actd"]
        let accounts = names.enumerated().map {
            Account(
                name: $0.element, key: $0.offset == 0 ? EmulatorProcess.testKey : EmulatorProcess.otherKey($0.offset),
                weight: 1)
        }
        let emu = try EmulatorProcess(
            dir: dir, account: "acta", key: accounts[0].key,
            moreAccounts: accounts.dropFirst().map { ($0.name, $0.key) },
            extraArgs: ["--fault", "latency:1000"])
        let user = TestUsers.name(36)
        let home = accounts.first { _ in true }!
        #expect(try Node("one", dir: dir, emulator: emu, accounts: [home]).run(["provision", user]).status == 0)
        // A node with all four accounts and no record: four lookups of one second each.
        let node = Node("four", dir: dir, emulator: emu, accounts: accounts)
        let t0 = Date()
        let r = try node.run(["--json", "quota", user])
        let took = Date().timeIntervalSince(t0)
        #expect(r.status == 0, "\(r.stderr)")
        // Lookups (1 s each, side by side) then Get Share Stats (1 s): about 2 s; one after the other would be 5 s.
        #expect(took < 3.5, "quota took \(took) s: the four lookups did not run side by side")
        print(
            "quota of a user unknown to the node, 4 accounts, 1 s latency per request: \(String(format: "%.2f", took)) s"
        )
    }
}

/// Weighted rendezvous placement: the split follows the weights, and an added account only takes users it wins.
@Suite struct PlacementTests {
    func storage(_ weights: [(String, Int)]) throws -> AzureStorage {
        let specs = try weights.map { w in
            try AccountSpec(
                name: w.0, keys: KeyFile(key1: Secret(EmulatorProcess.testKey)), weight: w.1,
                endpointSuffix: "core.windows.net",
                fileEndpoint: nil, smbHost: nil)
        }
        return AzureStorage(
            accounts: specs, prefix: "pus", makeTransport: { fatalError("no requests") }, retry: .none,
            logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
    }

    @Test func tenThousandUsersSplitByWeightAndAFourthAccountMovesOnlyWhatItWins() throws {
        let three = try storage([("a1", 1), ("a2", 1), ("a3", 2)])
        let four = try storage([("a1", 1), ("a2", 1), ("a3", 2), ("a4", 1)])
        var count: [String: Int] = [:]
        var moved = 0
        let users = (0..<10_000).map { "user\($0)" }
        for u in users {
            let before = three.placement(for: u).name
            count[before, default: 0] += 1
            let after = four.placement(for: u).name
            if after != before {
                moved += 1
                #expect(after == "a4", "\(u) moved from \(before) to \(after), not to the new account")
            }
        }
        for (name, want) in [("a1", 25.0), ("a2", 25.0), ("a3", 50.0)] {
            let got = Double(count[name] ?? 0) / 100
            #expect(abs(got - want) <= 1, "\(name): \(got)% of users, want \(want)% ± 1")
        }
        // The new account wins about weight share 1/5 of the users: those, and only those, would be placed there
        // if they were new; existing users keep their shares (the locator finds them).
        #expect(abs(Double(moved) / 100 - 20) <= 1.5, "a4 wins \(Double(moved) / 100)%")
        print(
            "placement 1:1:2 over 10,000 users: \(count.sorted { $0.key < $1.key }); a fourth account (weight 1) wins \(moved)"
        )
    }

    @Test func weightZeroTakesNoNewUsers() throws {
        let s = try storage([("a1", 1), ("drain", 0)])
        #expect((0..<2_000).allSatisfy { s.placement(for: "u\($0)").name == "a1" })
    }
}
