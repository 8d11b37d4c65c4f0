import Ledger
import Mounting

/// What a user's mount should be: derived from config and user, independent of the machine's state.
public struct MountTarget: Sendable, Equatable {
    public enum Backend: String, Sendable { case azure, local }
    public var backend: Backend
    public var account: String?
    public var share: String?
    /// Local backend: the user's directory.
    public var localDirectory: String?
    public var credentialsPath: String?
    public var spec: MountSpec
    /// First 16 hex of sha256(options), stored in the ledger to notice option drift.
    public var optionsDigest: String

    public init(backend: Backend, account: String?, share: String?, localDirectory: String?, credentialsPath: String?,
                spec: MountSpec, optionsDigest: String) {
        self.backend = backend
        self.account = account
        self.share = share
        self.localDirectory = localDirectory
        self.credentialsPath = credentialsPath
        self.spec = spec
        self.optionsDigest = optionsDigest
    }
}

/// What is at the mountpoint now.
public enum MountState: Sendable, Equatable {
    case absent
    case ours(Health)
    case foreign(source: String, fstype: String)
}

/// One step of a plan. Only the executor performs steps.
public enum Step: Sendable, Equatable, CustomStringConvertible {
    case provisionShare(account: String, share: String)
    case ensureLocalDirectory(String)
    case writeCredentials(String)
    case prepareMountpoint(String)
    case unmount(String, reason: String)
    case mount(MountSpec)
    case addLease(Ledger.Lease)
    case dropLeases(sessions: [String])
    case removeCredentials(String)
    case removeMountpoint(String)
    case markUnmounted

    public var description: String {
        switch self {
        case .provisionShare(let a, let s): return "provision share \(s) in account \(a) (Create Share; 409 checks the owner)"
        case .ensureLocalDirectory(let p): return "ensure directory \(p) (owned by the user, 0700)"
        case .writeCredentials(let p): return "write credentials file \(p) (root:root 0600)"
        case .prepareMountpoint(let p): return "prepare mountpoint \(p) (root:root 0000 while unmounted)"
        case .unmount(let t, let why): return "unmount \(t) (\(why))"
        case .mount(let m): return "mount \(m.source) on \(m.target) type \(m.fstype) options \(m.options)"
        case .addLease(let l): return "add lease session=\(l.session)\(l.pid.map { " pid=\($0)" } ?? "")"
        case .dropLeases(let s): return "drop lease(s) \(s.joined(separator: ", "))"
        case .removeCredentials(let p): return "remove credentials file \(p)"
        case .removeMountpoint(let p): return "remove mountpoint \(p) if empty"
        case .markUnmounted: return "record the user as unmounted in the ledger"
        }
    }
}

/// A plan is a value: `--dry-run` prints it, the executor performs it.
public struct Plan: Sendable, Equatable {
    public var steps: [Step]
    public var target: MountTarget?
    public var notes: [String] = []
    /// Leases left after a detach plan runs (nil for attach plans).
    public var remainingLeases: Int?

    /// True when the plan mounts something.
    public var mounts: Bool { steps.contains { if case .mount = $0 { return true } else { return false } } }
}
