import Foundation
import TestSupport
import Testing

/// The azure backend through libmount's fake mode against the emulator: mount.cifs really runs (with -f:
/// it resolves the host, reads the credentials file and enters the target, then mounts nothing), behind a
/// wrapper bind-mounted over /sbin/mount.cifs inside the test's namespace that records its argv and env.
@Suite(.serialized) struct AzureFakeMountTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/sbin/mount.cifs")))
    func cifsSourceTypeAndOptionsAreExactAndNoArgvHoldsTheKey() throws {
        let dir = TempDir()
        // A key of its own, so no other test's processes can match it.
        let emu = try EmulatorProcess(
            dir: dir, key: Data((0..<64).map { _ in UInt8.random(in: 0...255) }).base64EncodedString())
        let cfg = TestConfig(dir: dir, emulator: emu)
        let ns = try MountNamespace()
        let user = TestUsers.name(21)
        let share = "pus-\(user)-" + String(try Run.sh("printf %s \(user) | sha256sum").stdout.prefix(8))
        let argvLog = dir.file("helper-argv.log")
        // The wrapper: log argv and environment, then run the real helper.
        #expect(try ns.sh("cp /sbin/mount.cifs \(dir.file("real-mount.cifs"))").status == 0)
        dir.write(
            "wrapper.sh",
            """
            #!/bin/sh
            printf '%s\\n' "ARGV $*" >> \(argvLog)
            env | sed 's/^/ENV /' >> \(argvLog)
            ls -l /proc/$$/fd | sed -n 's/.* \\([0-9][0-9]*\\) -> \\(.*\\)$/FD \\1 \\2/p' >> \(argvLog)
            exec \(dir.file("real-mount.cifs")) "$@"
            """, mode: 0o755)
        #expect(try ns.sh("mount --bind \(dir.file("wrapper.sh")) /sbin/mount.cifs").status == 0)

        // Sample every process's argv while attach runs.
        let sampler = Sampler(key: emu.key)
        sampler.start()
        let r = try ns.run(
            Binaries.pusMount, ["--config", cfg.path, "--verbose", "--json", "attach", user, "--fake-mount"])
        sampler.stop()
        #expect(r.status == 0, "\(r.stderr)")
        let mp = dir.file("mnt/\(user)")
        let log = try String(contentsOfFile: argvLog, encoding: .utf8)
        let cred = dir.file("creds/\(share).cred")
        let expected =
            "vers=3.0,sec=ntlmssp,credentials=\(cred),uid=42021,gid=100,file_mode=0600,dir_mode=0700,serverino,nosharesock,actimeo=30,mfsymlinks,nosuid,nodev"
        // The option string pus-mount hands to libmount is exactly SPEC.md's.
        let out = try #require(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let mount = try #require((out["plan"] as? [String: Any])?["mount"] as? [String: String])
        #expect(mount["source"] == "//127.0.0.1/\(share)")
        #expect(mount["fstype"] == "cifs")
        #expect(mount["target"] == mp)
        #expect(mount["options"] == expected)
        // libmount runs the helper with its VFS flags first (rw,nosuid,nodev) and the cifs options after, in order.
        let argv = try #require(log.split(separator: "\n").first { $0.hasPrefix("ARGV ") })
        let libmountForm = "rw,nosuid,nodev," + expected.replacingOccurrences(of: ",nosuid,nodev", with: "")
        #expect(argv == "ARGV //127.0.0.1/\(share) \(mp) -f -n -o \(libmountForm)", "helper argv: \(argv)")
        #expect(!log.contains(emu.key), "the key must not be in the helper's argv or environment")
        // The helper gets a minimal environment and no descriptor but 0-2 and the user's lock (held while it
        // mounts): no REST socket, no stderr capture file, no saved stderr.
        let env = log.split(separator: "\n").filter { $0.hasPrefix("ENV ") }.map {
            String($0.dropFirst(4).prefix { $0 != "=" })
        }
        #expect(Set(env).isSubset(of: ["PATH", "LC_ALL", "PWD", "SHLVL", "_", "OLDPWD"]), "helper environment: \(env)")
        let fds = log.split(separator: "\n").filter { $0.hasPrefix("FD ") }.map {
            $0.split(separator: " ", maxSplits: 2).map(String.init)
        }
        for fd in fds where fd.count == 3 && Int(fd[1])! > 2 {
            // (The shell reading this wrapper holds it open too: it shows as the helper's own path.)
            #expect(
                fd[2].hasSuffix("/state/locks/\(user).lock") || fd[2].hasSuffix("mount.cifs"),
                "helper inherited fd \(fd[1]) -> \(fd[2])")
        }
        #expect(
            fds.contains { $0.count == 3 && $0[2].hasSuffix("/state/locks/\(user).lock") },
            "the lock is held by whatever mounts")
        #expect(sampler.sampled > 0)
        #expect(sampler.leaks.isEmpty, "key seen in /proc/*/cmdline of: \(sampler.leaks)")
        #expect(!r.stdout.contains(emu.key) && !r.stderr.contains(emu.key))

        // Credentials: root:root 0600 in a root:root 0700 directory, key inside, nowhere else.
        let st = try Run.sh("stat -c '%u:%g:%a' \(dir.file("creds")) \(cred)").stdout
        #expect(st == "0:0:700\n0:0:600\n")
        let credText = try String(contentsOfFile: cred, encoding: .utf8)
        #expect(credText == "username=\(emu.account)\npassword=\(emu.key)\n")
        let ledger = try String(contentsOfFile: dir.file("state/ledger.json"), encoding: .utf8)
        #expect(!ledger.contains(emu.key))
        #expect(ledger.contains("\"source\" : \"//127.0.0.1/\(share)\""))
        let audit = try String(contentsOfFile: dir.file("audit.jsonl"), encoding: .utf8)
        #expect(audit.contains("\"command\":\"attach\"") && audit.contains("\"user\":\"\(user)\""))
        #expect(!audit.contains(emu.key))
        let status = try ns.run(Binaries.pusMount, ["--config", cfg.path, "--json", "status"])
        #expect(!status.stdout.contains(emu.key))
        // Attach provisioned the share through the emulator.
        #expect(emu.requestLog.contains { $0.hasPrefix("PUT /\(emu.account)/\(share)?restype=share -> 201") })

        // Detach removes the credentials file (no mount uses it any more) and the lease.
        let d = try ns.run(Binaries.pusMount, ["--config", cfg.path, "detach", user, "--fake-mount"])
        #expect(d.status == 0, "\(d.stderr)")
        #expect(!FileManager.default.fileExists(atPath: cred))
    }

    @Test func aPlantedSymlinkAtTheCredentialsPathIsRefused() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let ns = try MountNamespace()
        let user = TestUsers.name(22)
        let share = "pus-\(user)-" + String(try Run.sh("printf %s \(user) | sha256sum").stdout.prefix(8))
        try FileManager.default.createDirectory(atPath: dir.file("creds"), withIntermediateDirectories: true)
        chmod(dir.file("creds"), 0o700)
        let bait = dir.write("bait", "")
        try FileManager.default.createSymbolicLink(atPath: dir.file("creds/\(share).cred"), withDestinationPath: bait)
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"])
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.contains("not a regular file"))
        #expect(try String(contentsOfFile: bait, encoding: .utf8).isEmpty, "nothing was written through the link")
        #expect(!FileManager.default.fileExists(atPath: dir.file("mnt/\(user)")), "no mountpoint left behind")
        #expect(!FileManager.default.fileExists(atPath: dir.file("state/ledger.json")), "no lease")
    }
}

extension AzureFakeMountTests {
    /// libmount returns success when the helper ran, even when it failed: a mount.cifs that exits 32 must give
    /// exit 73 with its message, and no lease, credentials file or mountpoint.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/sbin/mount.cifs")))
    func aFailingHelperIsAFailedMount() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let ns = try MountNamespace()
        let user = TestUsers.name(23)
        dir.write("failing.sh", "#!/bin/sh\necho 'mount error(13): Permission denied' >&2\nexit 32\n", mode: 0o755)
        #expect(try ns.sh("mount --bind \(dir.file("failing.sh")) /sbin/mount.cifs").status == 0)
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", user, "--fake-mount"])
        #expect(r.status == 73, "\(r.status) \(r.stderr)")
        #expect(r.stderr.contains("error 13"))
        let ledger = (try? String(contentsOfFile: dir.file("state/ledger.json"), encoding: .utf8)) ?? ""
        #expect(!ledger.contains("\"session\""), "no lease")
        #expect(
            ((try? FileManager.default.contentsOfDirectory(atPath: dir.file("creds"))) ?? []).isEmpty,
            "no credentials file")
        #expect(!FileManager.default.fileExists(atPath: dir.file("mnt/\(user)")), "no mountpoint")
    }

    /// The audit log, like the ledger and the locks, is never written through a symlink planted at its path.
    @Test func theAuditLogIsNotAppendedThroughASymlink() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let victim = dir.write("victim", "untouched\n", mode: 0o644)
        #expect(symlink(victim, dir.file("audit.jsonl")) == 0)
        let r = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", TestUsers.name(24)])
        #expect(r.status == 0, "the attach itself succeeds: \(r.stderr)")
        #expect(r.stderr.contains("could not append to the audit log"))
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "untouched\n")
    }
}

/// Samples /proc/*/cmdline on a background thread and records any process whose argv holds `key`.
final class Sampler: @unchecked Sendable {
    let key: String
    private let lock = NSLock()
    private var running = true
    private var thread: Thread?
    private(set) var sampled = 0
    private(set) var leaks: [String] = []

    init(key: String) { self.key = key }

    func start() {
        let t = Thread { [self] in
            while lock.withLock({ running }) {
                for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
                    guard let d = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { continue }
                    let argv = String(decoding: d.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
                    lock.withLock {
                        sampled += 1
                        if argv.contains(key) { leaks.append(argv) }
                    }
                }
            }
        }
        thread = t
        t.start()
    }

    func stop() {
        lock.withLock { running = false }
        usleep(50_000)
    }
}
