import AzureFiles
import Foundation
import SystemSupport
import TestSupport
import Testing

/// The `--blob` commands (issue 18) against the emulator's Blob listener, as an operator runs them.
@Suite(.serialized) struct BlobCommandTests {
    static let blobOn = "[blob]\nenabled = true\n[sas]\nmax_expiry_hours = 2\n"

    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    func containerFile(_ emu: EmulatorProcess, _ c: String, account: String? = nil) -> String {
        "\(emu.dataDir)/\(account ?? emu.account)/.blob/containers/\(c)/container.json"
    }

    /// provision --blob makes one private container with the owner metadata in the create request, and a second
    /// provision finds it (created false) and creates nothing.
    @Test func provisionMakesAPrivateOwnedContainerOnce() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(3)
        let r = try cfg.run(["--json", "provision", user, "--blob"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try json(r.stdout)
        let c = try #require((j["container"] as? [String: Any])?["name"] as? String)
        #expect(c == ShareName.forUser(user, prefix: "pus"))
        #expect(j["created"] as? Bool == true)
        let meta = try String(contentsOfFile: containerFile(emu, c), encoding: .utf8)
        #expect(meta.contains("\"pus_user\",\"\(user)\""))
        #expect(meta.contains("\"pus_uid\",\"42003\""))
        #expect(emu.requestLog.contains { $0.hasPrefix("PUT /\(emu.account)/\(c)?restype=container -> 201") })
        #expect(!emu.requestLog.contains { $0.contains("public-access") })
        let again = try cfg.run(["--json", "provision", user, "--blob"])
        #expect(again.status == 0)
        #expect(try json(again.stdout)["created"] as? Bool == false)
        #expect(emu.requestLog.filter { $0.contains("-> 201") }.count == 1, "a second provision creates nothing")
        // No share was made by --blob; plain provision makes the share and (blob enabled) finds the container.
        let both = try cfg.run(["--json", "provision", user])
        #expect(both.status == 0, "\(both.stderr)")
        let jb = try json(both.stdout)
        #expect((jb["container"] as? [String: Any])?["created"] as? Bool == false)
        #expect(jb["created"] as? Bool == true)
    }

    /// put --blob of a file larger than one block goes in blocks and one commit; ls lists it with its type
    /// (from the extension); get --blob brings it back byte-identical; a second put replaces it.
    @Test func putListGetRoundTrip() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(4)
        #expect(try cfg.run(["provision", user, "--blob"]).status == 0)
        var bytes = [UInt8](repeating: 0, count: 20 << 20)
        for i in stride(from: 0, to: bytes.count, by: 4096) { bytes[i] = UInt8(truncatingIfNeeded: i / 4096 + 1) }
        let local = dir.file("photo.png")
        FileManager.default.createFile(atPath: local, contents: Data(bytes))
        let put = try cfg.run(["--json", "put", user, "--blob", local, "pics/photo.png"])
        #expect(put.status == 0, "\(put.stderr)")
        #expect(try json(put.stdout)["content_type"] as? String == "image/png")
        let log = emu.requestLog
        #expect(log.filter { $0.contains("comp=block&") }.count == 3, "20 MiB in 8 MiB blocks: \(log)")
        #expect(log.contains { $0.contains("comp=blocklist -> 201") })
        let small = dir.write("notes.bin", "hello")
        #expect(try cfg.run(["put", user, "--blob", small, "notes", "--content-type", "text/plain"]).status == 0)

        let ls = try cfg.run(["--json", "ls", user, "--blob"])
        #expect(ls.status == 0, "\(ls.stderr)")
        let lj = try json(ls.stdout)
        #expect(lj["prefixes"] as? [String] == ["pics/"])
        let blobs = try #require(lj["blobs"] as? [[String: Any]])
        #expect(blobs.map { $0["name"] as? String } == ["notes"])
        #expect(blobs.first?["content_type"] as? String == "text/plain")
        let deep = try json(try cfg.run(["--json", "ls", user, "--blob", "pics/", "--recursive"]).stdout)
        #expect((deep["blobs"] as? [[String: Any]])?.first?["size"] as? Int == 20 << 20)

        let out = dir.file("back.png")
        let get = try cfg.run(["get", user, "--blob", "pics/photo.png", out])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(FileManager.default.contents(atPath: out) == Data(bytes))
        // Ranged reads pinned to the first answer's ETag.
        #expect(emu.requestLog.filter { $0.hasPrefix("GET /\(emu.account)/") && $0.hasSuffix("-> 206") }.count == 3)
    }

    /// The configuration: a blob_endpoint that is not a URL is a configuration error (78) naming the key;
    /// `--blob` on the local backend says it needs azure (78); `[blob]` takes no unknown key.
    @Test func blobConfigurationIsChecked() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let text = try String(contentsOfFile: cfg.path, encoding: .utf8)
        let bad = TestConfig(
            existing: dir.write(
                "bad.toml", text.replacingOccurrences(of: emu.blobEndpoint(), with: "ftp://x/acct"), mode: 0o644),
            dir: dir)
        let r = try bad.run(["ls", TestUsers.name(14), "--blob"])
        #expect(r.status == 78 && r.stderr.contains("blob_endpoint"), "\(r.stderr)")
        let typo = TestConfig(
            existing: dir.write("typo.toml", text + "[blob]\nenable = true\n", mode: 0o644), dir: dir)
        #expect(try typo.run(["ls", TestUsers.name(14), "--blob"]).status == 78)
        let local = TestConfig(dir: dir, emulator: nil, backend: "local")
        let l = try local.run(["ls", TestUsers.name(14), "--blob"])
        #expect(l.status == 78 && l.stderr.contains("azure"), "\(l.stderr)")
    }

    /// put --blob --dry-run lists the requests a real upload sends (three Put Block, one Put Block List for
    /// 20 MiB) and sends no write.
    @Test func aDryRunPutListsTheBlocksAndWritesNothing() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(13)
        #expect(try cfg.run(["provision", user, "--blob"]).status == 0)
        let local = dir.file("big.bin")
        FileManager.default.createFile(atPath: local, contents: Data(count: 20 << 20))
        let writes = emu.requestLog.filter { $0.hasPrefix("PUT") }.count
        let r = try cfg.run(["--json", "put", user, "--blob", local, "--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        let planned = try #require(try json(r.stdout)["planned_requests"] as? [[String: Any]], "\(r.stdout)")
        let urls = planned.compactMap { $0["url"] as? String }
        #expect(urls.filter { $0.contains("comp=block&") }.count == 3 && urls.last?.contains("comp=blocklist") == true)
        #expect(emu.requestLog.filter { $0.hasPrefix("PUT") }.count == writes, "a dry run writes nothing")
    }

    /// Bad input: one line, its exit code, nothing created (no blob, no temp file, no container).
    @Test func badInputLeavesNothing() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(5)
        #expect(try cfg.run(["provision", user, "--blob"]).status == 0)
        let before = emu.requestLog.count
        let missing = try cfg.run(["put", user, "--blob", dir.file("nope.bin")])
        #expect(missing.status == 65)
        #expect(missing.stderr.contains("nope.bin") && missing.stderr.split(separator: "\n").count <= 2)
        let f = dir.write("a.bin", "x")
        for (name, why) in [("a/../b", ". or .."), ("bad\u{1}name", "control"), ("/lead", "start with /")] {
            let r = try cfg.run(["put", user, "--blob", f, name])
            #expect(r.status == 65 && r.stderr.contains(why), "\(name): \(r.stderr)")
        }
        let badType = try cfg.run(["put", user, "--blob", f, "x", "--content-type", "text/plain\r\nX-Evil: 1"])
        #expect(badType.status == 65, "\(badType.stderr)")
        #expect(emu.requestLog.count == before, "refused before any request: \(emu.requestLog.suffix(3))")
        // A blob that is not there: exit 65, no file and no temp file beside it.
        let outDir = dir.file("out")
        try FileManager.default.createDirectory(atPath: outDir, withIntermediateDirectories: true)
        let get = try cfg.run(["get", user, "--blob", "absent.bin", outDir + "/absent.bin"])
        #expect(get.status == 65, "\(get.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: outDir).isEmpty)
        // A SAS past the cap (2 h here).
        let sas = try cfg.run(["sas", user, "--blob", "--expiry", "3h"])
        #expect(sas.status == 65 && sas.stderr.contains("max_expiry_hours"), "\(sas.stderr)")
        let perms = try cfg.run(["sas", user, "--blob", "--path", "a.bin", "--permissions", "rl"])
        #expect(perms.status == 65, "a blob SAS cannot list: \(perms.stderr)")
        // A name the service refuses (1025 bytes): the service's 400, one line, nothing stored.
        let long = String(repeating: "n", count: 1025)
        let r = try cfg.run(["put", user, "--blob", f, long])
        #expect(r.status == 65, "\(r.stderr)")
        // No blob stored by any of the above.
        let blobs = "\(emu.dataDir)/\(emu.account)/.blob/containers/\(ShareName.forUser(user, prefix: "pus"))/blobs"
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: blobs)) ?? []).isEmpty)
    }

    /// A container whose pus_user names someone else: 77 for every --blob command, and nothing read or written.
    @Test func aForeignContainerIsRefusedByEveryBlobCommand() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(6)
        let other = TestUsers.name(7)
        #expect(try cfg.run(["provision", other, "--blob"]).status == 0)
        // The container named for `user` carries other's metadata (a hand-made or renamed container).
        let mine = ShareName.forUser(user, prefix: "pus")
        let theirs = ShareName.forUser(other, prefix: "pus")
        try FileManager.default.copyItem(
            atPath: "\(emu.dataDir)/\(emu.account)/.blob/containers/\(theirs)",
            toPath: "\(emu.dataDir)/\(emu.account)/.blob/containers/\(mine)")
        let f = dir.write("f.txt", "x")
        let commands: [[String]] = [
            ["provision", user, "--blob"], ["ls", user, "--blob"], ["put", user, "--blob", f],
            ["get", user, "--blob", "f.txt", dir.file("g.txt")], ["sas", user, "--blob"],
            ["deprovision", user, "--blob", "--yes"], ["status", user],
        ]
        for args in commands {
            let r = try cfg.run(args)
            if args[0] == "status" {
                #expect(r.stdout.contains("belongs to user \(other)"), "\(r.stdout)")
                continue
            }
            #expect(r.status == 77, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("belongs to user \(other)"), "\(args): \(r.stderr)")
        }
        #expect(FileManager.default.fileExists(atPath: containerFile(emu, mine)), "nothing deleted")
        #expect(!emu.requestLog.contains { $0.contains("/\(mine)/") }, "no blob of it read or written")
    }

    /// One place per user: the container goes where the share is, even after a heavier account is added, and a
    /// node with an empty ledger finds both there.
    @Test func theContainerFollowsTheShare() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(
            dir: dir, account: "accta", moreAccounts: [("acctb", EmulatorProcess.otherKey(1))], blob: true)
        let user = TestUsers.name(8)
        // Blob not enabled yet: the share alone, in accta (the only account then).
        let one = TestConfig(dir: dir, emulator: emu)
        #expect(try one.run(["provision", user]).status == 0)
        let keyB = dir.write("b.key", EmulatorProcess.otherKey(1) + "\n", mode: 0o600)
        let state2 = dir.file("state2")
        let both = dir.write(
            "both.toml",
            """
            backend = "azure"
            [[azure.accounts]]
            name = "accta"
            key_file = "\(one.keyFile)"
            file_endpoint = "\(emu.endpoint(of: "accta"))"
            blob_endpoint = "\(emu.blobEndpoint(of: "accta"))"
            weight = 1
            [[azure.accounts]]
            name = "acctb"
            key_file = "\(keyB)"
            file_endpoint = "\(emu.endpoint(of: "acctb"))"
            blob_endpoint = "\(emu.blobEndpoint(of: "acctb"))"
            weight = 1000
            [blob]
            enabled = true
            [paths]
            state_dir = "\(state2)"
            credentials_dir = "\(dir.file("creds2"))"
            audit_log = "\(dir.file("audit2.jsonl"))"

            """, mode: 0o600)
        let c2 = TestConfig(existing: both, dir: dir)
        let name = ShareName.forUser(user, prefix: "pus")
        #expect(!FileManager.default.fileExists(atPath: containerFile(emu, name, account: "accta")))
        let r = try c2.run(["--json", "provision", user, "--blob"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try json(r.stdout)["account"] as? String == "accta")
        #expect(FileManager.default.fileExists(atPath: containerFile(emu, name, account: "accta")))
        #expect(!FileManager.default.fileExists(atPath: containerFile(emu, name, account: "acctb")))
        // A new user with both accounts: share and container go together to the placement winner.
        let fresh = TestUsers.name(9)
        let f = try c2.run(["--json", "provision", fresh])
        #expect(f.status == 0, "\(f.stderr)")
        let fj = try json(f.stdout)
        #expect((fj["container"] as? [String: Any])?["account"] as? String == fj["account"] as? String)
        // ls from a node with an empty ledger (state2 has none for user) finds it.
        let ls = try c2.run(["--json", "ls", user, "--blob"])
        #expect(ls.status == 0, "\(ls.stderr)")
        #expect(try json(ls.stdout)["account"] as? String == "accta")
    }

    /// A node's first attach of a user ensures the container beside the share (same account); a second attach,
    /// which the ledger knows, sends no Blob request at all.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/sbin/mount.cifs")))
    func attachEnsuresTheContainerOnce() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let ns = try MountNamespace()
        let user = TestUsers.name(12)
        let name = ShareName.forUser(user, prefix: "pus")
        let first = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: containerFile(emu, name)), "\(emu.operationLog)")
        let meta = try String(contentsOfFile: containerFile(emu, name), encoding: .utf8)
        #expect(meta.contains("\"pus_user\",\"\(user)\""))
        let blobOps = emu.operationLog.filter { $0.contains("Container") }.count
        let second = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(emu.operationLog.filter { $0.contains("Container") }.count == blobOps, "a known user: no Blob request")
    }

    /// deprovision --blob deletes the container and says whether soft delete keeps it; undelete --blob brings it
    /// back with its blobs; provision refuses to make a new one over a restorable deleted one.
    @Test func deprovisionAndUndeleteTheContainer() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--soft-delete-days", "7"], blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(10)
        #expect(try cfg.run(["provision", user, "--blob"]).status == 0)
        let f = dir.write("keep.txt", "precious")
        #expect(try cfg.run(["put", user, "--blob", f]).status == 0)
        let noYes = try cfg.run(["deprovision", user, "--blob"])
        #expect(noYes.status == 64)
        let d = try cfg.run(["--json", "deprovision", user, "--blob", "--yes"])
        #expect(d.status == 0, "\(d.stderr)")
        let dj = try json(d.stdout)
        #expect(dj["blobs"] as? Int == 1)
        #expect(dj["recoverable"] as? Bool == true)
        #expect(dj["retention_days"] as? Int == 7)
        let again = try cfg.run(["provision", user, "--blob"])
        #expect(again.status == 67, "never a new container over a restorable one: \(again.stderr)")
        #expect(again.stderr.contains("undelete \(user) --blob"))
        let u = try cfg.run(["undelete", user, "--blob"])
        #expect(u.status == 0, "\(u.stderr)")
        let back = dir.file("back.txt")
        #expect(try cfg.run(["get", user, "--blob", "keep.txt", back]).status == 0)
        #expect(try String(contentsOfFile: back, encoding: .utf8) == "precious")
    }

    /// `sas --blob` with explicit --start/--expiry is byte-identical to the official SDK's generate_container_sas
    /// and generate_blob_sas for the same inputs, and the token works against the emulator.
    @Test func sasMatchesTheSDK() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--treat-http-as-https"], blob: true)
        let cfg = TestConfig(dir: dir, emulator: emu, extra: Self.blobOn)
        let user = TestUsers.name(11)
        #expect(try cfg.run(["provision", user, "--blob"]).status == 0)
        let start = SAS.timestamp(Clock.unixSeconds() - 60)
        let expiry = SAS.timestamp(Clock.unixSeconds() + 3600)
        let c = try json(
            try cfg.run(["--json", "sas", user, "--blob", "--start", start, "--expiry", expiry, "--ip", "127.0.0.1"])
                .stdout)
        let b = try json(
            try cfg.run([
                "--json", "sas", user, "--blob", "--path", "docs/Résumé 2026.txt", "--permissions", "rw", "--start",
                start, "--expiry", expiry,
            ]).stdout)
        #expect(
            c["expiry"] as? String == expiry && (c["url"] as? String)?.hasSuffix("?" + (c["token"] as! String)) == true)
        let audit = try String(contentsOfFile: dir.file("audit.jsonl"), encoding: .utf8)
        #expect(audit.contains("\"command\":\"sas\"") && !audit.contains("sig="), "the SAS signature is a credential")
        #expect(!audit.contains(emu.key))
        guard let python = OracleClientTests.python else {
            #expect(ProcessInfo.processInfo.environment["CI"] == nil, "CI must run the SDK oracle")
            return
        }
        let container = ShareName.forUser(user, prefix: "pus")
        let script = """
            import sys
            from azure.storage.blob import generate_container_sas, generate_blob_sas, ContainerSasPermissions, BlobSasPermissions
            import os
            acct, c, st, se = sys.argv[1:5]
            key = os.environ["PUS_ORACLE_KEY"]
            print(generate_container_sas(acct, c, account_key=key, permission=ContainerSasPermissions(read=True, list=True), start=st, expiry=se, ip="127.0.0.1", protocol="https"))
            print(generate_blob_sas(acct, c, "docs/Résumé 2026.txt", account_key=key, permission=BlobSasPermissions(read=True, write=True), start=st, expiry=se, protocol="https"))
            """
        // The key travels in the environment, never in an argv (as for the Files oracle).
        let r = try Run.run(
            python, ["-c", script, emu.account, container, start, expiry], env: ["PUS_ORACLE_KEY": emu.key])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first == c["token"] as? String)
        #expect(lines.last == b["token"] as? String)
        // The container token lists through the emulator (no Shared Key involved).
        let list = try Run.run(
            python,
            [
                "-c", "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).status)",
                (c["url"] as! String) + "&restype=container&comp=list",
            ])
        #expect(list.stdout.hasPrefix("200"), "\(list.stdout) \(list.stderr)")
    }
}
