import Ledger
import Mounting
import SystemSupport

/// Makes surveys: reads the mount table once, judges each ledger record against it, probes the health of
/// every mount that is ours (local bind mounts in-process; network mounts in one child with a deadline, all
/// at once, so one hung server holds nobody), and checks lease liveness. No changes, no locks, no REST.
public final class Inspector {
    let mountTable: any MountTableReader
    let probe: HealthProbe
    let processes: any ProcessInspector
    let sameDirectory: MountIdentity.SameDirectory

    public init(mountTable: any MountTableReader, probe: HealthProbe, processes: any ProcessInspector,
                sameDirectory: @escaping MountIdentity.SameDirectory = MountIdentity.statBoth) {
        self.mountTable = mountTable
        self.probe = probe
        self.processes = processes
        self.sameDirectory = sameDirectory
    }

    /// The live mount table.
    public func table() throws -> [MountEntry] { try mountTable.read() }

    /// What sits at the record's mountpoint (no probe).
    public func presence(of record: MountRecord, in table: [MountEntry]) -> MountPresence {
        MountIdentity.presence(of: record, in: table, sameDirectory: sameDirectory)
    }

    /// Presence plus a health probe of our own mount.
    public func state(of record: MountRecord, in table: [MountEntry]) -> MountState {
        switch presence(of: record, in: table) {
        case .absent: return .absent
        case .foreign(let m): return .foreign(source: Self.shownSource(m), fstype: m.fstype)
        case .ours(let m): return .ours(health(of: [m])[0])
        }
    }

    /// Health of mounts: non-network ones in-process, network ones in one probe child with the deadline.
    public func health(of mounts: [MountEntry]) -> [Health] {
        var out = [Health](repeating: .ok, count: mounts.count)
        var remote: [Int] = []
        for (i, m) in mounts.enumerated() {
            if MountIdentity.isNetwork(m.fstype) { remote.append(i) } else { out[i] = HealthProbe.checkInProcess(m.target) }
        }
        if remote.count == 1 {
            out[remote[0]] = probe.check(mounts[remote[0]].target)
        } else if !remote.isEmpty {
            for (k, h) in probe.checkMany(remote.map { mounts[$0].target }).enumerated() { out[remote[k]] = h }
        }
        return out
    }

    /// Lease liveness for `leases`.
    public func check(_ leases: [Ledger.Lease], strictBoot: Bool = false) -> [LeaseCheck] {
        LeaseLiveness.check(leases, processes: processes, strictBoot: strictBoot)
    }

    /// This boot's id.
    public var bootID: String { processes.bootID }

    /// A bind mount shows its device as the source; its root (the directory bound) says more.
    public static func shownSource(_ m: MountEntry) -> String { m.root != "/" && m.fstype != "cifs" ? "\(m.source):\(m.root)" : m.source }

    /// The whole node: every ledger user and volume, the configured volumes, and orphans under `mount.root`.
    /// `ledger` nil means unreadable (`ledgerError` says why): then only the table and orphans are known.
    public func survey(ledger: Ledger?, ledgerError: LedgerError?, config: Config, now: Int, strictBoot: Bool = false,
                       probeHealth: Bool = true) throws -> NodeSurvey {
        let table = try self.table()
        var users: [UserFacts] = []
        var claimed = Set<String>()
        var toProbe: [MountEntry] = []
        var probeSlot: [(kind: Int, index: Int)] = []  // kind 0 user, 1 volume, 2 orphan
        for name in (ledger?.entries.keys.sorted() ?? []) {
            let e = ledger!.entries[name]!
            let record = MountRecord(backend: e.backend, source: e.source, mountpoint: e.mountpoint)
            let stack = MountTable.mounts(at: e.mountpoint, in: table)
            var facts = UserFacts(name: name, entry: e, state: .absent, live: stack.last, stacked: stack.count,
                                  leases: check(e.leases, strictBoot: strictBoot))
            switch presence(of: record, in: table) {
            case .absent: break
            case .foreign(let m): facts.state = .foreign(source: Self.shownSource(m), fstype: m.fstype)
            case .ours(let m):
                facts.state = .ours(.ok)
                claimed.insert(e.mountpoint)
                toProbe.append(m)
                probeSlot.append((0, users.count))
            }
            users.append(facts)
        }
        var volumes: [VolumeFacts] = []
        var names = Set(config.volumes.map(\.name))
        for n in ledger.map({ Array($0.volumes.keys) }) ?? [] { names.insert(n) }
        for name in names.sorted() {
            let configured = config.volumes.first { $0.name == name }
            let record = ledger?.volumes[name]
            var facts = VolumeFacts(name: name, configured: configured, record: record, state: .absent, live: nil)
            if let r = record {
                let rec = MountRecord(backend: "azure", source: r.source, mountpoint: r.mountpoint)
                facts.live = MountTable.mount(at: r.mountpoint, in: table)
                switch presence(of: rec, in: table) {
                case .absent: break
                case .foreign(let m): facts.state = .foreign(source: Self.shownSource(m), fstype: m.fstype)
                case .ours(let m):
                    facts.state = .ours(.ok)
                    claimed.insert(r.mountpoint)
                    toProbe.append(m)
                    probeSlot.append((1, volumes.count))
                }
            } else if let c = configured {
                facts.live = MountTable.mount(at: c.mountpoint, in: table)
                if let m = facts.live { facts.state = .foreign(source: Self.shownSource(m), fstype: m.fstype) }
            }
            volumes.append(facts)
        }
        for v in config.volumes { claimed.insert(v.mountpoint) }
        var orphans: [MountEntry] = []
        var seen = Set<String>()
        for m in MountTable.children(of: config.mountRoot, in: table).reversed() where !claimed.contains(m.target) && !seen.contains(m.target) {
            seen.insert(m.target)
            orphans.append(m)
        }
        orphans.sort { $0.target < $1.target }
        var orphanHealth = [Health](repeating: .ok, count: orphans.count)
        if probeHealth {
            for (i, m) in orphans.enumerated() {
                toProbe.append(m)
                probeSlot.append((2, i))
            }
            for (k, h) in health(of: toProbe).enumerated() {
                let slot = probeSlot[k]
                switch slot.kind {
                case 0: users[slot.index].state = .ours(h)
                case 1: volumes[slot.index].state = .ours(h)
                default: orphanHealth[slot.index] = h
                }
            }
        }
        return NodeSurvey(ledger: ledger, ledgerError: ledgerError, table: table, bootID: bootID, now: now, users: users, volumes: volumes,
                          orphans: orphans, orphanHealth: orphanHealth)
    }
}
