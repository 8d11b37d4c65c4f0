import Ledger

/// The parsed configuration (`pus-mount.toml`, see pus-mount.toml(5)). Plain values; loading and
/// validation of the file live in PusMountCLI.
public struct Config: Sendable, Equatable {
    public struct Account: Sendable, Equatable {
        public var name: String
        public var keyFile: String
        public var weight: Int = 1
        public var fileEndpoint: String?
        /// The Blob REST endpoint override (emulator, private link); default `https://<name>.blob.<suffix>`.
        public var blobEndpoint: String?
        public var smbHost: String?
        /// What the operator knows of the account's share soft delete (a management-plane setting a Shared Key
        /// client cannot read): false makes deprovision refuse there without --no-soft-delete; nil: unknown.
        public var softDelete: Bool?
        /// At most this many users' shares in the account (`max_shares`); nil: no cap of ours.
        public var maxShares: Int?
        /// Takes no new users, keeps its existing ones (`draining = true`).
        public var draining = false
        /// `profile = "premium"`: SSD shares, mounted with SMB multichannel (`multichannel,max_channels=N`);
        /// `"standard"` (the default): `mount.options` alone.
        public var profile = MountProfile.standard
        /// Channels of a premium mount (1 to 4).
        public var maxChannels = 4
        public init(name: String, keyFile: String) {
            self.name = name
            self.keyFile = keyFile
        }
    }

    public struct Volume: Sendable, Equatable {
        public var name: String
        public var account: String
        public var share: String
        public var mountpoint: String
        public var readOnly = true
        public init(name: String, account: String, share: String, mountpoint: String) {
            self.name = name
            self.account = account
            self.share = share
            self.mountpoint = mountpoint
        }
    }

    /// An account's mount option set (issue 19, item 6).
    public enum MountProfile: String, Sendable, Equatable, CaseIterable {
        case standard, premium
    }

    /// The cifs options for a mount in `account`: `mount.options`, plus for a premium account
    /// `multichannel,max_channels=N` (unless `mount.options` sets them already).
    public func mountOptions(for account: String) -> [String] {
        guard let a = accounts.first(where: { $0.name == account }), a.profile == .premium else { return mountOptions }
        let keys = Set(mountOptions.map { $0.split(separator: "=").first.map(String.init) ?? $0 })
        return mountOptions
            + [("multichannel", "multichannel"), ("max_channels", "max_channels=\(a.maxChannels)")]
            .filter { !keys.contains($0.0) }.map(\.1)
    }

    public var backend: Backend = .local
    public var endpointSuffix = "core.windows.net"
    public var accounts: [Account] = []
    public var localRoot = "/srv/pus-mount"
    public var sharePrefix = "pus"
    public var quotaGiB = 100
    public var mountRoot = "/mnt/pus"
    public var vers = "3.0"
    public var mountOptions = ["serverino", "nosharesock", "actimeo=30", "mfsymlinks", "nosuid", "nodev"]
    public var fileMode = "0600"
    public var dirMode = "0700"
    public var mountTimeoutSeconds = 60
    /// Deadline of a health probe (stat + one readdir in a child): a mount that does not answer is `hung`.
    public var probeTimeoutSeconds = 5
    public var lingerSeconds = 0
    public var minUID = 1000
    public var denyUsers = ["root"]
    public var sasMaxExpiryHours = 24
    /// `[blob] enabled`: each user also has a private Blob container beside the share (same account, same name).
    public var blobEnabled = false
    /// `[nodes]`: node names by client address (canonical numeric form), for `where`.
    public var nodeNames: [String: String] = [:]
    public var stateDir = "/var/lib/pus-mount"
    public var credentialsDir = "/etc/pus-mount/credentials"
    public var auditLog = "/var/log/pus-mount/audit.jsonl"
    public var volumes: [Volume] = []
    /// REST retry policy (`[retry]`, a pus-mount extension): attempts, first delay, total budget.
    public var retryMaxAttempts = 5
    public var retryInitialDelayMs = 250
    public var retryTotalSeconds = 20
    public var requestTimeoutSeconds = 30

    public init() {}

    /// The mountpoint of `user`.
    public func mountpoint(for user: String) -> String { "\(mountRoot)/\(user)" }
    /// The ledger file.
    public var ledgerPath: String { "\(stateDir)/ledger.json" }
}
