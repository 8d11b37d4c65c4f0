import Ledger
import Mounting

extension Planner {
    /// Detach: drop the named lease(s) and the user's dead ones; unmount the recorded mount only when no live
    /// lease remains and no linger applies. Never deletes data: at most the empty mountpoint goes.
    ///
    /// - Parameters:
    ///   - state: the state at the recorded mountpoint judged by the entry's record (for a user the ledger does
    ///     not know: judged by the configuration's target, so a mount left by an interrupted attach still goes).
    ///   - dead: sessions of the user's dead leases.
    ///   - force: unmount lazily (MNT_DETACH), even while processes use the mount; no linger.
    public static func detach(
        entry e: Ledger.Entry?, sessions: [String], all: Bool, dead: [String], state: MountState,
        mountpoint: String, credentialsPath: String?, lingerSeconds: Int, force: Bool = false
    ) -> Plan {
        var steps: [Step] = []
        var notes: [String] = []
        let leases = e?.leases ?? []
        let named = all ? leases.map(\.session) : sessions.filter { s in leases.contains { $0.session == s } }
        let dropping = named + dead.filter { !named.contains($0) }
        if named.isEmpty {
            notes.append(all ? "no leases to drop" : "no lease for session \(sessions.joined(separator: ", "))")
        }
        if !dead.isEmpty { notes.append("dropping \(dead.count) dead lease(s): \(dead.joined(separator: ", "))") }
        if !dropping.isEmpty { steps.append(.dropLeases(sessions: dropping, reason: all ? "detach --all" : "detach")) }
        let remaining = leases.filter { !dropping.contains($0.session) }.count
        if remaining > 0 {
            notes.append("\(remaining) lease(s) remain: the mount stays")
            return Plan(steps: steps, notes: notes, remainingLeases: remaining, mountpoint: mountpoint)
        }
        if lingerSeconds > 0 && !force, case .ours(.ok) = state {
            notes.append(
                "last lease gone; mount.linger_seconds = \(lingerSeconds): `pus-mount reconcile` unmounts after the linger"
            )
            if e?.idleSince == nil && e != nil { steps.append(.markIdle) }
            return Plan(steps: steps, notes: notes, remainingLeases: 0, mountpoint: mountpoint)
        }
        switch state {
        case .ours where force:
            steps.append(
                .unmountLazily(
                    mountpoint, reason: "last lease gone; detach --force: lazily, even while processes use it"))
        case .ours(.ok):
            steps.append(.unmount(mountpoint, reason: "last lease gone"))
        case .ours(let health):
            steps.append(.unmountLazily(mountpoint, reason: "last lease gone; mount is \(health.rawValue)"))
        case .foreign(let source, _):
            notes.append("\(mountpoint) holds a mount pus-mount did not make (\(source)): left alone")
        case .absent:
            break
        }
        if let c = credentialsPath { steps.append(.removeCredentials(c)) }
        if case .foreign = state {} else { steps.append(.removeMountpoint(mountpoint)) }
        if e != nil { steps.append(.markUnmounted) }
        return Plan(steps: steps, notes: notes, remainingLeases: 0, mountpoint: mountpoint)
    }
}
