import Foundation
import Mounting
import TestSupport
import Testing

@Suite struct MountTableTests {
    let entries: [MountEntry]

    init() throws {
        let url = try #require(
            Bundle.module.url(forResource: "mountinfo", withExtension: "txt", subdirectory: "Fixtures"))
        entries = try MountTable.read(path: url.path)
    }

    @Test func parsesCifsEntryWithItsOptions() throws {
        let alice = try #require(MountTable.mount(at: "/mnt/pus/alice", in: entries))
        #expect(alice.fstype == "cifs")
        #expect(alice.source == "//acct.file.core.windows.net/pus-alice-2bd806c9")
        #expect(alice.fsOption("uid") == "1001")
        #expect(alice.fsOption("vers") == "3.0")
        #expect(alice.vfsOptions.contains("nosuid"))
    }

    @Test func decodesEscapesAndShowsBindRoots() throws {
        #expect(MountTable.mount(at: "/mnt/pus/with space", in: entries) != nil)
        let bob = MountTable.mounts(at: "/mnt/pus/bob", in: entries)
        #expect(bob.count == 2, "a stacked mount is visible as two entries")
        #expect(bob.first?.root == "/srv/pus-mount/bob")
        #expect(MountTable.mount(at: "/mnt/pus/bob", in: entries)?.fstype == "tmpfs", "the topmost wins")
    }

    @Test func childrenAreOneLevelBelowRoot() {
        let names = Set(MountTable.children(of: "/mnt/pus", in: entries).map(\.target))
        #expect(names == ["/mnt/pus/alice", "/mnt/pus/bob", "/mnt/pus/with space"])
        #expect(entries.count == 6, "the malformed line is skipped")
    }

    /// The direct parser against libmount's (the oracle): the fixture, this process's live table, and lines
    /// with every kind of escape, odd optional fields and damage.
    @Test func directParserAgreesWithLibMount() throws {
        let url = try #require(
            Bundle.module.url(forResource: "mountinfo", withExtension: "txt", subdirectory: "Fixtures"))
        #expect(try MountTable.read(path: url.path) == MountTable.readWithLibMount(path: url.path))
        let live = try MountTable.read(path: "/proc/self/mountinfo")
        #expect(!live.isEmpty)
        #expect(live == (try MountTable.readWithLibMount(path: "/proc/self/mountinfo")))
        let dir = TempDir()
        var lines: [String] = []
        var rng = SystemRandomNumberGenerator()
        let names = [
            "plain", "with\\040space", "tab\\011in", "back\\134slash", "nl\\012x", "oct\\101al", "bad\\9escape",
            "trail\\04",
            "ünï", "a,b=c", "x\\",
        ]
        for i in 0..<400 {
            let n1 = names.randomElement(using: &rng)!
            let n2 = names.randomElement(using: &rng)!
            let optional = ["", " shared:\(i)", " master:3 propagate_from:2", " shared:1 unbindable"].randomElement(
                using: &rng)!
            let major = Int.random(in: 0...5000, using: &rng)
            let minor = Int.random(in: 0...3_000_000, using: &rng)
            lines.append(
                "\(i + 10) \(i + 1) \(major):\(minor) /r/\(n1) /m/\(n2)\(i) rw,relatime\(optional) - fs\(i % 3) src/\(n2) opt=\(n1)"
            )
            if i % 37 == 0 { lines.append("garbage without enough fields") }
            if i % 53 == 0 { lines.append("\(i) 1 8:1 / /nodash rw shared:1 ext4 /dev/x rw") }
        }
        let path = dir.write("mountinfo", lines.joined(separator: "\n") + "\n")
        let mine = try MountTable.read(path: path)
        let theirs = try MountTable.readWithLibMount(path: path)
        #expect(mine.count == theirs.count)
        for (a, b) in zip(mine, theirs) { #expect(a == b) }
        // Found by the fuzzer: a device number that overflows. The line is skipped (libmount keeps it with
        // whatever its sscanf made of the number); it used to trap.
        let bad = dir.write(
            "overflow",
            "7 1 99999999999999999999999:1 / /overflow rw - ext4 /dev/x rw\n8 1 4294967296:1 / /toolarge rw - ext4 /dev/x rw\n"
        )
        #expect(try MountTable.read(path: bad).isEmpty)
    }

    @Test func missingFileIsAnError() {
        #expect(throws: (any Error).self) { try MountTable.read(path: "/nonexistent/mountinfo") }
    }
}

@Suite struct CIFSOptionsTests {
    static let cases: [(String, [String], String?)] = [
        (
            "3.0", ["serverino", "nosuid", "nodev"],
            "vers=3.0,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700,serverino,nosuid,nodev"
        ),
        // nosuid and nodev are always there, whatever mount.options says.
        (
            "3.1.1", ["actimeo=30"],
            "vers=3.1.1,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700,actimeo=30,nosuid,nodev"
        ),
        (
            "3.0", [],
            "vers=3.0,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700,nosuid,nodev"
        ),
        (
            "3.0", ["nodev"],
            "vers=3.0,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700,nodev,nosuid"
        ),
        ("3.0,uid=0", [], nil),
        ("3.0", ["actimeo=30,uid=0"], nil),
        ("3.0", ["x=a=b"], nil),
        ("3.0", ["password=hunter2"], nil),
        ("3.0", ["credentials=/tmp/x"], nil),
        ("3.0", ["uid=0"], nil),
        // Reserved whatever the case, and what would weaken the isolation between users.
        ("3.0", ["sec=krb5"], nil), ("3.0", ["SEC=krb5"], nil), ("3.0", ["noperm"], nil), ("3.0", ["multiuser"], nil),
        ("3.0", ["suid"], nil), ("3.0", ["dev"], nil), ("3.0", ["cred=/x"], nil), ("3.0", ["user=x"], nil),
        ("3.0", ["vers=2.0"], nil),
        ("3.0", [""], nil),
        ("3.0", ["a b"], nil),
        ("", [], nil),
    ]

    @Test(arguments: cases)
    func optionString(_ c: (String, [String], String?)) {
        let built = try? CIFSOptions.build(
            vers: c.0, credentialsPath: "/etc/c/s.cred", uid: 1001, gid: 100, fileMode: "0600",
            dirMode: "0700", extra: c.1)
        #expect(built == c.2)
    }

    @Test func credentialsPathWithACommaIsRefused() {
        #expect(throws: CIFSOptions.Invalid.self) {
            try CIFSOptions.build(
                vers: "3.0", credentialsPath: "/etc/c,uid=0/s.cred", uid: 1, gid: 1, fileMode: "0600", dirMode: "0700",
                extra: [])
        }
    }
}

@Suite struct MountErrorTests {
    @Test(arguments: [(13, "key"), (2, "share"), (112, "host"), (115, "445")])
    func hintsNameTheFix(_ c: (Int32, String)) {
        let e = MountError(
            operation: "mount", target: "/mnt/pus/a", exitCode: 32, syscallErrno: nil, helperStatus: 32,
            helperErrno: MountError.parseHelperErrno("mount error(\(c.0)): whatever"), detail: "x")
        #expect(e.helperErrno == c.0)
        #expect(e.hint?.contains(c.1) == true)
    }

    @Test func healthClassification() {
        #expect(HealthProbe.classify(exitStatus: 0) == .ok)
        #expect(HealthProbe.classify(exitStatus: ENOTCONN) == .stale)
        #expect(HealthProbe.classify(exitStatus: ESTALE) == .stale)
        #expect(HealthProbe.classify(exitStatus: EIO) == .stale)
        #expect(HealthProbe.classify(exitStatus: EHOSTDOWN) == .stale)
        #expect(HealthProbe.classify(exitStatus: EACCES) == .auth)
        #expect(HealthProbe.checkInProcess("/tmp") == .ok)
        #expect(HealthProbe.checkInProcess("/nonexistent-pus") == .missing)
    }
}

/// The probe's parent side against stand-in children: the classification of exit statuses and the deadline.
@Suite struct HealthProbeTests {
    func script(_ body: String) throws -> (TempDir, String) {
        let dir = TempDir()
        let p = dir.write("probe.sh", "#!/bin/sh\n\(body)\n", mode: 0o755)
        return (dir, p)
    }

    @Test func aChildThatNeverAnswersIsHungAndTheCallerIsNotHeld() throws {
        let (dir, p) = try script("exec sleep 30")
        let t0 = Date()
        #expect(HealthProbe(executable: p, deadline: 0.3).check("/") == .hung)
        #expect(Date().timeIntervalSince(t0) < 5)
        _ = dir
    }

    /// Many paths, one child: a path whose probe never returns is `hung` at the deadline, and it holds none of
    /// the others (they are reported as they complete).
    @Test func oneHungPathDoesNotHoldTheOthers() throws {
        let (dir, p) = try script(
            """
            i=0
            tr '\\0' '\\n' | while IFS= read -r path; do
              case "$path" in *hang*) ;; *gone*) echo "$i 2" ;; *) echo "$i 0" ;; esac
              i=$((i+1))
            done
            exec sleep 30
            """)
        let t0 = Date()
        let r = HealthProbe(executable: p, deadline: 0.5).checkMany(["/a", "/b-hang", "/c", "/d-gone", "/e"])
        #expect(r == [.ok, .hung, .ok, .missing, .ok])
        #expect(Date().timeIntervalSince(t0) < 5)
        _ = dir
    }

    /// The real child side (`pus-mount __probe-many`): index order kept, every kind of path classified.
    @Test func theProbeChildClassifiesEveryPathInOrder() throws {
        let dir = TempDir()
        let file = dir.write("plain-file", "x")
        let paths = (0..<300).map { i -> String in
            switch i % 3 {
            case 0: return dir.path
            case 1: return dir.file("missing-\(i)")
            default: return file
            }
        }
        let r = HealthProbe(executable: Binaries.pusMount, deadline: 10).checkMany(paths)
        #expect(r.count == 300)
        for (i, h) in r.enumerated() {
            #expect(h == [Health.ok, .missing, .error][i % 3], "path \(i)")
        }
    }

    static let cases: [(Int32, Health)] = [
        (0, .ok), (107, .stale), (116, .stale), (5, .stale), (112, .stale), (13, .auth), (2, .missing), (22, .error),
    ]

    @Test(arguments: HealthProbeTests.cases)
    func exitStatusesAreClassified(_ c: (Int32, Health)) throws {
        let (dir, p) = try script("exit \(c.0)")
        #expect(HealthProbe(executable: p, deadline: 5).check("/") == c.1)
        _ = dir
    }
}
