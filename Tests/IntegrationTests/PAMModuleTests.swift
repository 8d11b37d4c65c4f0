import Foundation
import TestSupport
import Testing

/// pam_pus_mount.so (pam/) driven by pamtester through real PAM stacks, each test in its own private mount
/// namespace: /etc/pam.d, the test user's home and /dev (for a /dev/log that records syslog) are replaced
/// there only. The module under test is built from pam/ with `PUS_MOUNT_BIN` pointing at the binary it must
/// run (the built pus-mount, or a probe standing in for it).
///
/// The hostile home: `~/.pam_environment` sets PATH to a directory of planted `tr`, `env`, `timeout`,
/// `logger` and `sh`, and LD_PRELOAD to a library whose constructor records its euid; pam_env reads it
/// (`user_readenv=1`, as Debian 12's sshd stack does). A pam_exec control proves the plant is live.
@Suite(.serialized) struct PAMModuleTests {
    static let user = "pusupam"
    static let uid = 42099
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static var ready: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/pamtester")
            && FileManager.default.fileExists(atPath: "/home/\(user)")
            && FileManager.default.fileExists(atPath: "/usr/include/security/pam_modules.h")
    }

    /// One test's world: a local-backend config, a module built for `binary`, a hostile home, the namespace
    /// with its own /etc/pam.d and /dev/log.
    final class Bench {
        let dir = TempDir("pus-pam")
        let cfg: TestConfig
        let ns: MountNamespace
        let module: String

        init(binary: String = Binaries.pusMount) throws {
            cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
            module = dir.file("pam_pus_mount.so")
            let make = try Run.run(
                "/usr/bin/make", ["-s", "-C", "\(PAMModuleTests.repo)/pam", "OUT=\(module)", "PUS_MOUNT_BIN=\(binary)"])
            guard make.status == 0 else { throw Failure("building the module failed: \(make.stderr)") }
            ns = try MountNamespace()
            try plant()
            let t = dir.path
            let r = try ns.sh(
                """
                set -e
                mkdir -p \(t)/pam.d \(t)/olddev
                printf 'auth required pam_deny.so\\naccount required pam_deny.so\\nsession required pam_deny.so\\n' > \(t)/pam.d/other
                mount --bind \(t)/pam.d /etc/pam.d
                mount --bind \(t)/home /home/\(PAMModuleTests.user)
                mount --rbind /dev \(t)/olddev
                mount -t tmpfs -o mode=0755 tmpfs /dev
                for n in null zero full random urandom tty; do touch /dev/$n; mount --bind \(t)/olddev/$n /dev/$n; done
                /usr/bin/python3 \(PAMModuleTests.repo)/Tests/PAM/syslog-listener.py /dev/log \(t)/syslog 120 </dev/null >/dev/null 2>&1 &
                echo $! > \(t)/listener.pid
                for i in $(seq 200); do [ -e /dev/log.ready ] && break; sleep 0.05; done
                [ -e /dev/log.ready ]
                """)
            guard r.status == 0 else { throw Failure("namespace set-up failed: \(r.stderr)") }
        }

        struct Failure: Error, CustomStringConvertible {
            let description: String
            init(_ d: String) { description = d }
        }

        /// The hostile home and the planted programs (each records that it ran, and as whom).
        func plant() throws {
            let t = dir.path
            try FileManager.default.createDirectory(atPath: dir.file("plant"), withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: dir.file("home"), withIntermediateDirectories: true)
            let cc = try Run.run(
                "/usr/bin/cc",
                [
                    "-shared", "-fPIC", "-DMARKER=\"\(t)/marker\"", "-o", dir.file("plant/evil.so"),
                    "\(PAMModuleTests.repo)/Tests/PAM/evil.c",
                ])
            guard cc.status == 0 else { throw Failure("cc: \(cc.stderr)") }
            for tool in ["tr", "env", "timeout", "logger", "sh"] {
                dir.write(
                    "plant/\(tool)", "#!/bin/sh\necho \"planted \(tool) ran with euid $(id -u)\" >> \(t)/marker\n",
                    mode: 0o755)
            }
            dir.write(
                "home/.pam_environment",
                "PATH DEFAULT=\(t)/plant:/usr/bin:/bin\nLD_PRELOAD DEFAULT=\(t)/plant/evil.so\n")
            _ = try Run.sh(
                "chown -R \(PAMModuleTests.uid):100 \(dir.file("home")) && chmod 0755 \(dir.file("plant")) \(t)")
        }

        /// Writes /etc/pam.d/NAME (inside the namespace): pam_env with user_readenv=1, then `session`.
        func service(_ name: String, _ session: String) {
            dir.write(
                "pam.d/\(name)",
                """
                auth     required pam_permit.so
                account  required pam_permit.so
                session  required pam_env.so user_readenv=1
                \(session)

                """)
        }

        /// pamtester in the namespace; `prefix` runs before it (setpriv for an su-like caller).
        func pamtester(_ service: String, _ ops: String = "open_session close_session", prefix: String = "") throws
            -> RunResult
        {
            try ns.sh("\(prefix) /usr/bin/pamtester -v \(service) \(PAMModuleTests.user) \(ops)")
        }

        var marker: String { (try? String(contentsOfFile: dir.file("marker"), encoding: .utf8)) ?? "" }
        /// The syslog lines of the module (`pam_pus_mount(...)`) and of pus-mount (`pus-mount[pid]`); libpam and
        /// pam_env log in the same stream. Everything sent before is in: a sentinel goes through the same
        /// datagram socket after it (delivered in order), and the lines are read once the sentinel arrived.
        var syslog: [String] {
            let token = "pus-sync-\(UInt64.random(in: 1...UInt64.max))"
            _ = try? ns.sh("logger -u /dev/log -t pus-sync \(token)")
            var text = ""
            for _ in 0..<1000 {
                text = (try? String(contentsOfFile: dir.file("syslog"), encoding: .utf8)) ?? ""
                if text.contains(token) { break }
                usleep(10_000)
            }
            return text.split(separator: "\n").map(String.init).filter {
                $0.contains("pam_pus_mount(") || $0.contains(" pus-mount[")
            }
        }
        func audit() throws -> [[String: Any]] {
            let text = (try? String(contentsOfFile: dir.file("audit.jsonl"), encoding: .utf8)) ?? ""
            return try text.split(separator: "\n").map {
                try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
        var mountpoint: String { dir.file("mnt/\(PAMModuleTests.user)") }

        deinit {
            if let pid = try? String(contentsOfFile: dir.file("listener.pid"), encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines),
                let p = Int32(pid)
            {
                kill(p, SIGKILL)
            }
        }
    }

    /// The planted PATH and LD_PRELOAD reach what pam_exec runs (the control), and never anything the
    /// module runs: pamtester opens and closes a session, pus-mount attaches and detaches, nothing planted ran.
    @Test(.enabled(if: ready)) func aPlantedPathAndLDPreloadNeverRunAsRoot() throws {
        let b = try Bench()
        b.service("pustest", "session  optional \(b.module) config=\(b.cfg.path)")
        let r = try b.pamtester("pustest")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(b.marker.isEmpty, "something planted ran: \(b.marker)")
        let lines = try b.audit()
        #expect(lines.map { $0["command"] as? String } == ["attach", "detach"], "\(lines)")
        #expect(lines.allSatisfy { $0["outcome"] as? String == "ok" && $0["uid"] as? Int == 0 })
        #expect(lines.first?["mounted_now"] as? Bool == true && lines.last?["unmounted"] as? Bool == true, "\(lines)")
        #expect((lines.first?["pam"] as? [String: Any])?["service"] as? String == "pustest")
        #expect((lines.first?["session"] as? String)?.hasPrefix("pam-pustest-") == true, "\(lines)")
        #expect(lines.last?["remaining_leases"] as? Int == 0, "close dropped the lease open made: \(lines)")
        #expect(b.ns.mounts(at: b.mountpoint).isEmpty)

        // The control: pam_exec hands the same PAM environment to its child, and the plant runs as root.
        b.service("control", "session  optional pam_exec.so /bin/true")
        #expect(try b.pamtester("control", "open_session").status == 0)
        #expect(b.marker.contains("LD_PRELOAD ran with euid 0"), "the control must show the plant is live: \(b.marker)")
    }

    /// An su-like caller (real uid the user's, effective uid 0): pus-mount still runs with real uid 0, so it is
    /// not in secure-execution mode and its own root check passes; nothing planted runs.
    @Test(.enabled(if: ready)) func anSuLikeCallerAttachesAsRoot() throws {
        let b = try Bench()
        b.service("pustest", "session  optional \(b.module) config=\(b.cfg.path)")
        let r = try b.pamtester("pustest", prefix: "/usr/bin/setpriv --ruid=\(Self.uid) --")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try b.audit()
        #expect(lines.map { $0["command"] as? String } == ["attach", "detach"], "\(lines) \(b.syslog)")
        #expect(
            lines.allSatisfy { $0["outcome"] as? String == "ok" && $0["uid"] as? Int == 0 },
            "real uid 0 in pus-mount: \(lines)")
        #expect(b.marker.isEmpty, "\(b.marker)")
    }

    /// What the module hands the program it runs: argv as documented, PATH alone in the environment, stdin
    /// /dev/null, no descriptor beyond 0-2, uid and gid 0 with no supplementary groups, no blocked or ignored
    /// signal; the same session id at close as at open, and the session's pid.
    @Test(.enabled(if: ready)) func theProgramGetsAFixedEnvironmentAndNothingElse() throws {
        let dir = TempDir("pus-pam-probe")
        let probe = dir.file("probe")
        let cc = try Run.run(
            "/usr/bin/cc",
            ["-O1", "-DPROBE_OUT=\"\(dir.file("probe.out"))\"", "-o", probe, "\(Self.repo)/Tests/PAM/probe.c"])
        #expect(cc.status == 0, "\(cc.stderr)")
        let b = try Bench(binary: probe)
        // su-like and with a descriptor and a blocked, ignored signal of the caller's own.
        b.service("pustest", "session  optional \(b.module) config=/etc/pus-test.toml")
        let r = try b.ns.sh(
            """
            exec 7</etc/hostname
            trap '' USR1
            /usr/bin/setpriv --ruid=\(Self.uid) --rgid=100 --groups=100 -- /usr/bin/pamtester -v pustest \(Self.user) open_session close_session
            """)
        #expect(r.status == 0, "\(r.stderr)")
        let out = try String(contentsOfFile: dir.file("probe.out"), encoding: .utf8)
        let args = out.split(separator: "\n").filter { $0.hasPrefix("ARGS ") }
        #expect(args.count == 2, "\(out)")
        let open = String(args.first ?? "").split(separator: " ").map(String.init)
        let close = String(args.last ?? "").split(separator: " ").map(String.init)
        #expect(
            open.count > 2 && open[1] == "--if-configured" && open[2] == "--config=/etc/pus-test.toml"
                && open[3] == "attach", "\(open)")
        #expect(open.suffix(2) == ["--", Self.user], "the user after --: \(open)")
        #expect(open.contains("--pam-service=pustest"))
        let sessionArg = try #require(open.first { $0.hasPrefix("--session=pam-pustest-") })
        let pidArg = try #require(open.first { $0.hasPrefix("--pid=") })
        #expect(sessionArg == "--session=pam-pustest-" + pidArg.dropFirst(6), "the session id names the session's pid")
        #expect(
            close[3] == "detach" && close.contains(sessionArg) && !close.contains { $0.hasPrefix("--pid") }, "\(close)")
        let env = out.split(separator: "\n").filter { $0.hasPrefix("ENV ") }
        #expect(
            env == ["ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin", "ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin"],
            "only PATH, at open and at close: \(env)")
        #expect(!out.contains("LD_PRELOAD"))
        #expect(out.contains("STDIN /dev/null"))
        for line in out.split(separator: "\n") where line.hasPrefix("FDS ") {
            #expect(line == "FDS 0 1 2", "only stdin, stdout and stderr: \(line)")
        }
        for line in out.split(separator: "\n") where line.hasPrefix("Uid:") || line.hasPrefix("Gid:") {
            #expect(
                line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().allSatisfy { $0 == "0" }, "\(line)")
        }
        for line in out.split(separator: "\n") where line.hasPrefix("Groups:") {
            #expect(line.trimmingCharacters(in: .whitespaces) == "Groups:", "no supplementary groups: \(line)")
        }
        for line in out.split(separator: "\n") where line.hasPrefix("SigBlk:") || line.hasPrefix("SigIgn:") {
            #expect(line.hasSuffix("0000000000000000"), "\(line)")
        }
        #expect(b.marker.isEmpty, "\(b.marker)")
    }

    /// No configuration file: the session opens (exit 0), nothing is mounted, one syslog line says why.
    @Test(.enabled(if: ready)) func notConfiguredMountsNothingAndSaysSoOnce() throws {
        let b = try Bench()
        let missing = b.dir.file("absent/pus-mount.toml")
        b.service("pustest", "session  optional \(b.module) config=\(missing)")
        let r = try b.pamtester("pustest", "open_session")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: b.mountpoint) && b.ns.mounts(at: b.mountpoint).isEmpty)
        #expect(!FileManager.default.fileExists(atPath: b.dir.file("state/ledger.json")), "no ledger written")
        let lines = b.syslog
        #expect(
            lines.count == 1 && lines[0].contains("pus-mount is not configured: \(missing) is missing"), "\(b.syslog)")
        #expect(lines.first?.hasPrefix("<85>") == true, "authpriv.notice (10 << 3 | 5): \(lines)")
    }

    /// Every bad module argument, and a missing binary: one syslog line, nothing run, the login goes on under
    /// "optional"; a user pus-mount does not serve (67) is an info line and never fails a session; a real
    /// failure is one error line with the exit status, and "required" then refuses the session.
    @Test(.enabled(if: ready)) func badArgumentsAndFailuresAreOneLineAndTheLoginGoesOn() throws {
        let b = try Bench()
        let cases = [
            "timout=5": "unknown module argument \"timout=5\"",
            "config=relative.toml": "config= takes an absolute path",
            "timeout=0": "timeout= takes whole seconds", "timeout=9x": "timeout= takes whole seconds",
        ]
        for (arg, said) in cases.sorted(by: { $0.key < $1.key }) {
            let before = b.syslog.count
            b.service("pustest", "session  optional \(b.module) \(arg)")
            let r = try b.pamtester("pustest", "open_session")
            #expect(r.status == 0, "\(arg): \(r.stderr)")
            let new = Array(b.syslog.dropFirst(before))
            #expect(new.count == 1 && new[0].contains(said) && new[0].contains("nothing was run"), "\(arg): \(new)")
        }
        #expect(try b.audit().isEmpty, "pus-mount never ran")

        // A user pus-mount does not serve (uid below min_uid: exit 67) is no failure: one info line, and even
        // "required" lets the session go on (root's logins must never depend on storage).
        var before = b.syslog.count
        b.service("pustest", "session  required \(b.module) config=\(b.cfg.path)")
        let low = try b.ns.sh("/usr/bin/pamtester pustest \(TestUsers.lowUID) open_session")
        #expect(low.status == 0, "required, but not a user pus-mount serves: \(low.stderr)")
        var new = Array(b.syslog.dropFirst(before))
        #expect(
            new.count == 1 && new[0].hasPrefix("<86>")
                && new[0].contains("attach \(TestUsers.lowUID): no storage for this user (pus-mount exit status 67"),
            "authpriv.info: \(new)")
        // A real failure (the configuration does not parse: 78) is one error line; "optional" goes on,
        // "required" refuses the session.
        let broken = b.dir.write("broken.toml", "backend = \n", mode: 0o644)
        before = b.syslog.count
        b.service("pustest", "session  optional \(b.module) config=\(broken)")
        #expect(try b.pamtester("pustest", "open_session").status == 0, "optional: the login goes on")
        new = Array(b.syslog.dropFirst(before))
        #expect(
            new.count == 1 && new[0].hasPrefix("<83>") && new[0].contains("attach \(Self.user) (session pam-pustest-")
                && new[0].contains("failed with exit status 78: pus-mount: error: \(broken): line 1"), "\(new)")
        b.service("pustest", "session  required \(b.module) config=\(broken)")
        #expect(try b.pamtester("pustest", "open_session").status != 0, "required: the session is refused")

        let gone = try Bench(binary: "/nonexistent/pus-mount")
        gone.service("pustest", "session  optional \(gone.module)")
        #expect(try gone.pamtester("pustest", "open_session").status == 0)
        let lines = gone.syslog
        #expect(
            lines.count == 1 && lines[0].contains("cannot run /nonexistent/pus-mount: No such file or directory"),
            "\(lines)")
    }

    /// A pus-mount that never answers is stopped at the module's deadline (its whole process group), the
    /// session goes on, and one line says so.
    @Test(.enabled(if: ready)) func aHungProgramIsStoppedAtTheDeadline() throws {
        let dir = TempDir("pus-pam-hang")
        let hang = dir.write(
            "hang", "#!/bin/sh\necho $$ > \(dir.file("pid"))\nsleep 600 &\necho $! > \(dir.file("child"))\nwait\n",
            mode: 0o755)
        let b = try Bench(binary: hang)
        b.service("pustest", "session  optional \(b.module) timeout=1")
        let r = try b.pamtester("pustest", "open_session")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = b.syslog
        #expect(lines.count == 1 && lines[0].contains("no answer within 1 s"), "\(lines)")
        for f in ["pid", "child"] {
            let pid = try String(contentsOfFile: dir.file(f), encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
            var gone = false
            for _ in 0..<200 {
                let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
                if stat.isEmpty || stat.contains(") Z ") {
                    gone = true
                    break
                }
                usleep(10_000)
            }
            #expect(gone, "\(f) \(pid) was killed with its group")
        }
    }

    /// Two PAM sessions of one user, each its own session process (as sshd makes one per connection) through
    /// the module: the mount stays until both have closed; a session killed without a close leaves a lease
    /// that reconcile drops, and the mount goes with it.
    @Test(.enabled(if: ready)) func twoSessionsKeepTheMountUntilBothCloseAndAKilledOneIsReconciled() throws {
        let b = try Bench()
        let driver = b.dir.file("pam-session")
        let cc = try Run.run("/usr/bin/cc", ["-o", driver, "\(Self.repo)/Tests/PAM/session.c", "-lpam"])
        #expect(cc.status == 0, "\(cc.stderr)")
        b.service("pustest", "session  optional \(b.module) config=\(b.cfg.path)")
        let t = b.dir.path
        let mp = b.mountpoint
        let p = "\(Binaries.pusMount) --config \(b.cfg.path)"
        let r = try b.ns.sh(
            """
            mkfifo \(t)/one.in \(t)/two.in
            \(driver) pustest \(Self.user) < \(t)/one.in > \(t)/one.out 2>&1 & one=$!
            \(driver) pustest \(Self.user) < \(t)/two.in > \(t)/two.out 2>&1 & two=$!
            exec 3>\(t)/one.in 4>\(t)/two.in
            for i in $(seq 400); do grep -q open \(t)/one.out \(t)/two.out 2>/dev/null && [ "$(cat \(t)/one.out \(t)/two.out | grep -c open)" = 2 ] && break; sleep 0.05; done
            \(p) --json status \(Self.user) > \(t)/status1
            echo close >&3; exec 3>&-; wait $one
            grep -q ' \(mp) ' /proc/self/mountinfo && echo still-mounted-after-one-close
            kill -9 $two; wait $two 2>/dev/null
            grep -q ' \(mp) ' /proc/self/mountinfo && echo still-mounted-after-kill
            \(p) reconcile
            grep -q ' \(mp) ' /proc/self/mountinfo || echo unmounted-by-reconcile
            cat \(t)/one.out \(t)/two.out
            """)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("open 0\nclose 0"), "\(r.stdout)")
        let doc = try #require(
            JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: b.dir.file("status1"))))
                as? [String: Any])
        let leases = try #require(
            ((doc["users"] as? [[String: Any]])?.first?["ledger"] as? [String: Any])?["leases"] as? [[String: Any]],
            "\(doc)")
        #expect(leases.count == 2, "two logins, two leases")
        #expect(Set(leases.compactMap { $0["session"] as? String }).count == 2)
        #expect(leases.allSatisfy { ($0["session"] as? String)?.hasPrefix("pam-pustest-") == true && $0["pid"] is Int })
        #expect(r.stdout.contains("still-mounted-after-one-close"))
        #expect(r.stdout.contains("still-mounted-after-kill"))
        #expect(r.stdout.contains("dead_lease"))
        #expect(r.stdout.contains("unmounted-by-reconcile"))
        #expect(b.marker.isEmpty, "\(b.marker)")
    }
}
