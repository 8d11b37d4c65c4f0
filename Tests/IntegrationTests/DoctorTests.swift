import Foundation
import TestSupport
import Testing

@testable import Orchestrator

/// doctor: every check one line with a verdict and, when not ok, the fix; exit 1 when one failed.
@Suite(.serialized) struct DoctorTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// Whether this machine's kernel can mount cifs, found independently of pus-mount.
    static var machineHasCifs: Bool {
        let fs = (try? String(contentsOfFile: "/proc/filesystems", encoding: .utf8)) ?? ""
        if fs.split(separator: "\n").contains(where: { $0.hasSuffix("\tcifs") }) { return true }
        let r = (try? Run.sh("find /lib/modules/$(uname -r) -name 'cifs.ko*' 2>/dev/null | head -1").stdout) ?? ""
        return !r.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    @Test func onThisMachineItNamesWhatIsMissingWithTheFix() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(
            dir: dir, key: Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
        let cfg = TestConfig(dir: dir, emulator: emu)
        let r = try cfg.run(["--json", "doctor"])
        let j = try json(r.stdout)
        #expect(j["version"] as? Int == 1)
        let checks = try #require(j["checks"] as? [[String: Any]])
        func check(_ name: String) -> [String: Any]? { checks.first { $0["name"] as? String == name } }
        let cifs = try #require(check("kernel cifs"))
        if Self.machineHasCifs {
            #expect(cifs["status"] as? String == "ok", "\(cifs)")
        } else {
            #expect(cifs["status"] as? String == "fail", "\(cifs)")
            #expect((cifs["fix"] as? String)?.contains("kernel with CIFS support") == true)
        }
        #expect(check("account pusacct: REST key1")?["status"] as? String == "ok", "\(checks)")
        #expect(check("account pusacct: clock")?["status"] as? String == "ok")
        #expect(
            check("mount.cifs")?["status"] as? String
                == (FileManager.default.isExecutableFile(atPath: "/sbin/mount.cifs") ? "ok" : "fail"))
        // Nothing listens on 127.0.0.1:445 here.
        let smb = try #require(check("account pusacct: SMB"))
        #expect(
            smb["status"] as? String == "fail" && (smb["detail"] as? String)?.contains("Connection refused") == true,
            "\(smb)")
        #expect((smb["fix"] as? String)?.contains("TCP 445") == true)
        #expect(r.status == 1, "a failed check exits 1")
        #expect(j["ok"] as? Bool == false)
        #expect(!r.stdout.contains(emu.key) && !r.stderr.contains(emu.key))

        // The human form: one line per check, the verdict first.
        let human = try cfg.run(["doctor"])
        #expect(
            human.stdout.split(separator: "\n").contains {
                $0.hasPrefix("fail account pusacct: SMB: 127.0.0.1") && $0.contains("; fix: ")
            })
        #expect(human.stdout.split(separator: "\n").contains { $0.hasPrefix("ok   account pusacct: REST key1") })
    }

    @Test func aWrongKeyAndABadConfigAreFailedChecks() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu, key: EmulatorProcess.otherKey(4))
        let r = try cfg.run(["doctor"])
        #expect(r.status == 1)
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("fail account pusacct: REST key1") }
        #expect(line?.contains("AuthenticationFailed") == true && line?.contains("Access keys") == true, "\(r.stdout)")
        let bad = dir.write("bad.toml", "backend = \"azure\"\nnot_a_key = 1\n", mode: 0o644)
        let b = try Run.run(Binaries.pusMount, ["--config", bad, "doctor"])
        #expect(b.status == 78 && b.stderr.contains("not_a_key"), "like every other command: \(b.stderr)")
    }

    /// `[blob] enabled`: doctor asks the Blob endpoint too; one that does not answer is a failed check naming it.
    @Test func theBlobEndpointIsCheckedWhenEnabled() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir, blob: true)
        let on = TestConfig(dir: dir, emulator: emu, extra: "[blob]\nenabled = true\n")
        let r = try on.run(["doctor"])
        let ok = r.stdout.split(separator: "\n").first { $0.hasPrefix("ok   account pusacct: Blob") }
        #expect(ok?.contains(emu.blobEndpoint()) == true, "\(r.stdout)")
        // A Blob endpoint where nothing listens (port 9, discard): a failed check with the fix.
        let text = try String(contentsOfFile: on.path, encoding: .utf8).replacingOccurrences(
            of: emu.blobEndpoint(), with: "http://127.0.0.1:9/pusacct")
        let off = TestConfig(dir: dir, emulator: emu)
        #expect(!(try off.run(["doctor"]).stdout.contains("account pusacct: Blob")), "not asked when disabled")
        let broken = TestConfig(existing: dir.write("broken.toml", text, mode: 0o644), dir: dir)
        let b = try broken.run(["doctor"])
        #expect(b.status == 1)
        let fail = b.stdout.split(separator: "\n").first { $0.hasPrefix("fail account pusacct: Blob") }
        #expect(fail?.contains("127.0.0.1:9") == true && fail?.contains("blob_endpoint") == true, "\(b.stdout)")
    }

    @Test func aPrivateMountNamespaceIsNotOk() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "--json", "doctor"])
        let checks = try #require(try json(r.stdout)["checks"] as? [[String: Any]])
        let n = try #require(checks.first { $0["name"] as? String == "mount namespace" })
        #expect(n["status"] as? String != "ok", "a private namespace passed: \(n)")
    }

    @Test func kernelCifsFromFixtures() throws {
        let dir = TempDir()
        var env = DoctorEnvironment()
        env.kernelRelease = "6.1.0-test"
        env.procFilesystems = dir.write("fs-without", "nodev\tproc\n\text4\n")
        env.modulesDirectory = dir.file("modules")
        #expect(Node.kernelCifsCheck(env).status == .fail)
        try FileManager.default.createDirectory(
            atPath: dir.file("modules/6.1.0-test/kernel/fs/smb/client"), withIntermediateDirectories: true)
        dir.write("modules/6.1.0-test/kernel/fs/smb/client/cifs.ko.xz", "x")
        #expect(Node.kernelCifsCheck(env).status == .ok)
        env.modulesDirectory = dir.file("none")
        env.procFilesystems = dir.write("fs-with", "nodev\tproc\nnodev\tcifs\n")
        #expect(Node.kernelCifsCheck(env).status == .ok)
        #expect(Node.skewCheck("a", serviceDate: "Thu, 01 Jan 1970 00:00:00 GMT").status == .fail)
        #expect(Node.skewCheck("a", serviceDate: nil).status == .warn)
    }
}
