import Ledger
import Mounting

/// One user's facts: the ledger entry, what is at its recorded mountpoint (probed), and its leases checked.
public struct UserFacts: Sendable {
    public var name: String
    public var entry: Ledger.Entry?
    /// The state at the entry's mountpoint, judged by the entry's record (`.absent` without an entry).
    public var state: MountState
    /// The topmost mount at the entry's mountpoint, whoever made it.
    public var live: MountEntry?
    /// How many mounts sit at that mountpoint (more than one: something was stacked).
    public var stacked: Int
    public var leases: [LeaseCheck]

    public init(
        name: String, entry: Ledger.Entry?, state: MountState, live: MountEntry?, stacked: Int, leases: [LeaseCheck]
    ) {
        self.name = name
        self.entry = entry
        self.state = state
        self.live = live
        self.stacked = stacked
        self.leases = leases
    }

    public var liveLeases: [Ledger.Lease] { leases.filter(\.isAlive).map(\.lease) }
    public var deadLeases: [LeaseCheck] { leases.filter { !$0.isAlive } }
}

/// One shared volume's facts: what the configuration asks for, what the ledger recorded, what is there.
public struct VolumeFacts: Sendable {
    public var name: String
    public var configured: Config.Volume?
    public var record: Ledger.Volume?
    /// The state at the recorded (else configured) mountpoint.
    public var state: MountState
    public var live: MountEntry?

    public init(name: String, configured: Config.Volume?, record: Ledger.Volume?, state: MountState, live: MountEntry?)
    {
        self.name = name
        self.configured = configured
        self.record = record
        self.state = state
        self.live = live
    }
}

/// Everything one pass knows about the node, gathered by ``Inspector`` before anything is planned: the ledger
/// (or why it could not be read), the live mount table with health, lease liveness, the volumes, and the
/// mounts under `mount.root` that no record claims. status, detach and reconcile read the same survey.
public struct NodeSurvey: Sendable {
    public var ledger: Ledger?
    public var ledgerError: LedgerError?
    public var table: [MountEntry]
    public var bootID: String
    public var now: Int
    /// Users of the ledger, by name.
    public var users: [UserFacts]
    public var volumes: [VolumeFacts]
    /// Mounts directly under `mount.root` that no ledger record claims (topmost per mountpoint).
    public var orphans: [MountEntry]
    /// Health of each orphan (index-aligned).
    public var orphanHealth: [Health]

    /// Live mounts counted for metrics: users' and volumes' mounts that are ours.
    public var ourMounts: Int {
        users.reduce(0) { $0 + ($1.state.isOurs ? 1 : 0) } + volumes.reduce(0) { $0 + ($1.state.isOurs ? 1 : 0) }
    }
}
