import Foundation
import TestSupport
import Testing

/// attach / detach / status on real bind mounts, each test in its own private mount namespace.
@Suite(.serialized) struct AttachDetachTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// status --json's view of one user: (ledger leases, live mount present).
    func status(_ ns: MountNamespace, _ cfg: TestConfig, _ user: String) throws -> (
        leases: Int, live: Bool, mountpoint: String
    ) {
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
        #expect(
            FileManager.default.fileExists(atPath: dir.file("local/\(user)/notes.txt")), "detach never deletes data")

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
        let r = try ns.sh(
            """
            sleep 600 & short=$!
            \(p) attach \(user) --session short --pid $short >/dev/null || exit 1
            \(p) attach \(user) --session long --pid $$ >/dev/null || exit 1
            kill $short; wait $short
            \(p) --json status \(user)
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let users = try #require(try json(r.stdout)["users"] as? [[String: Any]])
        let leases = try #require((users.first?["ledger"] as? [String: Any])?["leases"] as? [[String: Any]])
        let alive = Dictionary(
            uniqueKeysWithValues: leases.map { ($0["session"] as! String, $0["holder_alive"] as? Bool) })
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

    /// Issue 15, item 3: a tmux or nohup job that outlives its session keeps its storage. A real process with its
    /// working directory inside a real bind mount: the last detach leaves the mount (status: busy, no lease, its
    /// pid), reconcile defers it while the process lives and unmounts it once it is gone; `detach --force` is
    /// the only way to a lazy unmount.
    @Test func aBusyMountWithNoLeaseStaysUntilNothingHoldsIt() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(14)
        let mp = dir.file("mnt/\(user)")
        func pus(_ args: [String]) throws -> RunResult { try ns.run(Binaries.pusMount, ["--config", cfg.path] + args) }
        /// A process of the user's session that lives on: cwd inside the mount, an open file there too.
        func holder() throws -> Int32 {
            let r = try ns.sh("(cd \(mp) && exec sleep 600 3>\(mp)/nohup.out) </dev/null >/dev/null 2>&1 & echo $!")
            let pid = try #require(Int32(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stderr)")
            for _ in 0..<200
            where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/cwd")) != mp {
                usleep(5000)
            }
            return pid
        }
        func kill9(_ pid: Int32) {
            kill(pid, SIGKILL)
            for _ in 0..<200 where Foundation.kill(pid, 0) == 0 { usleep(5000) }
        }

        #expect(try pus(["attach", user, "--session", "ssh"]).status == 0)
        let job = try holder()
        defer { kill9(job) }
        let d = try pus(["detach", user, "--session", "ssh"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(d.stderr.contains("stays mounted: busy, held by pid \(job) (sleep)"), "\(d.stderr)")
        #expect(d.stdout.contains("still mounted: busy, no lease"))
        #expect(ns.mounts(at: mp).count == 1, "the mount stays while a process uses it")
        #expect(
            try ns.sh("cat /proc/\(job)/cwd/nohup.out >/dev/null && touch \(mp)/still-here").status == 0,
            "the job still reaches its files")

        let st = try pus(["--json", "status", user])
        let u = try #require((try json(st.stdout)["users"] as? [[String: Any]])?.first)
        let holders = try #require((u["busy"] as? [String: Any])?["holders"] as? [[String: Any]])
        #expect(holders.map { $0["pid"] as? Int } == [Int(job)])
        #expect(holders.first?["command"] as? String == "sleep")
        #expect(try pus(["status", user]).stdout.contains("busy, no lease (pid \(job) sleep)"))

        let r1 = try pus(["--json", "reconcile"])
        #expect(r1.status == 0, "converged: nothing to do while the job holds it: \(r1.stdout) \(r1.stderr)")
        #expect(r1.stdout.contains("\"deferred\"") && r1.stdout.contains("held by pid \(job)"), "\(r1.stdout)")
        #expect(ns.mounts(at: mp).count == 1, "reconcile leaves a busy mount")

        kill9(job)
        let r2 = try pus(["reconcile"])
        #expect(r2.status == 0, "\(r2.stdout) \(r2.stderr)")
        #expect(ns.mounts(at: mp).isEmpty, "once nothing holds it, reconcile unmounts it")
        #expect(!FileManager.default.fileExists(atPath: mp))
        #expect(FileManager.default.fileExists(atPath: dir.file("local/\(user)/still-here")), "data untouched")
        #expect(try pus(["--json", "status", user]).stdout.contains("\"busy\":null"))

        // Only --force detaches a busy mount, lazily: the job keeps running against the detached tree.
        #expect(try pus(["attach", user, "--session", "ssh2"]).status == 0)
        let job2 = try holder()
        defer { kill9(job2) }
        let f = try pus(["detach", user, "--session", "ssh2", "--force"])
        #expect(f.status == 0, "\(f.stderr)")
        #expect(f.stdout.contains("unmounted"))
        #expect(ns.mounts(at: mp).isEmpty, "detach --force took it out of the table")
        #expect(Foundation.kill(job2, 0) == 0, "the job was not killed")
        #expect(FileManager.default.fileExists(atPath: dir.file("local/\(user)/still-here")), "data untouched")
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
            ("a,uid=0", 65), ("../x", 65), ("x/y", 65), ("-x", 65), ("a\nb", 65),
            (String(repeating: "a", count: 300), 65),
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
