import AzureFiles
import Foundation
import Logging
import SystemSupport
import TestSupport
import Testing

/// The REST commands against a running emulator, as a person would run them.
@Suite(.serialized) struct RESTCommandTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    func shareDirs(_ emu: EmulatorProcess) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(emu.dataDir)/\(emu.account)")) ?? []).filter {
            !$0.hasPrefix(".")
        }.sorted()
    }

    /// A new user's share: one listing (a deleted share of the user must not be buried under a new one, issue
    /// 15 item 2) and one Create Share carrying quota and metadata.
    @Test func provisionIsOneCreateThenIdempotent() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(1)
        let first = try cfg.run(["--json", "provision", user])
        #expect(first.status == 0, "\(first.stderr)")
        let j1 = try json(first.stdout)
        let share = try #require(j1["share"] as? String)
        #expect(share == ShareName.forUser(user, prefix: "pus"))
        #expect(j1["created"] as? Bool == true)
        #expect(j1["rest_requests"] as? Int == 2)
        #expect(emu.requestLog.count == 2)
        #expect(
            emu.requestLog.first?.hasPrefix("GET /\(emu.account)/?") == true
                && emu.requestLog.first?.contains("include=deleted") == true,
            "\(emu.requestLog)")
        #expect(emu.requestLog.last?.hasPrefix("PUT /\(emu.account)/\(share)?restype=share -> 201") == true)
        // Quota and metadata landed with that one request.
        let meta = try String(
            contentsOfFile: "\(emu.dataDir)/\(emu.account)/.emulator/shares/\(share).json", encoding: .utf8)
        #expect(meta.contains("\"quota\":100"))
        #expect(meta.contains("\"pus_user\",\"\(user)\""))
        #expect(meta.contains("\"pus_uid\",\"42001\""))

        let second = try cfg.run(["--json", "provision", user])
        #expect(second.status == 0)
        let j2 = try json(second.stdout)
        #expect(j2["created"] as? Bool == false)
        #expect(
            j2["rest_requests"] as? Int == 1,
            "an existing share: the one listing finds it (owner-checked), nothing is created")
        #expect(emu.requestLog.filter { $0.contains("-> 201") }.count == 1, "a second provision must create nothing")

        // The human form says the same in one line.
        let human = try cfg.run(["provision", user])
        #expect(human.status == 0)
        #expect(human.stdout.contains("\(share)") && human.stdout.contains("exists"))
    }

    /// Dry runs say what they sent to plan (reads) and what they would send: attach's plan creates a share, so
    /// "(none)" would be false (issue 15, item 11); rotate-key checks keys with reads.
    @Test func dryRunsSayWhatTheySentAndWhatTheyWouldSend() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(3)
        let a = try cfg.run(["attach", user, "--dry-run"])
        #expect(a.status == 0, "\(a.stderr)")
        #expect(
            a.stdout.contains("REST requests sent to plan it (reads only): 1") && a.stdout.contains("Create Share pus-")
                && !a.stdout.contains("(none)"),
            "\(a.stdout)")
        let j = try json(try cfg.run(["--json", "attach", user, "--dry-run"]).stdout)
        #expect(
            (j["planned_operations"] as? [String])?.first?.hasPrefix("Create Share") == true
                && j["requests_sent"] as? Int == 1, "\(j)")
        #expect(!emu.requestLog.contains { $0.hasPrefix("PUT") }, "nothing was created")
        let r = try cfg.run(["rotate-key", "--dry-run"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("REST requests sent to plan it (reads only): ") && !r.stdout.contains("reads only): 0."),
            "\(r.stdout)")
    }

    @Test func putGetRoundTrip100MiBWithFlatMemory() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(2)
        #expect(try cfg.run(["provision", user]).status == 0)
        let src = dir.file("big.bin")
        #expect(try Run.sh("head -c 104857600 /dev/urandom > \(src)").status == 0)
        // Peak RSS through GNU time: it fork()s the command from its own small process. wait4's figure for a
        // child this (large) test process spawns directly would include the test process's own peak, which
        // Linux carries over at exec from the memory the spawned child shared with it.
        func peak(_ args: [String]) throws -> (RunResult, Int) {
            let out = dir.file("rss-\(args[1])")
            let r = try Run.run(
                "/usr/bin/time", ["-f", "%M", "-o", out, Binaries.pusMount, "--config", cfg.path] + args)
            let kib = Int((try String(contentsOfFile: out, encoding: .utf8)).split(separator: "\n").last ?? "") ?? -1
            return (r, kib)
        }
        let (put, putRSS) = try peak(["--json", "put", user, src, "data/big file.bin"])
        #expect(put.status == 0, "\(put.stderr)")
        #expect(try json(put.stdout)["bytes"] as? Int == 104_857_600)
        // 1 properties + 1 directory + 1 create file + 25 ranges
        #expect(try json(put.stdout)["rest_requests"] as? Int == 28)
        let back = dir.file("back.bin")
        let (get, getRSS) = try peak(["get", user, "data/big file.bin", back])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: src, andPath: back))
        // Flat memory: far below the 100 MiB moved (the process itself needs ~20 MiB).
        #expect(putRSS > 0 && getRSS > 0)
        #expect(putRSS < 60_000, "put peak RSS \(putRSS) KiB")
        #expect(getRSS < 60_000, "get peak RSS \(getRSS) KiB")
        // No temp files left beside the download.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp.") }.isEmpty)
    }

    @Test func lsPagesThroughFiveThousandFiles() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--page-size", "1000"])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(3)
        #expect(try cfg.run(["provision", user]).status == 0)
        let share = ShareName.forUser(user, prefix: "pus")
        let many = "\(emu.dataDir)/\(emu.account)/\(share)/many"
        try FileManager.default.createDirectory(atPath: many, withIntermediateDirectories: true)
        for i in 0..<5000 {
            FileManager.default.createFile(atPath: "\(many)/f\(i).txt", contents: Data(repeating: 1, count: i % 7))
        }
        let ls = try cfg.run(["--json", "ls", user, "many"])
        #expect(ls.status == 0, "\(ls.stderr)")
        let j = try json(ls.stdout)
        #expect(j["count"] as? Int == 5000)
        #expect(j["pages"] as? Int == 5)
        let names = Set(((j["entries"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String })
        #expect(names.count == 5000 && names.contains("f4999.txt"))
        #expect(
            emu.requestLog.filter { $0.contains("restype=directory&comp=list") }.count == 5,
            "\(emu.requestLog.filter { $0.contains("comp=list") })")
    }

    @Test func sasURLGrantsExactlyWhatItSays() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--treat-http-as-https"])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(4)
        #expect(try cfg.run(["provision", user]).status == 0)
        let src = dir.write("hello.txt", "hello over SAS\n")
        #expect(try cfg.run(["put", user, src, "docs/hello.txt"]).status == 0)

        let sas = try cfg.run(["--json", "sas", user, "--permissions", "rl", "--expiry", "3s"])
        #expect(sas.status == 0, "\(sas.stderr)")
        let url = try #require(try json(sas.stdout)["url"] as? String)
        #expect(url.contains("spr=https") && url.contains("sp=rl") && url.contains("sr=s"))
        let base = String(url[..<url.firstIndex(of: "?")!])
        let token = String(url[url.index(after: url.firstIndex(of: "?")!)...])
        let t = try CurlTransport()
        let read = try t.send(
            HTTPRequest(
                method: "GET", url: "\(base)/docs/hello.txt?\(token)",
                headers: [("x-ms-version", FilesAPI.version)]), sink: nil)
        #expect(read.status == 200)
        #expect(String(decoding: read.body, as: UTF8.self) == "hello over SAS\n")
        let list = try t.send(
            HTTPRequest(method: "GET", url: "\(base)/docs?restype=directory&comp=list&\(token)"), sink: nil)
        #expect(list.status == 200)
        let write = try t.send(
            HTTPRequest(
                method: "PUT", url: "\(base)/docs/new.txt?\(token)",
                headers: [("x-ms-type", "file"), ("x-ms-content-length", "1")]), sink: nil)
        #expect(write.status == 403)
        #expect(write.headers["x-ms-error-code"] == "AuthorizationPermissionMismatch")
        let delete = try t.send(HTTPRequest(method: "DELETE", url: "\(base)/docs/hello.txt?\(token)"), sink: nil)
        #expect(delete.status == 403)
        // A tampered signature fails authentication.
        let forged = try t.send(
            HTTPRequest(
                method: "GET", url: "\(base)/docs/hello.txt?\(token.replacingOccurrences(of: "sp=rl", with: "sp=rwdl"))"
            ), sink: nil)
        #expect(forged.status == 403 && forged.headers["x-ms-error-code"] == "AuthenticationFailed")
        sleep(4)
        let expired = try t.send(HTTPRequest(method: "GET", url: "\(base)/docs/hello.txt?\(token)"), sink: nil)
        #expect(expired.status == 403)
        #expect(expired.headers["x-ms-error-code"] == "AuthenticationFailed")

        // A file SAS is scoped to that one file.
        let fsas = try cfg.run(["--json", "sas", user, "--path", "docs/hello.txt"])
        let furl = try #require(try json(fsas.stdout)["url"] as? String)
        #expect(try t.send(HTTPRequest(method: "GET", url: furl), sink: nil).status == 200)
        let other = furl.replacingOccurrences(of: "/docs/hello.txt?", with: "/docs?restype=directory&comp=list&")
        #expect(try t.send(HTTPRequest(method: "GET", url: other), sink: nil).status == 403)
        // Over the cap: refused, nothing printed.
        let tooLong = try cfg.run(["sas", user, "--expiry", "25h"])
        #expect(tooLong.status == 65 && tooLong.stdout.isEmpty && tooLong.stderr.contains("max_expiry_hours"))
    }

    @Test func commandsSucceedUnderInjected503s() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, extraArgs: ["--fault", "503:0.3", "--treat-http-as-https"])
        // 10 attempts: a request fails for good with probability 0.3^10.
        let cfg = TestConfig(
            dir: dir, emulator: emu, retry: "max_attempts = 10\ninitial_delay_ms = 20\ntotal_seconds = 60")
        let user = TestUsers.name(5)
        let prov = try cfg.run(["--verbose", "provision", user])
        #expect(prov.status == 0, "\(prov.stderr)")
        let src = dir.file("f.bin")
        #expect(try Run.sh("head -c 20971520 /dev/urandom > \(src)").status == 0)
        let put = try cfg.run(["--verbose", "put", user, src, "f.bin"])
        #expect(put.status == 0, "\(put.stderr)")
        let get = try cfg.run(["--verbose", "get", user, "f.bin", dir.file("back")])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(FileManager.default.contentsEqual(atPath: src, andPath: dir.file("back")))
        let ls = try cfg.run(["--verbose", "ls", user])
        #expect(ls.status == 0)
        let sas = try cfg.run(["--verbose", "sas", user])
        #expect(sas.status == 0)
        let verbose = prov.stderr + put.stderr + get.stderr + ls.stderr + sas.stderr
        let retries = verbose.split(separator: "\n").filter { $0.contains("retrying") }
        let injected = emu.requestLog.filter { $0.hasSuffix("-> 503") }.count
        #expect(injected > 0)
        #expect(retries.count == injected, "every injected 503 shows as a retry in --verbose output")
        #expect(!verbose.contains(emu.key), "the key must not be logged")
        #expect(!verbose.contains("SharedKey \(emu.account):") || verbose.contains("REDACTED"))
    }

    @Test func badInputIsRefusedWithTheDocumentedStatusAndNothingCreated() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        func expectRefused(
            _ r: RunResult, _ status: Int32, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation
        ) {
            #expect(r.status == status, "want \(status), got \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
            #expect(r.stderr.contains(needle), "\(r.stderr)", sourceLocation: sourceLocation)
            #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)", sourceLocation: sourceLocation)
            #expect(r.stderr.hasPrefix("pus-mount: error: "), sourceLocation: sourceLocation)
            #expect(r.stdout.isEmpty, sourceLocation: sourceLocation)
            #expect(!r.stderr.contains(emu.key), sourceLocation: sourceLocation)
        }
        expectRefused(try cfg.run(["provision", "a,uid=0"]), 65, "invalid user name")
        expectRefused(try cfg.run(["provision", "../x"]), 65, "invalid user name")
        expectRefused(try cfg.run(["provision", "nosuchuser-pus"]), 67, "unknown user")
        expectRefused(try cfg.run(["provision", "root"]), 67, "users.deny")
        expectRefused(try cfg.run(["provision", TestUsers.lowUID]), 67, "min_uid")

        let leaky = TestConfig(dir: TempDir(), emulator: emu, keyMode: 0o644)
        expectRefused(try leaky.run(["provision", TestUsers.name(6)]), 78, "chmod 0600")

        let notBase64 = TestConfig(dir: TempDir(), emulator: emu, key: "not base64 at all!")
        expectRefused(try notBase64.run(["provision", TestUsers.name(6)]), 78, "not valid base64")

        let wrongKey = TestConfig(
            dir: TempDir(), emulator: emu, key: Data(repeating: 9, count: 64).base64EncodedString())
        let wk = try wrongKey.run(["provision", TestUsers.name(6)])
        expectRefused(wk, 77, "AuthenticationFailed")
        #expect(wk.stderr.contains("hint: the account key was rejected"))
        let wkJSON = try wrongKey.run(["--json", "provision", TestUsers.name(6)])
        #expect(wkJSON.status == 77)
        let err = try #require(try json(wkJSON.stdout)["error"] as? [String: Any])
        #expect(err["code"] as? String == "permission")

        let unreachable = TestConfig(
            dir: TempDir(), emulator: emu, endpoint: "http://127.0.0.1:9/\(emu.account)",
            retry: "max_attempts = 2\ninitial_delay_ms = 10\ntotal_seconds = 2")
        expectRefused(try unreachable.run(["provision", TestUsers.name(6)]), 69, "cannot reach")

        // ArgumentParser's own usage errors are JSON too under --json.
        let usage = try cfg.run(["--json", "provision"])
        #expect(usage.status == 64)
        #expect((try json(usage.stdout)["error"] as? [String: Any])?["code"] as? String == "usage")

        let typo = TestConfig(dir: TempDir(), emulator: emu, extra: "[sas]\nmax_expiry_hour = 3\n")
        expectRefused(try typo.run(["provision", TestUsers.name(6)]), 78, "unknown key sas.max_expiry_hour")

        // A share whose metadata names another user is refused.
        let user = TestUsers.name(7)
        let share = ShareName.forUser(user, prefix: "pus")
        let key = try #require(SharedKey(account: emu.account, key: Secret(emu.key)))
        let client = FilesClient(
            endpoint: AccountEndpoint(account: emu.account, key: key, override: emu.endpoint),
            transport: try CurlTransport(), logger: Logger(label: "test"))
        #expect(try client.createShare(share, quotaGiB: 1, metadata: [("pus_user", "mallory")]) == .created)
        expectRefused(try cfg.run(["provision", user]), 77, "belongs to user mallory")

        #expect(shareDirs(emu) == [share], "no bad input may create a share")
    }

    @Test func deprovisionNeedsYesRefusesWhileLeasedAndSaysWhatWent() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(8)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(try cfg.run(["provision", user]).status == 0)
        let noYes = try cfg.run(["deprovision", user])
        #expect(noYes.status == 64 && noYes.stderr.contains("--yes"))
        let dry = try cfg.run(["--json", "deprovision", user, "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(try json(dry.stdout)["planned_requests"] as? [Any] != nil)
        #expect(shareDirs(emu) == [share], "a dry run deletes nothing")

        // A lease in the ledger blocks it.
        try FileManager.default.createDirectory(atPath: dir.file("state"), withIntermediateDirectories: true)
        dir.write(
            "state/ledger.json",
            """
            {"version": 1, "entries": {"\(user)": {"user": "\(user)", "uid": 42008, "gid": 100, "backend": "azure", "source": "//h/\(share)",
             "mountpoint": "/mnt/x", "optionsDigest": "x", "mounted": true, "createdAt": 1, "updatedAt": 1,
             "leases": [{"session": "s", "createdAt": 1}]}}}
            """, mode: 0o600)
        let leased = try cfg.run(["deprovision", user, "--yes"])
        #expect(leased.status == 1 && leased.stderr.contains("lease"))
        #expect(shareDirs(emu) == [share])
        try FileManager.default.removeItem(atPath: dir.file("state/ledger.json"))

        let gone = try cfg.run(["deprovision", user, "--yes"])
        #expect(gone.status == 0, "\(gone.stderr)")
        #expect(shareDirs(emu).isEmpty)
        // No snapshot is taken on the way (it would go with the share); without soft delete nothing is kept.
        #expect(!emu.requestLog.contains { $0.contains("comp=snapshot") })
        #expect(
            gone.stdout.contains("deleted share \(share) in account \(emu.account) and its 0 snapshot(s)"),
            "\(gone.stdout)")
        #expect(gone.stdout.contains("not recoverable"), "\(gone.stdout)")
    }

    @Test func theShippedExampleConfigParses() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
            .appendingPathComponent("etc/pus-mount.toml.example").path
        let dir = TempDir()
        let copy = dir.write("example.toml", try String(contentsOfFile: path, encoding: .utf8), mode: 0o644)
        let r = try Run.run(Binaries.pusMount, ["--config", copy, "--json", "provision", "root"])
        // The example parses (so the error is the user policy, not the config) ...
        #expect(r.status == 67, "\(r.stdout)")
        // ... and a group-writable copy is refused.
        chmod(copy, 0o664)
        let loose = try Run.run(Binaries.pusMount, ["--config", copy, "provision", "root"])
        #expect(loose.status == 78 && loose.stderr.contains("chmod 0644"))
    }
}
