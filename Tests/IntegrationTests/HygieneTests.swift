import Foundation
import TestSupport
import Testing

/// What pus-mount sets up for itself before it does anything: no core dumps, a fixed umask; and what the
/// directories it creates look like whatever umask it was started with.
@Suite(.serialized) struct HygieneTests {
    @Test func noCoreDumpsAndAFixedUmaskWhateverTheCallerSet() throws {
        let r = try Run.sh("ulimit -c unlimited; umask 077; exec \(Binaries.pusMount) __hygiene")
        #expect(r.status == 0, "\(r.stderr)")
        let doc = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(doc["dumpable"] as? Int == 0, "PR_SET_DUMPABLE 0: a crash writes no core with the key in it")
        #expect(doc["core_soft"] as? Int == 0 && doc["core_hard"] as? Int == 0, "RLIMIT_CORE 0, also for its children")
        #expect(doc["umask"] as? Int == 0o022)
    }

    /// Without a configuration file at the default path, pus-mount runs on its embedded defaults and says so
    /// (not under --json): nobody mistakes local disk for Azure Files.
    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/etc/pus-mount/pus-mount.toml")))
    func embeddedDefaultsAreAnnounced() throws {
        let r = try Run.sh("unset PUS_MOUNT_CONFIG; \(Binaries.pusMount) status")
        #expect(
            r.stderr.contains(
                "notice: no /etc/pus-mount/pus-mount.toml; running on the embedded defaults (backend = \"local\""),
            "\(r.stderr)")
        let j = try Run.sh("unset PUS_MOUNT_CONFIG; \(Binaries.pusMount) --json status")
        #expect(!j.stderr.contains("notice"))
        // doctor: a warning, not a pass: logins and units do nothing on such a node.
        let d = try Run.sh("unset PUS_MOUNT_CONFIG; \(Binaries.pusMount) --json doctor")
        let doc = try #require(JSONSerialization.jsonObject(with: Data(d.stdout.utf8)) as? [String: Any], "\(d.stdout)")
        let config = try #require((doc["checks"] as? [[String: Any]])?.first { $0["name"] as? String == "config" })
        #expect(config["status"] as? String == "warn", "\(config)")
        #expect((config["detail"] as? String)?.hasPrefix("not configured: logins get no storage") == true, "\(config)")
    }

    /// A warm attach (mounted user, new lease) signs nothing and sends nothing: the dynamic loader maps
    /// neither libcrypto nor libcurl (both opened on first use; issue 17, item 6). LD_DEBUG=files is the
    /// loader's own list of what it maps, dlopen included.
    @Test func aWarmAttachMapsNeitherLibcryptoLibcurlNorLibmount() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(15)
        #expect(try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--session", "cold"]).status == 0)
        let warm = try ns.run(
            Binaries.pusMount, ["--config", cfg.path, "attach", user, "--session", "warm"], env: ["LD_DEBUG": "files"])
        #expect(warm.status == 0, "\(warm.stderr.suffix(500))")
        #expect(warm.stderr.contains("file=libc.so.6"), "LD_DEBUG listed what the loader mapped")
        // What the loader mapped for pus-mount (nsenter, which execs it in the namespace, has its own libraries).
        let lines = warm.stderr.split(separator: "\n")
        let mapped = lines.drop { !$0.contains("needed by \(Binaries.pusMount)") }.filter { $0.contains("file=") }
        #expect(!mapped.isEmpty)
        for lib in ["libcrypto", "libcurl", "libmount", "libblkid", "libselinux"] {
            #expect(!mapped.contains { $0.contains(lib) }, "a warm attach mapped \(lib): \(mapped)")
        }
        // The first request does open them.
        let v = try Run.run(Binaries.pusMount, ["version"], env: ["LD_DEBUG": "files"])
        #expect(v.stderr.contains("libcurl.so.4"), "pus-mount version prints libcurl's version, so it opens it")
        // And the mount child opens libmount when it makes its first context (a bind mount, done).
        let src = dir.file("bind-src")
        let dst = dir.file("bind-dst")
        for d in [src, dst] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        let child = try ns.run(
            Binaries.pusMount, ["__mount", "--", src, dst, "none", "bind"], env: ["LD_DEBUG": "files"])
        #expect(child.status == 0, "\(child.stdout) \(child.stderr.suffix(300))")
        #expect(child.stderr.contains("libmount.so.1"), "the mount child opened libmount")
    }

    @Test func underUmask077TheUserCanStillReachTheMountpoint() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let user = TestUsers.name(25)
        let r = try ns.sh("umask 077; \(Binaries.pusMount) --config \(cfg.path) attach \(user)")
        #expect(r.status == 0, "\(r.stderr)")
        let modes = try ns.sh(
            "stat -c '%a %U' \(dir.file("mnt")) \(dir.file("local")) \(dir.file("state")) \(dir.file("state/locks")) \(dir.file("mnt/\(user)"))"
        )
        #expect(modes.stdout == "755 root\n755 root\n700 root\n700 root\n700 \(user)\n", "\(modes.stdout)")
        let reach = try ns.sh(
            "setpriv --reuid=42025 --regid=100 --clear-groups sh -c 'echo ok > \(dir.file("mnt/\(user)"))/f && cat \(dir.file("mnt/\(user)"))/f'"
        )
        #expect(reach.stdout == "ok\n", "\(reach.stderr)")
        #expect(try String(contentsOfFile: dir.file("state/ledger.json"), encoding: .utf8).isEmpty == false)
        #expect(try Run.sh("stat -c %a \(dir.file("state/ledger.json"))").stdout == "600\n")
    }

    /// `--if-configured` (the PAM module, the units, cron): a missing configuration file is "not configured",
    /// exit 0 and a notice, nothing done; an existing but broken one stays an error (78); without the flag a
    /// missing --config is 78 as before.
    @Test func ifConfiguredDoesNothingWithoutAConfigurationFile() throws {
        let dir = TempDir()
        let missing = dir.file("absent.toml")
        let r = try Run.run(Binaries.pusMount, ["--if-configured", "--config", missing, "reconcile"])
        #expect(r.status == 0 && r.stdout.isEmpty, "\(r.stderr)")
        #expect(
            r.stderr
                == "pus-mount: notice: pus-mount is not configured: \(missing) is missing; nothing was done (see pus-mount(8), INSTALLATION)\n",
            "\(r.stderr)")
        let j = try Run.run(
            Binaries.pusMount, ["--if-configured", "--config", missing, "--json", "attach", TestUsers.name(26)])
        #expect(j.status == 0 && j.stdout.contains("\"configured\":false"), "\(j.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.file("state")))
        #expect(try Run.run(Binaries.pusMount, ["--config", missing, "reconcile"]).status == 78)
        let broken = dir.write("broken.toml", "backend = \n", mode: 0o644)
        #expect(try Run.run(Binaries.pusMount, ["--if-configured", "--config", broken, "reconcile"]).status == 78)
    }

    /// doctor exits 78 for a configuration that does not read, like every other command (issue 15, item 11).
    @Test func doctorExits78ForABrokenConfiguration() throws {
        let dir = TempDir()
        let typo = dir.write("c.toml", "backend = \"local\"\n[mount]\nrooot = \"/mnt/x\"\n", mode: 0o644)
        let r = try Run.run(Binaries.pusMount, ["--config", typo, "doctor"])
        #expect(r.status == 78 && r.stderr.contains("rooot"), "\(r.status) \(r.stderr)")
        let a = try Run.run(Binaries.pusMount, ["--config", typo, "status"])
        #expect(a.status == 78, "the same as any other command")
    }
}
