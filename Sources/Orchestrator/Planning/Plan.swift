import Ledger
import Mounting

/// What a mount should be, derived from the configuration (and, for a known user, the ledger's record of the
/// share): independent of the machine's state.
public struct MountTarget: Sendable, Equatable {
    public var backend: Backend
    public var account: String?
    public var share: String?
    /// Local backend: the user's directory.
    public var localDirectory: String?
    public var credentialsPath: String?
    public var spec: MountSpec
    /// First 16 hex of sha256(options), stored in the ledger to notice option drift.
    public var optionsDigest: String
    /// Fingerprint of the account key the credentials file will hold (azure only).
    public var keyID: String?
    /// The provider found the storage where it already was (the locator, owner-checked): nothing to create.
    public var storageFound = false
    /// What making the storage ready before a mount takes, in the provider's words; nil: nothing.
    public var readiness: Readiness?

    /// The provider's `.ensureStorage` step, as the pure planner needs to know it.
    public struct Readiness: Sendable, Equatable {
        /// One line for plans ("provision share S in account A (...)").
        public var what: String
        /// The REST operation it sends, if any (dry runs list it).
        public var restOperation: String?
        /// Needed even when the ledger records this very storage (a directory removed behind our back).
        public var everyAttach: Bool

        public init(what: String, restOperation: String?, everyAttach: Bool) {
            self.what = what
            self.restOperation = restOperation
            self.everyAttach = everyAttach
        }
    }

    public init(
        backend: Backend, account: String?, share: String?, localDirectory: String?, credentialsPath: String?,
        spec: MountSpec, optionsDigest: String, keyID: String? = nil
    ) {
        self.backend = backend
        self.account = account
        self.share = share
        self.localDirectory = localDirectory
        self.credentialsPath = credentialsPath
        self.spec = spec
        self.optionsDigest = optionsDigest
        self.keyID = keyID
    }

    /// How the mount will be recognised once made.
    public var record: MountRecord { MountRecord(backend: backend, source: spec.source, mountpoint: spec.target) }

    /// Whether a ledger entry records a mount other than this one (source, mountpoint, backend or options).
    public func differs(from e: Ledger.Entry) -> [String] {
        if e.optionsDigest == optionsDigest && e.mountpoint == spec.target && e.backend == backend
            && e.source == spec.source
        {
            return []
        }
        var why: [String] = []
        if e.backend != backend { why.append("backend \(e.backend) -> \(backend)") }
        if !MountIdentity.sameSource(e.source, spec.source) { why.append("source \(e.source) -> \(spec.source)") }
        if e.mountpoint != spec.target { why.append("mountpoint \(e.mountpoint) -> \(spec.target)") }
        if e.optionsDigest != optionsDigest { why.append("mount options") }
        return why
    }
}

/// What is at a mountpoint now, judged against a ledger record.
public enum MountState: Sendable, Equatable {
    case absent
    case ours(Health)
    case foreign(source: String, fstype: String)

    public var isOurs: Bool { if case .ours = self { return true } else { return false } }
}

/// One step of a plan. Only the ``Executor`` performs steps; `--dry-run` prints them.
public enum Step: Sendable, Equatable, CustomStringConvertible {
    /// The provider makes the target's storage exist (Create Share; the user's directory).
    case ensureStorage(MountTarget)
    case writeCredentials(path: String, account: String)
    /// A user mountpoint: root:root 0000 while nothing is mounted on it.
    case prepareMountpoint(String)
    /// A volume mountpoint: created 0755 with its parents.
    case prepareVolumeMountpoint(String)
    /// The ledger records the mount about to be made (not yet mounted), so that a mount outliving a crash or a
    /// timed-out mount(2) is recognised as ours and cleaned up.
    case recordIntent(MountTarget)
    case mount(MountTarget)
    case addLease(Ledger.Lease, dropping: [String], mounted: MountTarget?)
    case dropLeases(sessions: [String], reason: String)
    /// The ledger records a new mount for the user, leases kept (a remount).
    case recordMounted(MountTarget)
    /// The last lease went and the mount lingers (`mount.linger_seconds`).
    case markIdle
    /// A normal unmount with a deadline, then a lazy one.
    case unmount(String, reason: String)
    /// A lazy unmount straight away (a stale mount: a normal one would wait for a dead server).
    case unmountLazily(String, reason: String)
    case removeCredentials(String)
    case removeMountpoint(String)
    case markUnmounted
    case recordVolume(Ledger.Volume)
    case forgetVolume(String)
    /// Delete Share with its snapshots (deprovision). Undone by Undelete Share of the version it left behind
    /// (when the account keeps deleted shares).
    case deleteShare(share: String, account: String)
    /// Undelete Share of one deleted version (undelete; giving a version up). Undone by deleting it again.
    case restoreShare(share: String, account: String, version: String)
    /// The share's `pus_user` must name the subject user (Get Share Properties): a restored share is checked
    /// before anyone uses it, and a foreign one is deleted again by the undo.
    case checkShareOwner(share: String, account: String)
    /// `pus_abandoned` metadata on the share (Set Share Metadata), so that, deleted again, it no longer stops
    /// attach and provision. Undone by putting the metadata back.
    case markAbandoned(share: String, account: String)
    /// Delete Container with every blob in it (deprovision --blob). Undone by Restore Container of the newest
    /// deleted version (when the account keeps deleted containers).
    case deleteContainer(container: String, account: String)
    /// Restore Container of one deleted version (undelete --blob). Undone by deleting it again.
    case restoreContainer(container: String, account: String, version: String)
    /// The container's `pus_user` must name the subject user (Get Container Properties); a restored container
    /// that is not the user's is deleted again by the undo.
    case checkContainerOwner(container: String, account: String)
    /// The user's ledger record goes (the storage it names is gone). Undone by putting it back.
    case forgetUser
    /// An unusable ledger is renamed to `to` (`ledger.json.corrupt-<time>`), never deleted. Undone by renaming
    /// it back while no new ledger was written.
    case setLedgerAside(to: String)
    /// The ledger becomes this one (a rebuild).
    case writeLedger(Ledger)

    public var description: String {
        switch self {
        case .ensureStorage(let t): return t.readiness?.what ?? "ensure the storage of \(t.spec.source)"
        case .writeCredentials(let p, let a): return "write credentials file \(p) for account \(a) (root:root 0600)"
        case .prepareMountpoint(let p): return "prepare mountpoint \(p) (root:root 0000 while unmounted)"
        case .prepareVolumeMountpoint(let p): return "prepare volume mountpoint \(p) (0755)"
        case .recordIntent(let t):
            return "record the mount of \(t.spec.source) on \(t.spec.target) in the ledger before making it"
        case .mount(let t):
            return "mount \(t.spec.source) on \(t.spec.target) type \(t.spec.fstype) options \(t.spec.options)"
        case .addLease(let l, let d, _):
            return "add lease session=\(l.session)\(l.pid.map { " pid=\($0)" } ?? "")"
                + (d.isEmpty ? "" : "; drop dead lease(s) \(d.joined(separator: ", "))")
        case .dropLeases(let s, let why): return "drop lease(s) \(s.joined(separator: ", ")) (\(why))"
        case .recordMounted(let t): return "record \(t.spec.source) on \(t.spec.target) as mounted in the ledger"
        case .markIdle: return "record that the last lease went (the mount lingers)"
        case .unmount(let t, let why): return "unmount \(t) (\(why))"
        case .unmountLazily(let t, let why): return "unmount \(t) lazily (\(why))"
        case .removeCredentials(let p): return "remove credentials file \(p)"
        case .removeMountpoint(let p): return "remove mountpoint \(p) if empty"
        case .markUnmounted: return "record the user as unmounted in the ledger"
        case .recordVolume(let v): return "record volume \(v.name) (\(v.source) on \(v.mountpoint)) in the ledger"
        case .forgetVolume(let n): return "forget volume \(n) in the ledger"
        case .deleteShare(let s, let a): return "delete share \(s) in account \(a) with its snapshots (Delete Share)"
        case .restoreShare(let s, let a, let v):
            return "restore share \(s) in account \(a), deleted version \(v) (Undelete Share)"
        case .checkShareOwner(let s, let a):
            return "check that share \(s) in account \(a) is the user's (pus_user metadata)"
        case .markAbandoned(let s, let a): return "mark share \(s) in account \(a) as given up (pus_abandoned metadata)"
        case .deleteContainer(let c, let a):
            return "delete container \(c) in account \(a) with every blob in it (Delete Container)"
        case .restoreContainer(let c, let a, let v):
            return "restore container \(c) in account \(a), deleted version \(v) (Restore Container)"
        case .checkContainerOwner(let c, let a):
            return "check that container \(c) in account \(a) is the user's (pus_user metadata)"
        case .forgetUser: return "remove the user's record from the ledger"
        case .setLedgerAside(let p): return "move the unusable ledger aside to \(p)"
        case .writeLedger(let l):
            return "write the rebuilt ledger (\(l.entries.count) user(s), \(l.volumes.count) volume(s))"
        }
    }

    /// The REST operation the step sends when performed, if any (for a dry run's list of planned calls).
    public var restOperation: String? {
        switch self {
        case .ensureStorage(let t): return t.readiness?.restOperation
        case .deleteShare(let s, let a):
            return "Delete Share \(s) in account \(a) (DELETE ?restype=share, x-ms-delete-snapshots: include)"
        case .restoreShare(let s, let a, let v):
            return "Undelete Share \(s) version \(v) in account \(a) (PUT ?restype=share&comp=undelete)"
        case .markAbandoned(let s, let a): return "Set Share Metadata on \(s) in account \(a) (pus_abandoned)"
        case .deleteContainer(let c, let a): return "Delete Container \(c) in account \(a) (DELETE ?restype=container)"
        case .restoreContainer(let c, let a, let v):
            return "Restore Container \(c) version \(v) in account \(a) (PUT ?restype=container&comp=undelete)"
        default: return nil
        }
    }

    /// Steps a dry run still performs, with the REST side recording their request instead of sending it (the
    /// request is the plan's evidence). Every other step of a dry run is only listed.
    public var isRecordedInDryRun: Bool {
        switch self {
        case .deleteShare, .restoreShare, .deleteContainer, .restoreContainer: return true
        default: return false
        }
    }

    /// Steps that only change a user's ledger entry (reconcile batches these under one ledger write).
    public var isLedgerOnly: Bool {
        switch self {
        case .dropLeases, .markIdle, .markUnmounted: return true
        default: return false
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
    /// Where the user's storage is mounted once the plan has run.
    public var mountpoint: String?

    public init(
        steps: [Step], target: MountTarget? = nil, notes: [String] = [], remainingLeases: Int? = nil,
        mountpoint: String? = nil
    ) {
        self.steps = steps
        self.target = target
        self.notes = notes
        self.remainingLeases = remainingLeases
        self.mountpoint = mountpoint
    }

    /// True when the plan mounts something.
    public var mounts: Bool { steps.contains { if case .mount = $0 { return true } else { return false } } }
}
