import Foundation
import Mounting
import TestSupport
import Testing

/// rotate-key against the emulator (which accepts both of the account's keys, like Azure): only keys the
/// service accepts are written; credentials files get password2 and password; nothing secret is printed.
@Suite(.serialized) struct RotateKeyTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    @Test func rewritesCredentialsWithBothKeysOnlyAfterTheServiceAcceptsThem() throws {
        let dir = TempDir()
        let k1 = EmulatorProcess.testKey
        let k2 = EmulatorProcess.otherKey(2)
        let wrong = EmulatorProcess.otherKey(3)
        let emu = try EmulatorProcess(dir: dir, key: k1, moreAccounts: [("pusacct", k2)])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(41)
        let ns = try MountNamespace()
        let at = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"])
        #expect(at.status == 0, "\(at.stderr)")
        let share = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.file("creds")).first)
        let cred = dir.file("creds/\(share)")
        #expect(try String(contentsOfFile: cred, encoding: .utf8) == "username=pusacct\npassword=\(k1)\n")

        // A key the service does not accept: refused, nothing rewritten.
        dir.write("account.key", "\(k1)\n\(wrong)\n", mode: 0o600)
        let bad = try cfg.run(["rotate-key"])
        #expect(bad.status == 77, "\(bad.stderr)")
        #expect(
            bad.stderr.contains("key2 of account pusacct is not accepted")
                && bad.stderr.contains("nothing was rewritten"), "\(bad.stderr)")
        #expect(try String(contentsOfFile: cred, encoding: .utf8) == "username=pusacct\npassword=\(k1)\n")

        // Step 1: the new key as key2.
        dir.write("account.key", "\(k1)\n\(k2)\n", mode: 0o600)
        let step1 = try cfg.run(["--json", "rotate-key"])
        #expect(step1.status == 0, "\(step1.stderr)")
        let acct = try #require((try json(step1.stdout)["accounts"] as? [[String: Any]])?.first)
        #expect((acct["credentials_rewritten"] as? [String]) == [cred])
        #expect(
            try String(contentsOfFile: cred, encoding: .utf8) == "username=pusacct\npassword2=\(k2)\npassword=\(k1)\n")
        var st = stat()
        #expect(stat(cred, &st) == 0 && st.st_mode & 0o777 == 0o600 && st.st_uid == 0)

        // Step 2: swapped.
        dir.write("account.key", "\(k2)\n\(k1)\n", mode: 0o600)
        #expect(try cfg.run(["rotate-key", "--account", "pusacct"]).status == 0)
        #expect(
            try String(contentsOfFile: cred, encoding: .utf8) == "username=pusacct\npassword2=\(k1)\npassword=\(k2)\n")

        let unknown = try cfg.run(["rotate-key", "--account", "nosuch"])
        #expect(unknown.status == 65 && unknown.stderr.contains("not in [[azure.accounts]]"), "\(unknown.stderr)")

        // No key in any output or in the audit log.
        let audit = (try? String(contentsOfFile: dir.file("audit.jsonl"), encoding: .utf8)) ?? ""
        #expect(audit.contains("\"command\":\"rotate-key\""))
        for text in [bad.stdout, bad.stderr, step1.stdout, step1.stderr, audit] {
            for k in [k1, k2, wrong] { #expect(!text.contains(k), "a key leaked: \(text)") }
        }
    }

    /// rotate-key rewrites a user's credentials under the user's lock (issue 15, item 1): while an attach or
    /// detach holds it, rotate-key waits, and what it writes lands after the holder let go.
    @Test func rotateKeyWaitsForTheUsersLock() throws {
        let dir = TempDir()
        let k1 = EmulatorProcess.testKey
        let k2 = EmulatorProcess.otherKey(2)
        let emu = try EmulatorProcess(dir: dir, key: k1, moreAccounts: [("pusacct", k2)])
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(42)
        let ns = try MountNamespace()
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"]).status == 0)
        let cred = dir.file(
            "creds/\(try #require(try FileManager.default.contentsOfDirectory(atPath: dir.file("creds")).first))")
        dir.write("account.key", "\(k1)\n\(k2)\n", mode: 0o600)
        let lock = dir.file("state/locks/\(user).lock")
        let r = try ns.sh(
            """
            flock -o \(lock) sh -c 'touch \(dir.file("held")); sleep 1; date +%s%N > \(dir.file("released")); sleep 0.1' & holder=$!
            while [ ! -e \(dir.file("held")) ]; do sleep 0.01; done
            \(Binaries.pusMount) --config \(cfg.path) rotate-key >/dev/null; rc=$?
            wait $holder
            exit $rc
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let released = try #require(
            Int64(
                try String(contentsOfFile: dir.file("released"), encoding: .utf8).trimmingCharacters(
                    in: .whitespacesAndNewlines)))
        var st = stat()
        #expect(stat(cred, &st) == 0)
        let written = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        // `released` is taken 0.1 s before the lock goes: file times come from the kernel's coarse clock, which
        // may lag `date` by a tick, so a write right after the release could otherwise look earlier than it.
        #expect(written >= released, "the credentials file was rewritten while the user's lock was held")
        #expect(try String(contentsOfFile: cred, encoding: .utf8).contains("password2=\(k2)"))
    }

    @Test func kernelVersionsWithAndWithoutPassword2() {
        // The rule rotate-key reports by (Linux 6.10 added cifs password2).
        #expect(!Mounting.KeyRefresh.kernelHasPassword2(release: "6.1.0-50-amd64"))
        #expect(!Mounting.KeyRefresh.kernelHasPassword2(release: "6.9.12"))
        #expect(Mounting.KeyRefresh.kernelHasPassword2(release: "6.10.0"))
        #expect(Mounting.KeyRefresh.kernelHasPassword2(release: "6.12.95+bpo-amd64"))
        #expect(Mounting.KeyRefresh.kernelHasPassword2(release: "7.0.1"))
        #expect(!Mounting.KeyRefresh.kernelHasPassword2(release: "garbage"))
        #expect(
            Mounting.KeyRefresh.remountFlags(vfsOptions: "ro,nosuid,nodev,relatime")
                & UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_REMOUNT)
                == UInt(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_REMOUNT))
        #expect(Mounting.KeyRefresh.remountFlags(vfsOptions: "rw") & UInt(MS_RDONLY) == 0)
    }
}
