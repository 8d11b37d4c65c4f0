/// The ledger (`<state_dir>/ledger.json`): every mount pus-mount made, the session leases holding it, and
/// the shared volumes `bootstrap` mounted. Versioned; times are Unix seconds.
///
/// Version history (``LedgerStore`` migrates older files on read and writes the current version):
/// - 1: entries with leases (session, pid, pid start time).
/// - 2: leases record the boot they were made in (`bootID`); entries record when their last lease went
///   (`idleSince`, for `mount.linger_seconds`) and which account key the mount was made with (`keyID`, a
///   fingerprint, never the key); `volumes` holds the `[[volumes]]` mounts.
public struct Ledger: Sendable, Equatable {
    /// The format this build writes.
    public static let currentVersion = 2

    public var version: Int
    /// Entries by user name.
    public var entries: [String: Entry]
    /// Shared volumes by their `[[volumes]]` name.
    public var volumes: [String: Volume]

    public init() {
        version = Self.currentVersion
        entries = [:]
        volumes = [:]
    }

    /// One user's mount.
    public struct Entry: Sendable, Equatable {
        public var user: String
        public var uid: UInt32
        public var gid: UInt32
        public var backend: Backend
        public var account: String?
        public var share: String?
        /// Mount source: `//host/share` or the local directory. With ``mountpoint`` and ``backend`` this is
        /// how pus-mount recognises its own mount, whatever the configuration says today.
        public var source: String
        public var mountpoint: String
        /// sha256 (first 16 hex) of the option string, to detect option drift.
        public var optionsDigest: String
        public var credentialsPath: String?
        /// Whether pus-mount believes the mount is in place (reconcile compares with the mount table).
        public var mounted: Bool
        public var leases: [Lease]
        public var createdAt: Int
        public var updatedAt: Int
        /// When the last lease went while the mount stayed (linger); nil while leases remain.
        public var idleSince: Int?
        /// Fingerprint of the account key the credentials held when this mount was made (see ``KeyID``).
        public var keyID: String?

        public init(
            user: String, uid: UInt32, gid: UInt32, backend: Backend, account: String?, share: String?, source: String,
            mountpoint: String, optionsDigest: String, credentialsPath: String?, mounted: Bool, leases: [Lease],
            now: Int
        ) {
            self.user = user
            self.uid = uid
            self.gid = gid
            self.backend = backend
            self.account = account
            self.share = share
            self.source = source
            self.mountpoint = mountpoint
            self.optionsDigest = optionsDigest
            self.credentialsPath = credentialsPath
            self.mounted = mounted
            self.leases = leases
            createdAt = now
            updatedAt = now
        }
    }

    /// A session holding a mount: its id, optionally the pid (with its start time, so a recycled pid does
    /// not keep the lease alive), and the boot it was made in.
    public struct Lease: Sendable, Equatable {
        public var session: String
        public var pid: Int32?
        public var pidStartTime: UInt64?
        /// `/proc/sys/kernel/random/boot_id` when the lease was made; nil in version 1 ledgers.
        public var bootID: String?
        public var createdAt: Int

        public init(
            session: String, pid: Int32? = nil, pidStartTime: UInt64? = nil, bootID: String? = nil, createdAt: Int
        ) {
            self.session = session
            self.pid = pid
            self.pidStartTime = pidStartTime
            self.bootID = bootID
            self.createdAt = createdAt
        }
    }

    /// A shared `[[volumes]]` mount made by `bootstrap` (or repaired by `reconcile`).
    public struct Volume: Sendable, Equatable {
        public var name: String
        public var account: String
        public var share: String
        public var source: String
        public var mountpoint: String
        public var readOnly: Bool
        public var optionsDigest: String
        public var credentialsPath: String?
        public var mounted: Bool
        public var keyID: String?
        public var updatedAt: Int

        public init(
            name: String, account: String, share: String, source: String, mountpoint: String, readOnly: Bool,
            optionsDigest: String, credentialsPath: String?, mounted: Bool, keyID: String?, now: Int
        ) {
            self.name = name
            self.account = account
            self.share = share
            self.source = source
            self.mountpoint = mountpoint
            self.readOnly = readOnly
            self.optionsDigest = optionsDigest
            self.credentialsPath = credentialsPath
            self.mounted = mounted
            self.keyID = keyID
            updatedAt = now
        }
    }
}
