import Ledger
import Mounting
import SystemSupport

/// Pure planning: facts in, a ``Plan`` out. No I/O; re-planning after a crash from the ledger and the live
/// mount table converges.
public enum Planner {}

extension Planner {
    /// Attach: keep a healthy mount the ledger records (whatever the configuration says now), never stack a
    /// second mount, remount a mount of ours that is unhealthy, adopt a mount of the target left by a crash,
    /// drop the user's dead leases, and always end with the lease.
    ///
    /// - Parameters:
    ///   - target: the mount the configuration asks for.
    ///   - recorded: the state at the entry's recorded mountpoint, judged by its record (`.absent` without one).
    ///   - atTarget: the state at the target's mountpoint judged by the target's record; only consulted when the
    ///     recorded mount is not kept (pass the same value as `recorded` when the record is the target's).
    ///   - dead: sessions of the user's dead leases.
    public static func attach(
        target t: MountTarget, entry e: Ledger.Entry?, recorded: MountState, atTarget: MountState,
        lease: Ledger.Lease, dead: [String]
    ) throws -> Plan {
        var steps: [Step] = []
        var notes: [String] = []
        if !dead.isEmpty { notes.append("dropping \(dead.count) dead lease(s): \(dead.joined(separator: ", "))") }
        var targetState = atTarget
        if let e {
            switch recorded {
            case .ours(.ok):
                notes.append("already mounted and healthy: adding a lease only")
                let why = t.differs(from: e)
                if !why.isEmpty {
                    notes.append(
                        "the mount differs from the configuration (\(why.joined(separator: "; "))); `pus-mount reconcile` remounts it once no session holds it"
                    )
                }
                return Plan(
                    steps: [.addLease(lease, dropping: dead, mounted: nil)], target: t, notes: notes,
                    mountpoint: e.mountpoint)
            case .ours(let health):
                notes.append("mounted but \(health.rawValue): remounting")
                steps.append(.unmountLazily(e.mountpoint, reason: "mount is \(health.rawValue)"))
                if e.mountpoint != t.spec.target {
                    steps.append(.removeMountpoint(e.mountpoint))
                } else {
                    targetState = .absent
                }
            case .foreign(let source, let fstype):
                if e.mountpoint == t.spec.target { throw foreign(t, source, fstype) }
                notes.append(
                    "the recorded mountpoint \(e.mountpoint) holds another mount (\(source)); mounting at \(t.spec.target)"
                )
            case .absent:
                break
            }
        }
        switch targetState {
        case .ours(.ok):
            notes.append("\(t.spec.target) already holds this mount (left by an interrupted attach): adopting it")
            steps.append(.addLease(lease, dropping: dead, mounted: t))
        case .ours(let health):
            steps.append(.unmountLazily(t.spec.target, reason: "mount is \(health.rawValue)"))
            steps += mountSteps(t, entry: e)
            steps.append(.addLease(lease, dropping: dead, mounted: t))
        case .foreign(let source, let fstype):
            throw foreign(t, source, fstype)
        case .absent:
            steps += mountSteps(t, entry: e)
            steps.append(.addLease(lease, dropping: dead, mounted: t))
        }
        return Plan(steps: steps, target: t, notes: notes, mountpoint: t.spec.target)
    }

    static func foreign(_ t: MountTarget, _ source: String, _ fstype: String) -> OrchestratorError {
        OrchestratorError(
            .mountFailed,
            "\(t.spec.target) already has a mount of \(source) (\(fstype)) that pus-mount did not make; refusing to stack another",
            hint: "unmount it (umount \(t.spec.target)) or change mount.root")
    }

    /// What mounting the target takes. Making the storage ready is skipped for storage this node's ledger
    /// already records (a re-attach needs no REST call; a share deleted behind our back then fails the mount
    /// with error 2) and for storage the provider found, unless the provider wants it on every attach.
    static func mountSteps(_ t: MountTarget, entry: Ledger.Entry?) -> [Step] {
        var s: [Step] = []
        let known =
            t.storageFound || (entry?.backend == t.backend && entry?.share == t.share && entry?.account == t.account)
        if let r = t.readiness, r.everyAttach || !known { s.append(.ensureStorage(t)) }
        if let c = t.credentialsPath, let a = t.account { s.append(.writeCredentials(path: c, account: a)) }
        s.append(.prepareMountpoint(t.spec.target))
        s.append(.recordIntent(t))
        s.append(.mount(t))
        return s
    }
}
