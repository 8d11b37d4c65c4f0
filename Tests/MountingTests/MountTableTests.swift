import Foundation
import TestSupport
import Mounting
import Testing

@Suite struct MountTableTests {
    let entries: [MountEntry]

    init() throws {
        let url = try #require(Bundle.module.url(forResource: "mountinfo", withExtension: "txt", subdirectory: "Fixtures"))
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

    @Test func missingFileIsAnError() {
        #expect(throws: (any Error).self) { try MountTable.read(path: "/nonexistent/mountinfo") }
    }
}

@Suite struct CIFSOptionsTests {
    static let cases: [(String, [String], String?)] = [
        ("3.0", ["serverino", "nosuid", "nodev"], "vers=3.0,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700,serverino,nosuid,nodev"),
        ("3.1.1", ["actimeo=30"], "vers=3.1.1,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700,actimeo=30"),
        ("3.0", [], "vers=3.0,sec=ntlmssp,credentials=/etc/c/s.cred,uid=1001,gid=100,file_mode=0600,dir_mode=0700"),
        ("3.0,uid=0", [], nil),
        ("3.0", ["actimeo=30,uid=0"], nil),
        ("3.0", ["x=a=b"], nil),
        ("3.0", ["password=hunter2"], nil),
        ("3.0", ["credentials=/tmp/x"], nil),
        ("3.0", ["uid=0"], nil),
        ("3.0", [""], nil),
        ("3.0", ["a b"], nil),
        ("", [], nil),
    ]

    @Test(arguments: cases)
    func optionString(_ c: (String, [String], String?)) {
        let built = try? CIFSOptions.build(vers: c.0, credentialsPath: "/etc/c/s.cred", uid: 1001, gid: 100, fileMode: "0600",
                                           dirMode: "0700", extra: c.1)
        #expect(built == c.2)
    }

    @Test func credentialsPathWithACommaIsRefused() {
        #expect(throws: CIFSOptions.Invalid.self) {
            try CIFSOptions.build(vers: "3.0", credentialsPath: "/etc/c,uid=0/s.cred", uid: 1, gid: 1, fileMode: "0600", dirMode: "0700", extra: [])
        }
    }
}

@Suite struct MountErrorTests {
    @Test(arguments: [(13, "key"), (2, "share"), (112, "host"), (115, "445")])
    func hintsNameTheFix(_ c: (Int32, String)) {
        let e = MountError(operation: "mount", target: "/mnt/pus/a", exitCode: 32, syscallErrno: nil, helperStatus: 32,
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

    static let cases: [(Int32, Health)] = [(0, .ok), (107, .stale), (116, .stale), (5, .stale), (112, .stale), (13, .auth), (2, .missing), (22, .error)]

    @Test(arguments: HealthProbeTests.cases)
    func exitStatusesAreClassified(_ c: (Int32, Health)) throws {
        let (dir, p) = try script("exit \(c.0)")
        #expect(HealthProbe(executable: p, deadline: 5).check("/") == c.1)
        _ = dir
    }
}
