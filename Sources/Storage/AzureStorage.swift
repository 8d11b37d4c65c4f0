import AzureFiles
import Glibc
import Logging
import SystemSupport

/// One configured storage account, ready to sign.
public struct AccountSpec: Sendable {
    public let name: String
    public let endpoint: AccountEndpoint
    public let keys: KeyFile
    public let weight: Int
    public let smbHost: String

    public init(name: String, keys: KeyFile, weight: Int, endpointSuffix: String, fileEndpoint: String?, smbHost: String?) throws {
        guard let sk = SharedKey(account: name, key: keys.key1) else {
            throw PusError(.config, "the key for account \(name) is not valid base64")
        }
        self.name = name
        self.keys = keys
        self.weight = weight
        endpoint = AccountEndpoint(account: name, key: sk, endpointSuffix: endpointSuffix, override: fileEndpoint)
        self.smbHost = smbHost ?? (fileEndpoint == nil ? "\(name).file.\(endpointSuffix)" : endpoint.host)
    }
}

/// The Azure side of per-user storage: placement of users on accounts, provisioning with the owner check,
/// and REST clients (one reused libcurl handle for the process).
public final class AzureStorage {
    public let accounts: [AccountSpec]
    public let prefix: String
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let logger: Logger
    let requestTimeout: Double
    var clients: [String: FilesClient] = [:]
    /// When set, every client records mutating requests here instead of sending them (`--dry-run`).
    public var dryRunRecorder: ((HTTPRequest) -> Void)?

    /// Pass a ``LazyCurlTransport`` so commands that send no REST request (a warm attach) never load libcurl.
    public init(accounts: [AccountSpec], prefix: String, transport: any HTTPTransport, retry: RetryPolicy,
                logger: Logger, requestTimeout: Double = 30) {
        self.accounts = accounts
        self.prefix = prefix
        self.transport = transport
        self.retry = retry
        self.logger = logger
        self.requestTimeout = requestTimeout
    }

    /// REST requests sent so far by all clients.
    public var requestsSent: Int { clients.values.reduce(0) { $0 + $1.requestsSent } }

    /// The share name of `user`.
    public func shareName(for user: String) -> String { ShareName.forUser(user, prefix: prefix) }

    /// The client of `account`.
    public func client(_ account: AccountSpec) -> FilesClient {
        if let c = clients[account.name] { return c }
        let c = FilesClient(endpoint: account.endpoint, transport: transport, retry: retry, logger: logger)
        c.requestTimeout = requestTimeout
        c.dryRunRecorder = dryRunRecorder
        clients[account.name] = c
        return c
    }

    /// The account by name.
    public func account(named name: String) -> AccountSpec? { accounts.first { $0.name == name } }

    /// Weighted rendezvous placement: stable for a user as long as the account list is unchanged, and adding an
    /// account moves only the users it wins. Callers with a recorded account (the ledger) use that instead.
    public func placement(for user: String) -> AccountSpec {
        precondition(!accounts.isEmpty, "no accounts configured")
        var best: (score: Double, account: AccountSpec)?
        for a in accounts where a.weight > 0 {
            let h = Crypto.sha256(Array("\(a.name)\u{0}\(user)".utf8))
            let x = h.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let u = (Double(x >> 11) + 0.5) / Double(1 << 53)
            let score = -Double(a.weight) / Glibc.log(u)
            if best == nil || score > best!.score { best = (score, a) }
        }
        return best?.account ?? accounts[0]
    }

    /// What ``provision(user:uid:quotaGiB:explicitQuota:account:)`` found or did.
    public struct Provisioned: Sendable {
        public let share: String
        public let account: String
        public let created: Bool
        public let quotaGiB: Int?
        public let quotaChanged: Bool
    }

    /// Ensures the user's share exists: one Create Share with quota and owner metadata; on 409 the owner
    /// metadata is checked (another user's share is refused with exit 77). An explicit quota is converged.
    public func provision(user: String, uid: UInt32, quotaGiB: Int, explicitQuota: Bool, account: AccountSpec? = nil) throws -> Provisioned {
        let acct = account ?? placement(for: user)
        let share = shareName(for: user)
        let c = client(acct)
        let metadata = [("pus_user", user), ("pus_uid", String(uid)), ("pus_created_by", "pus-mount")]
        if dryRunRecorder != nil {
            // A dry run may read: look first, so the plan says what would really happen.
            do {
                let props = try c.getShareProperties(share)
                try checkOwner(props.metadata, user: user, share: share)
                let change = explicitQuota && props.quotaGiB != quotaGiB
                if change { try c.setShareQuota(share, quotaGiB: quotaGiB) }
                return Provisioned(share: share, account: acct.name, created: false, quotaGiB: change ? quotaGiB : props.quotaGiB,
                                   quotaChanged: change)
            } catch let e as AzureError where e.code == "ShareNotFound" {}
        }
        switch try c.createShare(share, quotaGiB: quotaGiB, metadata: metadata) {
        case .created:
            return Provisioned(share: share, account: acct.name, created: true, quotaGiB: quotaGiB, quotaChanged: false)
        case .alreadyExists:
            let props = try c.getShareProperties(share)
            try checkOwner(props.metadata, user: user, share: share)
            var changed = false
            if explicitQuota && props.quotaGiB != quotaGiB {
                try c.setShareQuota(share, quotaGiB: quotaGiB)
                changed = true
            }
            return Provisioned(share: share, account: acct.name, created: false, quotaGiB: changed ? quotaGiB : props.quotaGiB,
                               quotaChanged: changed)
        }
    }

    /// Refuses a share whose `pus_user` metadata names someone else (or nobody).
    public func checkOwner(_ metadata: [String: String], user: String, share: String) throws {
        let owner = metadata["pus_user"]
        guard owner == user else {
            throw PusError(.permission, "share \(share) belongs to \(owner.map { "user \($0)" } ?? "no pus-mount user (no pus_user metadata)"), not \(user)",
                           hint: "pick another shares.prefix or fix the share's pus_user metadata by hand")
        }
    }

    /// The user's existing share (404 becomes a clear error), with its owner checked.
    public func existingShare(user: String, account: AccountSpec? = nil) throws -> (AccountSpec, String, FilesClient.ShareProperties) {
        let acct = account ?? placement(for: user)
        let share = shareName(for: user)
        do {
            let props = try client(acct).getShareProperties(share)
            try checkOwner(props.metadata, user: user, share: share)
            return (acct, share, props)
        } catch let e as AzureError where e.code == "ShareNotFound" {
            throw PusError(.other, "user \(user) has no share (\(share) not found in account \(acct.name))",
                           hint: "run `pus-mount provision \(user)` first")
        }
    }
}

