import Foundation
import Ledger
import SystemSupport
import Testing
import TestSupport

@Suite struct LedgerStoreTests {
    func lease(_ s: String) -> Ledger.Lease { Ledger.Lease(session: s, createdAt: 1_800_000_000) }

    @Test func updateWritesAtomicallyAndKeepsABackup() throws {
        let dir = TempDir()
        let store = LedgerStore(path: dir.file("state/ledger.json"))
        try store.update { l in
            l.entries["alice"] = Ledger.Entry(user: "alice", uid: 1001, gid: 1001, backend: "local", account: nil, share: nil, source: "/srv/a",
                                              mountpoint: "/mnt/pus/alice", optionsDigest: "d", credentialsPath: nil, mounted: true,
                                              leases: [lease("s1")], now: 1)
        }
        let first = try String(contentsOfFile: store.path, encoding: .utf8)
        #expect(first.contains("\"version\" : 1"))
        try store.update { l in l.entries["alice"]?.leases.append(lease("s2")) }
        #expect(try String(contentsOfFile: store.backupPath, encoding: .utf8) == first)
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
        #expect(throws: PusError.self) { try store.update { l in l.entries = [:] } }
        #expect(throws: PusError.self) { try store.read() }
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == garbage)
        #expect(!FileManager.default.fileExists(atPath: store.backupPath))
    }

    @Test func futureVersionIsRefusedUntouched() throws {
        let dir = TempDir()
        let url = try #require(Bundle.module.url(forResource: "ledger-v2", withExtension: "json", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        dir.write("ledger.json", text, mode: 0o600)
        let store = LedgerStore(path: dir.file("ledger.json"))
        do {
            try store.update { _ in }
            Issue.record("a version 2 ledger must be refused")
        } catch let e as PusError {
            #expect(e.message.contains("version 2"))
        }
        #expect(try String(contentsOfFile: store.path, encoding: .utf8) == text)
    }

    @Test func version1FixtureLoads() throws {
        let url = try #require(Bundle.module.url(forResource: "ledger-v1", withExtension: "json", subdirectory: "Fixtures"))
        let l = try LedgerStore(path: url.path).read()
        #expect(l.entries["alice"]?.leases.first?.pid == 4242)
        #expect(l.entries["alice"]?.share == "pus-alice-2bd806c9")
    }
}
