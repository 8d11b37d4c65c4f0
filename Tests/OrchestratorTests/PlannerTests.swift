import Ledger
import Mounting
import Orchestrator
import SystemSupport
import Testing

@Suite struct PlannerTests {
    let local = MountTarget(backend: .local, account: nil, share: nil, localDirectory: "/srv/pus-mount/alice", credentialsPath: nil,
                            spec: MountSpec(source: "/srv/pus-mount/alice", target: "/mnt/pus/alice", fstype: "none", options: "bind"),
                            optionsDigest: "d1")
    let azure = MountTarget(backend: .azure, account: "acct", share: "pus-alice-1", localDirectory: nil, credentialsPath: "/c/pus-alice-1.cred",
                            spec: MountSpec(source: "//h/pus-alice-1", target: "/mnt/pus/alice", fstype: "cifs", options: "vers=3.0"),
                            optionsDigest: "d2")
    let lease = Ledger.Lease(session: "s", createdAt: 1)

    func entry(_ sessions: [String]) -> Ledger.Entry {
        Ledger.Entry(user: "alice", uid: 1001, gid: 1001, backend: "azure", account: "acct", share: "pus-alice-1", source: "//h/pus-alice-1",
                     mountpoint: "/mnt/pus/alice", optionsDigest: "d2", credentialsPath: "/c/pus-alice-1.cred", mounted: true,
                     leases: sessions.map { Ledger.Lease(session: $0, createdAt: 1) }, now: 1)
    }

    @Test func coldAzureAttachProvisionsWritesCredentialsMountsAndLeases() throws {
        let p = try Planner.attach(target: azure, entry: nil, state: .absent, lease: lease)
        #expect(p.steps == [.provisionShare(account: "acct", share: "pus-alice-1"), .writeCredentials("/c/pus-alice-1.cred"),
                            .prepareMountpoint("/mnt/pus/alice"), .mount(azure.spec), .addLease(lease)])
    }

    @Test func reattachOfAKnownShareSkipsProvisioning() throws {
        let p = try Planner.attach(target: azure, entry: entry([]), state: .absent, lease: lease)
        #expect(p.steps == [.writeCredentials("/c/pus-alice-1.cred"), .prepareMountpoint("/mnt/pus/alice"), .mount(azure.spec), .addLease(lease)])
    }

    @Test func warmAttachOnlyAddsALease() throws {
        let p = try Planner.attach(target: azure, entry: entry(["a"]), state: .ours(.ok), lease: lease)
        #expect(p.steps == [.addLease(lease)])
        #expect(!p.mounts)
    }

    @Test func staleMountIsReplacedNotStacked() throws {
        let p = try Planner.attach(target: local, entry: nil, state: .ours(.stale), lease: lease)
        #expect(p.steps.first == .unmount("/mnt/pus/alice", reason: "mount is stale"))
        #expect(p.steps.filter { if case .mount = $0 { return true } else { return false } }.count == 1)
    }

    @Test func foreignMountIsRefusedWith73() {
        do {
            _ = try Planner.attach(target: local, entry: nil, state: .foreign(source: "tmpfs", fstype: "tmpfs"), lease: lease)
            Issue.record("must refuse")
        } catch let e as PusError {
            #expect(e.kind.exitCode == 73)
        } catch { Issue.record("\(error)") }
    }

    @Test func detachKeepsTheMountWhileLeasesRemain() {
        let p = Planner.detach(entry: entry(["a", "b"]), sessions: ["a"], all: false, state: .ours(.ok), mountpoint: "/mnt/pus/alice", lingerSeconds: 0)
        #expect(p.steps == [.dropLeases(sessions: ["a"])])
    }

    @Test func lastDetachUnmountsAndNeverDeletesData() {
        let p = Planner.detach(entry: entry(["a"]), sessions: ["a"], all: false, state: .ours(.ok), mountpoint: "/mnt/pus/alice", lingerSeconds: 0)
        #expect(p.steps == [.dropLeases(sessions: ["a"]), .unmount("/mnt/pus/alice", reason: "last lease gone"),
                            .removeCredentials("/c/pus-alice-1.cred"), .removeMountpoint("/mnt/pus/alice"), .markUnmounted])
    }

    @Test func lingerLeavesTheMountForReconcile() {
        let p = Planner.detach(entry: entry(["a"]), sessions: ["a"], all: false, state: .ours(.ok), mountpoint: "/mnt/pus/alice", lingerSeconds: 60)
        #expect(p.steps == [.dropLeases(sessions: ["a"])])
    }

    @Test func detachAfterACrashStillUnmounts() {
        // A detach killed after dropping the lease but before unmounting: the next detach finishes the job.
        let p = Planner.detach(entry: entry([]), sessions: ["x"], all: false, state: .ours(.ok), mountpoint: "/mnt/pus/alice", lingerSeconds: 0)
        #expect(p.steps.contains(.unmount("/mnt/pus/alice", reason: "last lease gone")))
    }

    @Test func foreignMountIsNeverUnmountedByDetach() {
        let p = Planner.detach(entry: entry(["a"]), sessions: ["a"], all: false, state: .foreign(source: "x", fstype: "nfs"),
                               mountpoint: "/mnt/pus/alice", lingerSeconds: 0)
        #expect(!p.steps.contains { if case .unmount = $0 { return true } else { return false } })
    }
}

@Suite struct UserPolicyTests {
    @Test(arguments: ["a,uid=0", "../x", "x/y", "-x", "a\nb", String(repeating: "a", count: 300), "ünïcode", "a=b", " a", ".a", "", "a b", "a\u{7f}"])
    func hostileNamesHaveAProblem(_ name: String) {
        #expect(UserPolicy.problem(with: name) != nil)
    }

    @Test(arguments: ["alice", "john.doe", "john_doe", "a-b", "user@realm", "svc$"])
    func plainNamesPass(_ name: String) {
        #expect(UserPolicy.problem(with: name) == nil)
    }

    @Test func policyOrderAndCodes() throws {
        var c = Config()
        c.minUID = 1000
        c.denyUsers = ["blocked"]
        let db: (String) -> PasswdEntry? = { n in
            ["alice": PasswdEntry(name: "alice", uid: 1001, gid: 100, home: "/"), "blocked": PasswdEntry(name: "blocked", uid: 2000, gid: 100, home: "/"),
             "daemon": PasswdEntry(name: "daemon", uid: 2, gid: 2, home: "/")][n]
        }
        #expect(try UserPolicy.resolve("alice", config: c, lookup: db) == ResolvedUser(name: "alice", uid: 1001, gid: 100))
        for (name, code) in [("ghost", Int32(67)), ("blocked", 67), ("daemon", 67), ("a,b", 65)] {
            do {
                _ = try UserPolicy.resolve(name, config: c, lookup: db)
                Issue.record("\(name) must be refused")
            } catch let e as PusError {
                #expect(e.kind.exitCode == code, "\(name)")
            }
        }
    }
}
