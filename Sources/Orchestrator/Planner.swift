import Ledger
import Mounting
import SystemSupport

/// Pure planning: (target, ledger entry, mount state) -> Plan. No I/O here; re-planning after a crash
/// from the ledger and the live mount table converges.
public enum Planner {
    /// Attach: never stack a second mount; remount a mount that is ours but unhealthy; always end with the lease.
    public static func attach(target: MountTarget, entry: Ledger.Entry?, state: MountState, lease: Ledger.Lease) throws -> Plan {
        var steps: [Step] = []
        var notes: [String] = []
        switch state {
        case .foreign(let source, let fstype):
            throw PusError(.mountFailed, "\(target.spec.target) already has a mount of \(source) (\(fstype)) that pus-mount did not make; refusing to stack another",
                           hint: "unmount it (umount \(target.spec.target)) or change mount.root")
        case .ours(.ok):
            notes.append("already mounted and healthy: adding a lease only")
            if let e = entry, e.optionsDigest != target.optionsDigest {
                notes.append("mount options differ from the configuration; `pus-mount reconcile` will remount when the last lease is gone")
            }
        case .ours(let health):
            notes.append("mounted but \(health.rawValue): remounting")
            steps.append(.unmount(target.spec.target, reason: "mount is \(health.rawValue)"))
            steps += mountSteps(target, entry: entry)
        case .absent:
            steps += mountSteps(target, entry: entry)
        }
        steps.append(.addLease(lease))
        return Plan(steps: steps, target: target, notes: notes)
    }

    /// Provisioning is skipped for a share this node's ledger already records (re-attach of a known user
    /// needs no REST call; a share deleted behind our back then fails the mount with error 2 and its hint).
    static func mountSteps(_ t: MountTarget, entry: Ledger.Entry?) -> [Step] {
        var s: [Step] = []
        switch t.backend {
        case .azure:
            let known = entry?.share == t.share && entry?.account == t.account && entry?.backend == t.backend.rawValue
            if let a = t.account, let sh = t.share, !known { s.append(.provisionShare(account: a, share: sh)) }
            if let c = t.credentialsPath { s.append(.writeCredentials(c)) }
        case .local:
            if let d = t.localDirectory { s.append(.ensureLocalDirectory(d)) }
        }
        s.append(.prepareMountpoint(t.spec.target))
        s.append(.mount(t.spec))
        return s
    }

    /// Detach: drop the lease(s); unmount only when none remain (and no linger applies). Never deletes data.
    public static func detach(entry: Ledger.Entry?, sessions: [String], all: Bool, state: MountState, mountpoint: String,
                              lingerSeconds: Int) -> Plan {
        var steps: [Step] = []
        var notes: [String] = []
        let leases = entry?.leases ?? []
        let dropping = all ? leases.map(\.session) : sessions.filter { s in leases.contains { $0.session == s } }
        if !dropping.isEmpty { steps.append(.dropLeases(sessions: dropping)) }
        if dropping.isEmpty { notes.append(all ? "no leases to drop" : "no lease for session \(sessions.joined(separator: ", "))") }
        let remaining = leases.filter { !dropping.contains($0.session) }.count
        if remaining > 0 {
            notes.append("\(remaining) lease(s) remain: the mount stays")
            return Plan(steps: steps, target: nil, notes: notes, remainingLeases: remaining)
        }
        if lingerSeconds > 0, case .ours = state {
            notes.append("last lease gone; mount.linger_seconds = \(lingerSeconds): `pus-mount reconcile` unmounts after the linger")
            return Plan(steps: steps, target: nil, notes: notes, remainingLeases: 0)
        }
        switch state {
        case .ours(let health):
            steps.append(.unmount(mountpoint, reason: health == .ok ? "last lease gone" : "last lease gone; mount is \(health.rawValue)"))
        case .foreign(let source, _):
            notes.append("\(mountpoint) holds a foreign mount of \(source): left alone")
            return Plan(steps: steps, target: nil, notes: notes, remainingLeases: 0)
        case .absent:
            break
        }
        if let c = entry?.credentialsPath { steps.append(.removeCredentials(c)) }
        steps.append(.removeMountpoint(mountpoint))
        if entry != nil { steps.append(.markUnmounted) }
        return Plan(steps: steps, target: nil, notes: notes, remainingLeases: 0)
    }
}
