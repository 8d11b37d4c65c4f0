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

    public init(
        mountTable: any MountTableReader, probe: HealthProbe, processes: any ProcessInspector,
        sameDirectory: @escaping MountIdentity.SameDirectory = MountIdentity.statBoth
    ) {
        self.mountTable = mountTable
        self.probe = probe
        self.processes = processes
        self.sameDirectory = sameDirectory
    }

    /// The live mount table.
    public func table() throws -> [MountEntry] { try mountTable.read() }

    /// The live mount table, read on another thread (the kernel takes a while to print 10,000 mounts; the
    /// caller decodes the ledger meanwhile).
    public func tableInBackground() -> Pending<[MountEntry]> {
        let reader = mountTable
        return Pending { try reader.read() }
    }

    /// What sits at the record's mountpoint (no probe).
    public func presence(of record: MountRecord, in table: [MountEntry]) -> MountPresence {
        var none: [String: MountEntry?] = [:]
        return MountIdentity.presence(
            of: record, top: MountTable.mount(at: record.mountpoint, in: table), cache: &none,
            sameDirectory: sameDirectory)
    }

    /// The same with an indexed table (and a cache of where parent directories live, for one pass).
    func presence(of record: MountRecord, in index: MountIndex, cache: inout [String: MountEntry?]) -> MountPresence {
        MountIdentity.presence(
            of: record, top: index.top(at: record.mountpoint), index: index, cache: &cache, sameDirectory: sameDirectory
        )
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
            if MountIdentity.isNetwork(m.fstype) {
                remote.append(i)
            } else {
                out[i] = HealthProbe.checkInProcess(m.target)
            }
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
    public static func shownSource(_ m: MountEntry) -> String {
        m.root != "/" && m.fstype != "cifs" ? "\(m.source):\(m.root)" : m.source
    }

    /// One volume's facts (health not yet probed: `.ours(.ok)`), and its mount when it is ours.
    func volumeFacts(
        _ name: String, configured: Config.Volume?, record: Ledger.Volume?, index: MountIndex,
        cache: inout [String: MountEntry?]
    ) -> (VolumeFacts, ours: MountEntry?) {
        var facts = VolumeFacts(name: name, configured: configured, record: record, state: .absent, live: nil)
        if let r = record {
            facts.live = index.top(at: r.mountpoint)
            switch presence(
                of: MountRecord(backend: .azure, source: r.source, mountpoint: r.mountpoint), in: index, cache: &cache)
            {
            case .absent: break
            case .foreign(let m): facts.state = .foreign(source: Self.shownSource(m), fstype: m.fstype)
            case .ours(let m):
                facts.state = .ours(.ok)
                return (facts, m)
            }
        } else if let c = configured {
            facts.live = index.top(at: c.mountpoint)
            if let m = facts.live { facts.state = .foreign(source: Self.shownSource(m), fstype: m.fstype) }
        }
        return (facts, nil)
    }

    /// One volume as `survey` sees it, with only its own mount probed (a repair re-plans from these).
    public func volume(_ name: String, ledger: Ledger, config: Config) throws -> VolumeFacts? {
        let configured = config.volumes.first { $0.name == name }
        guard configured != nil || ledger.volumes[name] != nil else { return nil }
        var cache: [String: MountEntry?] = [:]
        var (facts, ours) = volumeFacts(
            name, configured: configured, record: ledger.volumes[name], index: MountIndex(try table()), cache: &cache)
        if let m = ours { facts.state = .ours(health(of: [m])[0]) }
        return facts
    }

    /// The whole node: every ledger user and volume, the configured volumes, and orphans under `mount.root`.
    /// `ledger` nil means unreadable (`ledgerError` says why): then only the table and orphans are known.
    public func survey(
        ledger: Ledger?, ledgerError: LedgerError?, config: Config, now: Int, strictBoot: Bool = false,
        probeHealth: Bool = true, table given: [MountEntry]? = nil
    ) throws -> NodeSurvey {
        let table = try given ?? self.table()
        let index = MountIndex(table)
        var cache: [String: MountEntry?] = [:]
        var users: [UserFacts] = []
        var claimed = Set<String>()
        var toProbe: [MountEntry] = []
        /// Whose health each probed path reports, by index into users, volumes or orphans.
        enum Probed {
            case user(Int)
            case volume(Int)
            case orphan(Int)
        }
        var probeSlot: [Probed] = []
        let names = ledger?.entries.keys.sorted() ?? []
        let liveness = LeaseLiveness.checkAll(
            names.map { ledger!.entries[$0]!.leases }, processes: processes, strictBoot: strictBoot)
        for (k, name) in names.enumerated() {
            let e = ledger!.entries[name]!
            let record = MountRecord(backend: e.backend, source: e.source, mountpoint: e.mountpoint)
            var facts = UserFacts(
                name: name, entry: e, state: .absent, live: index.top(at: e.mountpoint),
                stacked: index.count(at: e.mountpoint),
                leases: liveness[k])
            switch presence(of: record, in: index, cache: &cache) {
            case .absent: break
            case .foreign(let m): facts.state = .foreign(source: Self.shownSource(m), fstype: m.fstype)
            case .ours(let m):
                facts.state = .ours(.ok)
                claimed.insert(e.mountpoint)
                toProbe.append(m)
                probeSlot.append(.user(users.count))
            }
            users.append(facts)
        }
        var volumes: [VolumeFacts] = []
        var volumeNames = Set(config.volumes.map(\.name))
        for n in ledger.map({ Array($0.volumes.keys) }) ?? [] { volumeNames.insert(n) }
        for name in volumeNames.sorted() {
            let (facts, ours) = volumeFacts(
                name, configured: config.volumes.first { $0.name == name }, record: ledger?.volumes[name],
                index: index, cache: &cache)
            if let m = ours {
                claimed.insert(m.target)
                toProbe.append(m)
                probeSlot.append(.volume(volumes.count))
            }
            volumes.append(facts)
        }
        for v in config.volumes { claimed.insert(v.mountpoint) }
        var orphans: [MountEntry] = []
        var seen = Set<String>()
        for m in MountTable.children(of: config.mountRoot, in: table).reversed()
        where !claimed.contains(m.target) && !seen.contains(m.target) {
            seen.insert(m.target)
            orphans.append(m)
        }
        orphans.sort { $0.target < $1.target }
        var orphanHealth = [Health](repeating: .ok, count: orphans.count)
        if probeHealth {
            for (i, m) in orphans.enumerated() {
                toProbe.append(m)
                probeSlot.append(.orphan(i))
            }
            for (k, h) in health(of: toProbe).enumerated() {
                switch probeSlot[k] {
                case .user(let i): users[i].state = .ours(h)
                case .volume(let i): volumes[i].state = .ours(h)
                case .orphan(let i): orphanHealth[i] = h
                }
            }
        }
        return NodeSurvey(
            ledger: ledger, ledgerError: ledgerError, table: table, bootID: bootID, now: now, users: users,
            volumes: volumes,
            orphans: orphans, orphanHealth: orphanHealth)
    }
}
