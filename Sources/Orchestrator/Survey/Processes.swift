import Ledger
import SystemSupport

/// The process facts lease liveness needs: a pid's start time and this boot's id.
public protocol ProcessInspector: AnyObject, Sendable {
    /// Start time of `pid` in clock ticks since boot; nil when no such process exists.
    func startTime(of pid: Int32) -> UInt64?
    /// This boot's id.
    var bootID: String { get }
}

/// The real one: /proc.
public final class ProcFS: ProcessInspector {
    public let bootID: String
    public init() { bootID = Host.bootID() }
    public func startTime(of pid: Int32) -> UInt64? { ChildProcess.startTime(of: pid) }
}

/// A lease and, when it is dead, why.
public struct LeaseCheck: Sendable, Equatable {
    public var lease: Ledger.Lease
    /// Nil while the lease lives.
    public var dead: String?

    public var isAlive: Bool { dead == nil }
}

/// When a lease is dead (SPEC: "its pid is gone or was reused, or it comes from another boot").
public enum LeaseLiveness {
    /// Why `lease` is dead, or nil. With `strictBoot` (bootstrap) a lease that recorded no boot (a version 1
    /// ledger) counts as another boot's.
    public static func deadReason(_ lease: Ledger.Lease, processes: ProcessInspector, strictBoot: Bool = false)
        -> String?
    {
        if let b = lease.bootID, b != processes.bootID { return "made in an earlier boot" }
        if lease.bootID == nil && strictBoot { return "made before this boot" }
        guard let pid = lease.pid else { return nil }
        guard let start = processes.startTime(of: pid) else { return "process \(pid) is gone" }
        if let recorded = lease.pidStartTime, recorded != start { return "pid \(pid) now belongs to another process" }
        return nil
    }

    /// Every lease of `entry`, checked.
    public static func check(_ leases: [Ledger.Lease], processes: ProcessInspector, strictBoot: Bool = false)
        -> [LeaseCheck]
    {
        leases.map { LeaseCheck(lease: $0, dead: deadReason($0, processes: processes, strictBoot: strictBoot)) }
    }

    /// The leases of many entries, checked on two threads when there are enough of them to matter (each
    /// check with a pid reads /proc/PID/stat: a pass over 10,000 users spends most of this in the kernel).
    public static func checkAll(_ all: [[Ledger.Lease]], processes: any ProcessInspector, strictBoot: Bool = false)
        -> [[LeaseCheck]]
    {
        guard all.count >= 1024 else { return all.map { check($0, processes: processes, strictBoot: strictBoot) } }
        let half = all.count / 2
        let second = Array(all[half...])
        let other = Pending { second.map { check($0, processes: processes, strictBoot: strictBoot) } }
        let first = all[..<half].map { check($0, processes: processes, strictBoot: strictBoot) }
        return first + ((try? other.wait()) ?? second.map { check($0, processes: processes, strictBoot: strictBoot) })
    }
}
