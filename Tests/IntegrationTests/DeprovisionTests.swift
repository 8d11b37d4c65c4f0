import AzureFiles
import Foundation
import Ledger
import TestSupport
import Testing

/// deprovision that cannot surprise, and undelete: open handles refuse it, it says what goes (the share and
/// every snapshot), and afterwards whether soft delete keeps it and for how long.
@Suite(.serialized) struct DeprovisionTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// An emulator with share soft delete and handles read from `<dir>/handles/<share>` (what samba reports in
    /// the guest).
    func emulator(_ dir: TempDir, softDeleteDays: Int?) throws -> EmulatorProcess {
        try FileManager.default.createDirectory(atPath: dir.file("handles"), withIntermediateDirectories: true)
        let hook = dir.write(
            "handles-hook", "#!/bin/sh\ncat \(dir.file("handles"))/\"$2\" 2>/dev/null\nexit 0\n", mode: 0o755)
        return try EmulatorProcess(
            dir: dir,
            extraArgs: ["--handles-hook", hook] + (softDeleteDays.map { ["--soft-delete-days", String($0)] } ?? []))
    }

    @Test func openHandlesRefuseItThenSoftDeleteKeepsItAndUndeleteBringsItBack() throws {
        let dir = TempDir()
        let emu = try emulator(dir, softDeleteDays: 7)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(38)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(try cfg.run(["provision", user]).status == 0)
        #expect(try cfg.run(["put", user, dir.write("notes.txt", "keep me\n"), "work/notes.txt"]).status == 0)
        #expect(try cfg.run(["snapshot", user]).status == 0)
        #expect(try cfg.run(["snapshot", user]).status == 0)

        // A file held open through SMB somewhere.
        dir.write("handles/\(share)", "work/notes.txt\t10.1.2.3\tnode-b\n")
        let busy = try cfg.run(["deprovision", user, "--yes"])
        #expect(busy.status == 1, "\(busy.stderr)")
        #expect(
            busy.stderr.contains("1 open handle(s) (/work/notes.txt from 10.1.2.3 (node-b))")
                && busy.stderr.contains("--force"), "\(busy.stderr)")
        #expect(
            FileManager.default.fileExists(atPath: "\(emu.dataDir)/\(emu.account)/\(share)/work/notes.txt"),
            "nothing deleted")
        #expect(!emu.requestLog.contains { $0.hasPrefix("DELETE ") })
        // The refusal names clients as `where` does: the configured [nodes] map first.
        let mapped = TestConfig(
            existing: dir.write(
                "mapped.toml",
                try String(contentsOfFile: cfg.path, encoding: .utf8) + "\n[nodes]\n\"10.1.2.3\" = \"gpu-7\"\n",
                mode: 0o600), dir: dir)
        let named = try mapped.run(["deprovision", user, "--yes"])
        #expect(named.status == 1 && named.stderr.contains("from 10.1.2.3 (gpu-7))"), "\(named.stderr)")

        try FileManager.default.removeItem(atPath: dir.file("handles/\(share)"))
        let r = try cfg.run(["--json", "deprovision", user, "--yes"])
        #expect(r.status == 0, "\(r.stderr)")
        let j = try json(r.stdout)
        #expect((j["snapshots_deleted"] as? [String])?.count == 2, "both manual snapshots are named as deleted: \(j)")
        #expect(j["recoverable"] as? Bool == true && j["retention_days"] as? Int == 7, "\(j)")
        #expect(j["version"] as? Int == 1 && j["deleted_version"] is String)
        let human = try cfg.run(["ls", user])
        #expect(human.status == 1 && human.stderr.contains("has no share"), "\(human.stderr)")

        let u = try cfg.run(["--json", "undelete", user])
        #expect(u.status == 0, "\(u.stderr)")
        #expect((try json(u.stdout)["snapshots"] as? [String])?.count == 2, "snapshots come back: \(u.stdout)")
        let back = dir.file("back.txt")
        #expect(try cfg.run(["get", user, "work/notes.txt", back]).status == 0)
        #expect((try? String(contentsOfFile: back, encoding: .utf8)) == "keep me\n")
        let again = try cfg.run(["undelete", user])
        #expect(again.status == 1 && again.stderr.contains("has a share again"), "\(again.stderr)")
    }

    /// Issue 15, item 2: while a soft-deleted share of the user can be restored, neither a login (attach) nor
    /// provision buries it under a new, empty share; ls hints undelete; undelete lists the versions and takes
    /// --version; deprovision --purge-deleted gives the deleted ones up so that a new share may be made.
    @Test func aDeletedShareIsNeverBuriedUnderANewOne() throws {
        let dir = TempDir()
        let emu = try emulator(dir, softDeleteDays: 7)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let ns = try MountNamespace()
        let user = TestUsers.name(39)
        let share = ShareName.forUser(user, prefix: "pus")
        let live = "\(emu.dataDir)/\(emu.account)/\(share)"
        #expect(try cfg.run(["provision", user]).status == 0)
        #expect(try cfg.run(["put", user, dir.write("one.txt", "one\n"), "one.txt"]).status == 0)
        #expect(try cfg.run(["snapshot", user]).status == 0)
        #expect(try cfg.run(["deprovision", user, "--yes"]).status == 0)

        let ls = try cfg.run(["ls", user])
        #expect(
            ls.status == 1 && ls.stderr.contains("pus-mount undelete \(user)") && !ls.stderr.contains("provision"),
            "\(ls.stderr)")
        let before = emu.requestLog.count
        let attach = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"])
        #expect(attach.status == 67, "\(attach.stderr)")
        #expect(
            attach.stderr.contains("was deleted and can be restored") && attach.stderr.contains("--purge-deleted"),
            "\(attach.stderr)")
        let prov = try cfg.run(["provision", user])
        #expect(prov.status == 67 && prov.stderr.contains("pus-mount undelete \(user)"), "\(prov.stderr)")
        #expect(!FileManager.default.fileExists(atPath: live), "no new share was created")
        #expect(
            !emu.requestLog[before...].contains {
                $0.hasPrefix("PUT /\(share)?restype=share") && !$0.contains("comp=")
            }, "no Create Share sent")
        let record = (try? LedgerStore(path: dir.file("state/ledger.json")).read())?.entries[user]
        #expect(record == nil && ns.mountpoints(under: dir.file("mnt")).isEmpty, "no lease, no record, no mount")

        let bogus = try cfg.run(["undelete", user, "--version", "0000000000000000"])
        #expect(bogus.status == 65 && bogus.stderr.contains("there are: "), "\(bogus.stderr)")

        // Given up: the next provision makes a new share; the old one stays listed (Azure keeps it).
        let purge = try cfg.run(["--json", "deprovision", user, "--yes", "--purge-deleted"])
        #expect(purge.status == 0, "\(purge.stderr)")
        #expect((try json(purge.stdout)["gave_up_versions"] as? [String])?.count == 1)
        #expect(try cfg.run(["provision", user]).status == 0)
        #expect(try cfg.run(["put", user, dir.write("two.txt", "two\n"), "two.txt"]).status == 0)
        #expect(try cfg.run(["deprovision", user, "--yes"]).status == 0)

        // Two deleted versions: the listing shows both, the given-up one marked; --version restores it.
        let plan = try cfg.run(["--json", "undelete", user, "--dry-run"])
        let planned = try json(plan.stdout)
        let versions: [[String: Any]] = planned["versions"] as? [[String: Any]] ?? []
        let givenUp: [String] = versions.filter { $0["given_up"] as? Bool == true }.compactMap {
            $0["version"] as? String
        }
        let kept: [String] = versions.filter { $0["given_up"] as? Bool == false }.compactMap {
            $0["version"] as? String
        }
        #expect(versions.count == 2 && givenUp.count == 1 && kept.count == 1, "\(plan.stdout)")
        #expect(planned["version_restored"] as? String == kept.first, "the default is the newest not given up")
        let old = try #require(givenUp.first)
        let u = try cfg.run(["--json", "undelete", user, "--version", old])
        #expect(u.status == 0, "\(u.stderr)")
        #expect((try json(u.stdout)["snapshots"] as? [String])?.count == 1, "its snapshot came back: \(u.stdout)")
        #expect(try cfg.run(["get", user, "one.txt", dir.file("back.txt")]).status == 0)
        #expect((try? String(contentsOfFile: dir.file("back.txt"), encoding: .utf8)) == "one\n")
        #expect(
            try cfg.run(["get", user, "two.txt", dir.file("two-back.txt")]).status != 0,
            "the older version, not the newer")
    }

    @Test func withoutSoftDeleteItSaysNothingIsKeptAndAConfiguredAccountRefuses() throws {
        let dir = TempDir()
        let emu = try emulator(dir, softDeleteDays: nil)
        let user = TestUsers.name(39)
        let plain = TestConfig(dir: dir, emulator: emu)
        #expect(try plain.run(["provision", user]).status == 0)
        let marked = TestConfig(dir: dir, emulator: emu, extra: "")
        // The same config with soft_delete = false on the account.
        let text = try String(contentsOfFile: marked.path, encoding: .utf8)
            .replacingOccurrences(of: "smb_host = \"127.0.0.1\"", with: "smb_host = \"127.0.0.1\"\nsoft_delete = false")
        let off = dir.write("off.toml", text, mode: 0o644)
        let refused = try Run.run(Binaries.pusMount, ["--config", off, "deprovision", user, "--yes"])
        #expect(
            refused.status == 1 && refused.stderr.contains("soft_delete = false")
                && refused.stderr.contains("--no-soft-delete"), "\(refused.stderr)")
        #expect(!emu.requestLog.contains { $0.hasPrefix("DELETE ") })
        let gone = try Run.run(
            Binaries.pusMount, ["--config", off, "--json", "deprovision", user, "--yes", "--no-soft-delete"])
        #expect(gone.status == 0, "\(gone.stderr)")
        #expect(try json(gone.stdout)["recoverable"] as? Bool == false)
        let u = try plain.run(["undelete", user])
        #expect(u.status == 1 && u.stderr.contains("can be restored in any configured account"), "\(u.stderr)")
    }

    @Test func forceDeletesDespiteOpenHandlesAndSaysSo() throws {
        let dir = TempDir()
        let emu = try emulator(dir, softDeleteDays: 1)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(40)
        let share = ShareName.forUser(user, prefix: "pus")
        #expect(try cfg.run(["provision", user]).status == 0)
        dir.write("handles/\(share)", "a\t10.0.0.1\tx\nb\t10.0.0.2\ty\n")
        let r = try cfg.run(["deprovision", user, "--yes", "--force"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(
            r.stdout.contains("2 open handle(s) were cut off") && r.stdout.contains("recoverable for 1 more day(s)"),
            "\(r.stdout)")
    }
}
