import AzureFiles
import Foundation
import TestSupport
import Testing

/// The audit log: one JSON line per audited command, done or failed, with who, what, how long and the
/// service's request ids, and never a key, signature or password.
@Suite(.serialized) struct AuditTests {
    func lines(_ path: String) throws -> [[String: Any]] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
            try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "not JSON: \($0)")
        }
    }

    @Test func sasGetPutAndFailuresAreAuditedWithoutSecrets() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(
            dir: dir, key: Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(37)
        let audit = dir.file("audit.jsonl")
        #expect(try cfg.run(["provision", user]).status == 0)
        let put = try cfg.run(["put", user, dir.write("a.txt", "audited\n"), "a.txt"])
        #expect(put.status == 0, "\(put.stderr)")
        let sas = try cfg.run(["--json", "sas", user, "--permissions", "rl"])
        #expect(sas.status == 0, "\(sas.stderr)")
        let signature = try #require(
            sas.stdout.range(of: "sig=").map { String(sas.stdout[$0.upperBound...].prefix { $0 != "\"" && $0 != "&" }) }
        )
        #expect(signature.count > 20)
        #expect(try cfg.run(["get", user, "a.txt", dir.file("back.txt")]).status == 0)
        let missing = try cfg.run(["get", user, "nope.txt", dir.file("nope.txt")])
        #expect(missing.status == 65)
        #expect(try cfg.run(["snapshot", user, "--dry-run"]).status == 0, "a dry run is not audited")

        let records = try lines(audit)
        let byCommand = Dictionary(grouping: records) { $0["command"] as? String ?? "?" }
        #expect(byCommand["provision"]?.count == 1 && byCommand["put"]?.count == 1 && byCommand["sas"]?.count == 1)
        #expect(byCommand["get"]?.count == 2 && byCommand["snapshot"] == nil)
        for r in records {
            #expect(r["version"] as? Int == 1)
            #expect(r["uid"] as? Int == 0 && r.keys.contains("login_uid") && r["pid"] is Int)
            #expect(r["user"] as? String == user, "\(r)")
            #expect(r["duration_ms"] is Int)
        }
        let prov = try #require(byCommand["provision"]?.first)
        #expect(
            prov["share"] as? String == ShareName.forUser(user, prefix: "pus")
                && prov["account"] as? String == emu.account,
            "provision's audit line names the share it made: \(prov)")
        let put1 = try #require(byCommand["put"]?.first)
        #expect(
            put1["outcome"] as? String == "ok" && put1["bytes"] as? Int == 8
                && put1["account"] as? String == emu.account)
        #expect(
            (put1["request_ids"] as? [String])?.count == put1["rest_requests"] as? Int,
            "one request id per request: \(put1)")
        let sas1 = try #require(byCommand["sas"]?.first)
        #expect(sas1["permissions"] as? String == "rl" && sas1["expiry"] is String && sas1["url"] == nil, "\(sas1)")
        let failed = try #require(byCommand["get"]?.first { $0["outcome"] as? String == "failed" })
        #expect(failed["exit_status"] as? Int == 65 && failed["error_code"] as? String != nil, "\(failed)")
        #expect((failed["error"] as? String)?.contains("nope.txt") == true)
        #expect(((failed["request_ids"] as? [String])?.count ?? 0) >= 2, "the failed request's id is kept: \(failed)")

        let text = try String(contentsOfFile: audit, encoding: .utf8)
        #expect(!text.contains(emu.key), "the account key is in the audit log")
        #expect(!text.contains(signature), "a SAS signature is in the audit log")
        #expect(!text.contains("sig="))
        for out in [put, sas, missing] { #expect(!out.stdout.contains(emu.key) && !out.stderr.contains(emu.key)) }
    }
}
