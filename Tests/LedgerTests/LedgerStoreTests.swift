import Foundation
import Ledger
import SystemSupport
import TestSupport
import Testing

@Suite struct LedgerStoreTests {
    func lease(_ s: String) -> Ledger.Lease { Ledger.Lease(session: s, createdAt: 1_800_000_000) }

    @Test func updateWritesAtomicallyAndKeepsABackup() throws {
        let dir = TempDir()
        let store = LedgerStore(path: dir.file("state/ledger.json"))
        try store.update { l in
            l.entries["alice"] = Ledger.Entry(
                user: "alice", uid: 1001, gid: 1001, backend: .local, account: nil, share: nil, source: "/srv/a",
                mountpoint: "/mnt/pus/alice", optionsDigest: "d", credentialsPath: nil, mounted: true,
                leases: [lease("s1")], now: 1)
        }
        let first = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(first.contains("\"version\" : 2"))
        #expect(try String(contentsOfFile: store.backupPath, encoding: .utf8) == first)
        try store.update { l in l.entries["alice"]?.leases.append(lease("s2")) }
        // The backup is a second copy of the newest ledger, on its own inode: a ledger truncated or garbled
        // in place leaves it whole, with both sessions.
        #expect(
            try String(contentsOfFile: store.backupPath, encoding: .utf8)
                == String(contentsOfFile: store.path, encoding: .utf8))
        #expect(try Syscalls.linkStatus(store.backupPath)?.st_ino != Syscalls.linkStatus(store.path)?.st_ino)
        #expect(store.readBackup()?.entries["alice"]?.leases.map(\.session) == ["s1", "s2"])
        #expect(try store.read().entries["alice"]?.leases.map(\.session) == ["s1", "s2"])
        let st = try #require(try Syscalls.linkStatus(store.path))
        #expect(st.st_mode & 0o777 == 0o600)
        // A body that changes nothing writes nothing.
        let before = try Syscalls.linkStatus(store.path)?.st_ino
        try store.update { _ in }
        #expect(try Syscalls.linkStatus(store.path)?.st_ino == before)
    }

    @Test func unparseableLedgerStopsAndIsNeverOverwritten() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.file("s"), withIntermediateDirectories: true)
        let garbage = "{\"version\": 1, \"entries\": {tr"
        dir.write("s/ledger.json", garbage, mode: 0o600)
        let store = LedgerStore(path: dir.file("s/ledger.json"))
        #expect(throws: LedgerError.self) { try store.update { l in l.entries = [:] } }
        #expect(throws: LedgerError.self) { try store.read() }
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == garbage)
        #expect(!FileManager.default.fileExists(atPath: store.backupPath))
    }

    @Test func futureVersionIsRefusedUntouched() throws {
        let dir = TempDir()
        let url = try #require(
            Bundle.module.url(forResource: "ledger-v99", withExtension: "json", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        dir.write("ledger.json", text, mode: 0o600)
        let store = LedgerStore(path: dir.file("ledger.json"))
        do {
            try store.update { _ in }
            Issue.record("a version 99 ledger must be refused")
        } catch let e as LedgerError {
            #expect(e.kind == .futureVersion(99))
            #expect(e.message.contains("version 99"))
        }
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == text)
    }

    @Test func version1FixtureLoadsAndMigratesToVersion2OnTheNextWrite() throws {
        let url = try #require(
            Bundle.module.url(forResource: "ledger-v1", withExtension: "json", subdirectory: "Fixtures"))
        let l = try LedgerStore(path: url.path).read()
        #expect(l.version == 2)
        #expect(l.entries["alice"]?.leases.first?.pid == 4242)
        #expect(l.entries["alice"]?.leases.first?.pidStartTime == 123456)
        #expect(l.entries["alice"]?.leases.first?.bootID == nil, "version 1 leases recorded no boot")
        #expect(l.entries["alice"]?.share == "pus-alice-2bd806c9")
        #expect(l.volumes.isEmpty)
        // A read-only pass writes nothing; the first real change writes version 2 and keeps every v1 field.
        let dir = TempDir()
        let v1 = try String(contentsOf: url, encoding: .utf8)
        dir.write("ledger.json", v1, mode: 0o600)
        let store = LedgerStore(path: dir.file("ledger.json"))
        try store.update { _ in }
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == v1)
        try store.update { $0.entries["alice"]?.leases.append(Ledger.Lease(session: "s2", bootID: "b", createdAt: 5)) }
        let v2 = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(v2.contains("\"version\" : 2"))
        let back = try store.read()
        #expect(back.entries["alice"]?.leases.map(\.session) == ["jupyter-1", "s2"])
        #expect(back.entries["alice"]?.leases.last?.bootID == "b")
        #expect(back.entries["alice"]?.mountpoint == "/mnt/pus/alice")
        #expect(back.entries["alice"]?.source == l.entries["alice"]?.source)
    }

    @Test func malformedEntriesNameTheKey() throws {
        let dir = TempDir()
        dir.write(
            "ledger.json", "{\"version\": 2, \"entries\": {\"bob\": {\"user\": \"bob\", \"uid\": \"x\"}}}", mode: 0o600)
        do {
            _ = try LedgerStore(path: dir.file("ledger.json")).read()
            Issue.record("must fail")
        } catch let e as LedgerError {
            #expect(e.kind == .malformed)
            #expect(e.message.contains("entries.bob.uid"))
        }
    }

    @Test func moveAsideKeepsTheBadFile() throws {
        let dir = TempDir()
        dir.write("ledger.json", "garbage", mode: 0o600)
        let store = LedgerStore(path: dir.file("ledger.json"))
        let moved = try #require(try store.moveAside(now: 1_800_000_000))
        #expect(moved == dir.file("ledger.json.corrupt-1800000000"))
        #expect(try String(contentsOfFile: moved, encoding: .utf8) == "garbage")
        #expect(!FileManager.default.fileExists(atPath: store.path))
        dir.write("ledger.json", "garbage2", mode: 0o600)
        #expect(try store.moveAside(now: 1_800_000_000) == dir.file("ledger.json.corrupt-1800000000.1"))
    }
}
