import Foundation
import TestSupport
import Testing

/// The callers' recipes in etc/recipes (issue 19, item 7), each run as its caller runs it, in a private mount
/// namespace on the local backend, with a real process standing for the job, server or container.
@Suite(.serialized) struct RecipeTests {
    static let recipes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("etc/recipes").path

    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not JSON: \(text)")
    }

    /// The user's ledger leases (session → pid) and whether the namespace has the user's mount.
    func state(_ ns: MountNamespace, _ cfg: TestConfig, _ user: String) throws -> (
        leases: [String: Int?], mounted: Bool
    ) {
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "--json", "status", user])
        let users = try json(r.stdout)["users"] as? [[String: Any]] ?? []
        let u = users.first { $0["user"] as? String == user }
        var leases: [String: Int?] = [:]
        for l in ((u?["ledger"] as? [String: Any])?["leases"] as? [[String: Any]]) ?? [] {
            if let s = l["session"] as? String { leases[s] = l["pid"] as? Int }
        }
        return (leases, !ns.mounts(at: cfg.dir.file("mnt/\(user)")).isEmpty)
    }

    func env(_ cfg: TestConfig, _ extra: [String: String] = [:]) -> [String: String] {
        ["PUS_MOUNT": Binaries.pusMount, "PUS_MOUNT_CONFIG": cfg.path].merging(extra) { $1 }
    }

    /// Slurm: the Prolog attaches with a lease named for the job, the Epilog detaches; a user's own problem is
    /// logged and does not fail the Prolog (that would drain the node), a broken node does.
    @Test func slurmPrologAndEpilog() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(41)
        let job = ["SLURM_JOB_USER": user, "SLURM_JOB_ID": "4242"]
        let pro = try ns.run("\(Self.recipes)/slurm/prolog.sh", [], env: env(cfg, job))
        #expect(pro.status == 0, "\(pro.stderr)")
        var s = try state(ns, cfg, user)
        #expect(s.mounted && s.leases.keys.contains("slurm-4242"), "\(s)")
        // A login of the same user meanwhile holds its own lease: the job's end leaves the mount.
        #expect(
            try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--session", "ssh-1"]).status == 0)
        #expect(try ns.run("\(Self.recipes)/slurm/epilog.sh", [], env: env(cfg, job)).status == 0)
        s = try state(ns, cfg, user)
        #expect(s.mounted && Array(s.leases.keys) == ["ssh-1"], "\(s)")
        #expect(
            try ns.run(Binaries.pusMount, ["--config", cfg.path, "detach", user, "--session", "ssh-1"]).status == 0)
        #expect(!(try state(ns, cfg, user)).mounted)
        // A user the node refuses (uid below min_uid): logged, the job runs, the node is not drained.
        let low = try ns.run(
            "\(Self.recipes)/slurm/prolog.sh", [], env: env(cfg, ["SLURM_JOB_USER": "pusulow", "SLURM_JOB_ID": "7"]))
        #expect(low.status == 0 && low.stderr.contains("pusulow"), "\(low.stderr)")
        // A node whose configuration does not read: the Prolog fails (78), as it must.
        let broken = dir.write("broken.toml", "backend = \"azure\"\nnope = 1\n", mode: 0o644)
        let b = try ns.run(
            "\(Self.recipes)/slurm/prolog.sh", [],
            env: env(cfg, job).merging(["PUS_MOUNT_CONFIG": broken]) { $1 })
        #expect(b.status == 78, "\(b.stderr)")
    }

    /// JupyterHub: the hooks attach when a server spawns and detach when it stops, one lease per named server.
    @Test func jupyterHubSpawnerHooks() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(42)
        let script = """
            import sys, types
            exec(open(sys.argv[1]).read())
            log = types.SimpleNamespace(warning=lambda *a: print("warning", *a))
            spawner = types.SimpleNamespace(user=types.SimpleNamespace(name=sys.argv[2]), name=sys.argv[3], log=log)
            if sys.argv[4] == "spawn":
                print(pus_mount_pre_spawn(spawner))
            else:
                pus_mount_post_stop(spawner)
            """
        let hooks = "\(Self.recipes)/jupyterhub/pus_mount_hooks.py"
        let spawn = try ns.run("/usr/bin/python3", ["-c", script, hooks, user, "", "spawn"], env: env(cfg))
        #expect(spawn.status == 0, "\(spawn.stderr)")
        let named = try ns.run("/usr/bin/python3", ["-c", script, hooks, user, "gpu", "spawn"], env: env(cfg))
        #expect(named.status == 0, "\(named.stderr)")
        var s = try state(ns, cfg, user)
        #expect(s.mounted && Set(s.leases.keys) == ["jupyter-\(user)-default", "jupyter-\(user)-gpu"], "\(s)")
        #expect(try ns.run("/usr/bin/python3", ["-c", script, hooks, user, "", "stop"], env: env(cfg)).status == 0)
        #expect(try ns.run("/usr/bin/python3", ["-c", script, hooks, user, "gpu", "stop"], env: env(cfg)).status == 0)
        s = try state(ns, cfg, user)
        #expect(!s.mounted && s.leases.isEmpty, "\(s)")
        // A spawn for a user the node refuses fails with pus-mount's reason.
        let refused = try ns.run("/usr/bin/python3", ["-c", script, hooks, "pusulow", "", "spawn"], env: env(cfg))
        #expect(refused.status != 0 && refused.stderr.contains("pus-mount attach pusulow failed (exit 67)"))
    }

    /// A container launcher: attach on the host, start a process in its own mount namespace that binds the
    /// share in (the container), bind the lease to its pid; the container sees the user's files; stop detaches.
    /// A container that dies without a stop loses its lease at the next reconcile, which then unmounts.
    @Test func containerLauncher() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(43)
        let mp = dir.file("mnt/\(user)")
        let root = dir.file("ctr-root")
        try FileManager.default.createDirectory(atPath: root + "/storage", withIntermediateDirectories: true)
        let start =
            "unshare -m --propagation private sh -c 'mount --bind \(mp) \(root)/storage && exec sleep 300' >/dev/null 2>&1 & echo $!"
        let launch = "\(Self.recipes)/container/launch.sh"
        let r = try ns.run(launch, ["start", user, "c1", "--", "sh", "-c", start], env: env(cfg))
        #expect(r.status == 0, "\(r.stderr)")
        let pid = try #require(Int32(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(r.stdout)")
        defer { kill(pid, SIGKILL) }
        var s = try state(ns, cfg, user)
        #expect(s.mounted && s.leases["ctr-c1"] == Int(pid), "the lease carries the container's pid: \(s)")
        // The user's files, written on the host side, are seen inside the container.
        #expect(try ns.sh("echo hello > \(mp)/note.txt").status == 0)
        var seen = ""
        for _ in 0..<50 {
            seen = try ns.sh("nsenter -t \(pid) -m cat \(root)/storage/note.txt").stdout
            if seen == "hello\n" { break }
            usleep(50_000)
        }
        #expect(seen == "hello\n", "the container sees the share")
        #expect(try ns.run(launch, ["stop", user, "c1"], env: env(cfg)).status == 0)
        kill(pid, SIGKILL)
        s = try state(ns, cfg, user)
        #expect(s.leases.isEmpty, "\(s)")
        // A second container that dies without a stop: reconcile drops its dead lease and unmounts.
        let again = try ns.run(launch, ["start", user, "c2", "--", "sh", "-c", start], env: env(cfg))
        let pid2 = try #require(Int32(again.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "\(again.stderr)")
        kill(pid2, SIGKILL)
        for _ in 0..<100 where kill(pid2, 0) == 0 { usleep(20_000) }
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "reconcile"]).status == 0)
        s = try state(ns, cfg, user)
        #expect(!s.mounted && s.leases.isEmpty, "\(s)")
    }
}
