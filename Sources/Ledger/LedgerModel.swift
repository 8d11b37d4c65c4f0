/// The ledger (`<state_dir>/ledger.json`): every mount pus-mount made and the session leases holding it.
/// Versioned; times are Unix seconds.
public struct Ledger: Codable, Sendable, Equatable {
    /// The format this build writes.
    public static let currentVersion = 1

    public var version: Int
    /// Entries by user name.
    public var entries: [String: Entry]

    public init() {
        version = Self.currentVersion
        entries = [:]
    }

    /// One user's mount.
    public struct Entry: Codable, Sendable, Equatable {
        public var user: String
        public var uid: UInt32
        public var gid: UInt32
        /// "azure" or "local".
        public var backend: String
        public var account: String?
        public var share: String?
        /// Mount source: `//host/share` or the local directory.
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

        public init(user: String, uid: UInt32, gid: UInt32, backend: String, account: String?, share: String?, source: String,
                    mountpoint: String, optionsDigest: String, credentialsPath: String?, mounted: Bool, leases: [Lease], now: Int) {
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

    /// A session holding a mount: its id, and optionally the pid (with its start time, so a recycled pid
    /// does not keep the lease alive).
    public struct Lease: Codable, Sendable, Equatable {
        public var session: String
        public var pid: Int32?
        public var pidStartTime: UInt64?
        public var createdAt: Int

        public init(session: String, pid: Int32? = nil, pidStartTime: UInt64? = nil, createdAt: Int) {
            self.session = session
            self.pid = pid
            self.pidStartTime = pidStartTime
            self.createdAt = createdAt
        }
    }
}
