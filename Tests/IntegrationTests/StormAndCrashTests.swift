import Foundation
import TestSupport
import Testing

/// Many processes at once, and processes killed at random moments, on real bind mounts.
@Suite(.serialized) struct StormAndCrashTests {
    struct LedgerFile: Decodable {
        struct Entry: Decodable {
            struct Lease: Decodable { let session: String }
            let leases: [Lease]
            let mounted: Bool
            let mountpoint: String
        }
        let version: Int
        let entries: [String: Entry]
    }

    func readLedger(_ path: String) throws -> LedgerFile? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(LedgerFile.self, from: d)
    }

    /// 200 concurrent processes over 50 users: 100 attach-then-detach (2 per user), 100 attach-only
    /// (4 each for the first 25 users). Expected: leases = attaches - detaches = 100, all on users 1-25,
    /// and the mount table holds exactly those 25 users.
    @Test func stormOf200ProcessesKeepsLeasesAndMountsExact() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        var script = "pids=''\nfail=0\n"
        for i in 0..<200 {
            let p = "\(Binaries.pusMount) --config \(cfg.path)"
            if i < 100 {
                let u = TestUsers.name(i % 50 + 1)
                script +=
                    "( \(p) attach \(u) --session cyc\(i) >/dev/null && \(p) detach \(u) --session cyc\(i) >/dev/null || echo FAIL \(i) ) &\n"
            } else {
                let u = TestUsers.name(i % 25 + 1)
                script += "( \(p) attach \(u) --session keep\(i) >/dev/null || echo FAIL \(i) ) &\n"
            }
        }
        script += "wait\n"
        let t0 = Date()
        let r = try ns.sh(script)
        let wall = Date().timeIntervalSince(t0)
        #expect(!r.stdout.contains("FAIL"), "\(r.stdout)")
        let ledger = try #require(try readLedger(dir.file("state/ledger.json")))
        let total = ledger.entries.values.reduce(0) { $0 + $1.leases.count }
        #expect(total == 100, "leases = 200 attaches - 100 detaches")
        for i in 1...50 {
            let e = ledger.entries[TestUsers.name(i)]
            #expect(e?.leases.count == (i <= 25 ? 4 : 0), "\(TestUsers.name(i))")
            #expect(e?.mounted == (i <= 25))
        }
        let mounted = ns.mountpoints(under: dir.file("mnt"))
        #expect(mounted == (1...25).map { dir.file("mnt/\(TestUsers.name($0))") }.sorted())
        #expect(Set(mounted).count == mounted.count, "no stacked mounts")
        print("storm: 200 processes, 300 pus-mount runs in \(String(format: "%.2f", wall)) s")
    }

    /// SIGKILL attach and detach at 100 random moments; after each kill the ledger parses and a following
    /// attach + detach converge (one mount while attached, none after, no leases left).
    @Test func sigkillAtRandomMomentsNeverBreaksTheLedger() throws {
        let dir = TempDir()
        let cfg = TestConfig(dir: dir, emulator: nil, backend: "local")
        let ns = try MountNamespace()
        let ledgerPath = dir.file("state/ledger.json")
        var rng = SystemRandomNumberGenerator()
        var killedMidway = 0
        for i in 0..<100 {
            let u = TestUsers.name(i % 5 + 31)
            let mp = dir.file("mnt/\(u)")
            let verb = Bool.random(using: &rng) ? "attach" : "detach"
            let delayUs = Int.random(in: 0...40_000, using: &rng)
            // Start the victim inside the namespace, kill it after a random delay (it may already be done).
            let k = try ns.sh(
                """
                \(Binaries.pusMount) --config \(cfg.path) \(verb) \(u) --session v\(i) >/dev/null 2>&1 &
                victim=$!
                usleep() { sleep "$(printf '0.%06d' "$1")"; }
                usleep \(delayUs)
                if kill -9 $victim 2>/dev/null; then echo killed; fi
                wait $victim 2>/dev/null
                true
                """)
            if k.stdout.contains("killed") { killedMidway += 1 }
            if FileManager.default.fileExists(atPath: ledgerPath) {
                #expect(throws: Never.self, "ledger must parse after kill \(i)") { _ = try readLedger(ledgerPath) }
            }
            let a = try ns.run(Binaries.pusMount, ["--config", cfg.path, "attach", u, "--session", "check"])
            #expect(a.status == 0, "attach after kill \(i): \(a.stderr)")
            #expect(ns.mounts(at: mp).count == 1, "exactly one mount after attach (kill \(i))")
            let lease = try readLedger(ledgerPath)?.entries[u]?.leases.contains { $0.session == "check" }
            #expect(lease == true, "no lost lease (kill \(i))")
            let d = try ns.run(Binaries.pusMount, ["--config", cfg.path, "detach", u, "--all"])
            #expect(d.status == 0, "detach after kill \(i): \(d.stderr)")
            #expect(ns.mounts(at: mp).isEmpty, "no orphan mount (kill \(i))")
            #expect(try readLedger(ledgerPath)?.entries[u]?.leases.isEmpty == true)
        }
        #expect(ns.mountpoints(under: dir.file("mnt")).isEmpty)
        let leftovers = ((try? FileManager.default.contentsOfDirectory(atPath: dir.file("state"))) ?? []).filter {
            $0.contains(".tmp.")
        }
        #expect(leftovers.isEmpty, "temp files of killed writers are swept: \(leftovers)")
        print("crash: \(killedMidway) of 100 victims were killed before they finished")
        #expect(killedMidway >= 20, "the kills must land mid-run often enough to mean something")
    }
}
