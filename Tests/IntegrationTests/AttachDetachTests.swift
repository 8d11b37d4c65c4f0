import Foundation
import Testing
import TestSupport

/// attach / detach / status on real bind mounts, each test in its own private mount namespace.
@Suite(.serialized) struct AttachDetachTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// status --json's view of one user: (ledger leases, live mount present).
    func status(_ ns: MountNamespace, _ cfg: TestConfig, _ user: String) throws -> (leases: Int, live: Bool, mountpoint: String) {
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "--json", "status", user])
        #expect(r.status == 0, "\(r.stderr)")
        let users = try #require(try json(r.stdout)["users"] as? [[String: Any]])
        guard let u = users.first else { return (0, false, "") }
        let leases = ((u["ledger"] as? [String: Any])?["leases"] as? [Any])?.count ?? 0
        return (leases, !(u["live"] is NSNull) && u["live"] != nil, u["mountpoint"] as? String ?? "")
    }

    @Test func localAttachIsIdempotentAndLastDetachUnmounts() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(11)
        let mp = dir.file("mnt/\(user)")
        func pus(_ args: [String]) throws -> RunResult { try ns.run(Binaries.pusMount, ["--config", cfg.path] + args) }

        let a1 = try pus(["attach", user, "--session", "s1"])
        #expect(a1.status == 0, "\(a1.stderr)")
        #expect(a1.stdout == mp + "\n")
        #expect(ns.mounts(at: mp).count == 1)
        // The mount shows the user's directory, owned by the user, mode 0700.
        let st = try ns.sh("stat -c '%u:%g:%a' \(mp)")
        #expect(st.stdout == "42011:100:700\n")
        #expect(try status(ns, cfg, user) == (1, true, mp))

        let a2 = try pus(["attach", user, "--session", "s2"])
        #expect(a2.status == 0)
        #expect(ns.mounts(at: mp).count == 1, "a second attach must not stack a mount")
        #expect(try status(ns, cfg, user) == (2, true, mp))

        // Same session again: still two leases (the lease is refreshed, not duplicated).
        #expect(try pus(["attach", user, "--session", "s2"]).status == 0)
        #expect(try status(ns, cfg, user) == (2, true, mp))

        // The user writes through the mount; the data lands in the local directory.
        let w = try ns.sh("setpriv --reuid=42011 --regid=100 --clear-groups sh -c 'echo persistent > \(mp)/notes.txt'")
        #expect(w.status == 0, "\(w.stderr)")
        #expect(try String(contentsOfFile: dir.file("local/\(user)/notes.txt"), encoding: .utf8) == "persistent\n")
        // Another user cannot read it.
        let other = try ns.sh("setpriv --reuid=42012 --regid=100 --clear-groups cat \(mp)/notes.txt")
        #expect(other.status != 0)

        let d1 = try pus(["detach", user, "--session", "s1"])
        #expect(d1.status == 0)
        #expect(ns.mounts(at: mp).count == 1, "one lease remains: the mount stays")
        #expect(try status(ns, cfg, user) == (1, true, mp))

        let d2 = try pus(["detach", user, "--session", "s2"])
        #expect(d2.status == 0, "\(d2.stderr)")
        #expect(ns.mounts(at: mp).isEmpty, "the last detach unmounts")
        #expect(try status(ns, cfg, user) == (0, false, mp))
        #expect(!FileManager.default.fileExists(atPath: mp), "the empty mountpoint is removed")
        #expect(FileManager.default.fileExists(atPath: dir.file("local/\(user)/notes.txt")), "detach never deletes data")

        // A second attach sees the data again.
        #expect(try pus(["attach", user]).status == 0)
        #expect(try ns.sh("cat \(mp)/notes.txt").stdout == "persistent\n")
        // A detach of a session that has no lease is harmless.
        let stray = try pus(["detach", user, "--session", "nope"])
        #expect(stray.status == 0)
        #expect(ns.mounts(at: mp).count == 1)
    }

    @Test func leasesWithAPidShowWhetherTheirHolderLives() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(13)
        let p = "\(Binaries.pusMount) --config \(cfg.path)"
        let r = try ns.sh("""
            sleep 600 & short=$!
            \(p) attach \(user) --session short --pid $short >/dev/null || exit 1
            \(p) attach \(user) --session long --pid $$ >/dev/null || exit 1
            kill $short; wait $short
            \(p) --json status \(user)
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let users = try #require(try json(r.stdout)["users"] as? [[String: Any]])
        let leases = try #require((users.first?["ledger"] as? [String: Any])?["leases"] as? [[String: Any]])
        let alive = Dictionary(uniqueKeysWithValues: leases.map { ($0["session"] as! String, $0["holder_alive"] as? Bool) })
        #expect(alive["short"] == false)
        #expect(alive["long"] == true)
        let bad = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--pid", "999999"])
        #expect(bad.status == 65 && bad.stderr.contains("no such process"))
    }

    @Test func aUserDeletedWhileMountedCanStillBeDetached() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = "pusghost\(getpid() % 10000)"
        #expect(try Run.sh("useradd --no-create-home --no-user-group --gid 100 \(user)").status == 0)
        defer { _ = try? Run.sh("userdel \(user)") }
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user]).status == 0)
        #expect(try Run.sh("userdel \(user)").status == 0)
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user]).status == 67, "attach needs NSS")
        let d = try ns.run(Binaries.pusMount, ["--config", cfg.path, "detach", user])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stderr.contains("no longer resolves"))
        #expect(ns.mounts(at: dir.file("mnt/\(user)")).isEmpty)
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "detach", "nobody-known-pus"]).status == 67)
    }

    @Test func aBusyMountIsDetachedLazilyAfterTheNormalUnmountFails() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(14)
        let mp = dir.file("mnt/\(user)")
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user]).status == 0)
        // A process keeps its working directory inside the mount: umount(2) says EBUSY.
        let r = try ns.sh("""
            (cd \(mp) && exec sleep 20) & holder=$!
            sleep 0.2
            \(Binaries.pusMount) --config \(cfg.path) detach \(user); rc=$?
            kill $holder
            exit $rc
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("detaching lazily"))
        #expect(ns.mounts(at: mp).isEmpty, "the lazy unmount took it out of the table")
        #expect(FileManager.default.fileExists(atPath: dir.file("local/\(user)")), "data untouched")
    }

    @Test func attachRefusesToStackOnAForeignMount() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(12)
        let mp = dir.file("mnt/\(user)")
        #expect(try ns.sh("mkdir -p \(mp) && mount -t tmpfs foreign \(mp)").status == 0)
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user])
        #expect(r.status == 73)
        #expect(r.stderr.contains("refusing to stack"))
        #expect(ns.mounts(at: mp).count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.file("state/ledger.json")), "no lease was written")
    }

    @Test func hostileNamesAreRefusedBeforeAnythingHappens() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let ns = try MountNamespace()
        let hostile: [(String, Int32)] = [
            ("a,uid=0", 65), ("../x", 65), ("x/y", 65), ("-x", 65), ("a\nb", 65), (String(repeating: "a", count: 300), 65),
            ("ünïcode", 65), ("a=b", 65), (" alice", 65), (".hidden", 65), ("", 65),
            ("nosuchuser-pus", 67), ("root", 67), (TestUsers.lowUID, 67),
        ]
        let before = ns.mountinfo
        for (name, want) in hostile {
            // "--" so that a name starting with '-' reaches pus-mount as a name (a bare one is a usage error, 64).
            for cmd in [["attach", "--", name], ["detach", "--", name], ["provision", "--", name]] {
                let r = try ns.run(Binaries.pusMount, ["--config", cfg.path] + cmd)
                #expect(r.status == want, "\(cmd) for \(name.debugDescription): \(r.status) \(r.stderr)")
                #expect(r.stderr.hasPrefix("pus-mount: error: "))
            }
        }
        let bare = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", "-x"])
        #expect(bare.status == 64)
        #expect(ns.mountinfo == before, "no mount")
        #expect(emu.requestLog.isEmpty, "no REST call")
        for sub in ["state", "creds", "mnt", "local"] {
            #expect(!FileManager.default.fileExists(atPath: dir.file(sub)), "\(sub) must not exist")
        }
    }
}
