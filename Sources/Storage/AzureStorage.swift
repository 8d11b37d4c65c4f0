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
    /// The account's Blob service (the user's container).
    public let blobEndpoint: AccountEndpoint
    /// At most this many users' shares (`max_shares`); nil: no cap of ours (the service's own limit still holds).
    public let maxShares: Int?
    /// Takes no new users, keeps serving its existing ones (`draining = true`).
    public let draining: Bool

    public init(
        name: String, keys: KeyFile, weight: Int, endpointSuffix: String, fileEndpoint: String?, smbHost: String?,
        blobEndpoint: String? = nil, maxShares: Int? = nil, draining: Bool = false
    ) throws {
        self.maxShares = maxShares
        self.draining = draining
        guard let sk = SharedKey(account: name, key: keys.key1) else {
            throw StorageError(.badKey, "the key for account \(name) is not valid base64")
        }
        self.name = name
        self.keys = keys
        self.weight = weight
        endpoint = AccountEndpoint(account: name, key: sk, endpointSuffix: endpointSuffix, override: fileEndpoint)
        self.blobEndpoint = AccountEndpoint(
            account: name, key: sk, endpointSuffix: endpointSuffix, override: blobEndpoint, service: "blob")
        self.smbHost = smbHost ?? (fileEndpoint == nil ? "\(name).file.\(endpointSuffix)" : endpoint.host)
    }
}

/// The Azure side of per-user storage: placement of users on accounts, provisioning with the owner check,
/// the locator (ShareLocator.swift), and REST clients: one per account, each with its own transport (one
/// libcurl handle, whose connection is reused), so lookups in several accounts run side by side.
public final class AzureStorage {
    public let accounts: [AccountSpec]
    public let prefix: String
    let makeTransport: () -> any HTTPTransport
    let retry: RetryPolicy
    let logger: Logger
    let requestTimeout: Double
    var clients: [String: FilesClient] = [:]
    var blobClients: [String: BlobClient] = [:]
    /// Users' shares per account, counted once per run for capacity-aware placement (Placement.swift).
    var shareCounts: [String: Int] = [:]
    /// When set, every client records mutating requests here instead of sending them (`--dry-run`).
    public var dryRunRecorder: ((HTTPRequest) -> Void)?

    /// `makeTransport` is called once per account that sends a request: pass `{ LazyCurlTransport() }` so
    /// commands that send no REST request (a warm attach) never load libcurl.
    public init(
        accounts: [AccountSpec], prefix: String, makeTransport: @escaping () -> any HTTPTransport, retry: RetryPolicy,
        logger: Logger, requestTimeout: Double = 30
    ) {
        self.accounts = accounts
        self.prefix = prefix
        self.makeTransport = makeTransport
        self.retry = retry
        self.logger = logger
        self.requestTimeout = requestTimeout
    }

    /// REST requests sent so far by all clients.
    public var requestsSent: Int {
        clients.values.reduce(0) { $0 + $1.requestsSent } + blobClients.values.reduce(0) { $0 + $1.rest.requestsSent }
            + verifyRequests
    }
    /// Requests sent by ``verify(key:of:)``'s own clients.
    var verifyRequests = 0

    /// The service's request ids received so far, account by account (the audit log's `request_ids`).
    public var requestIDs: [String] {
        clients.sorted { $0.key < $1.key }.flatMap(\.value.requestIDs)
            + blobClients.sorted { $0.key < $1.key }.flatMap(\.value.rest.requestIDs)
    }

    /// The share name of `user`.
    public func shareName(for user: String) -> String { ShareName.forUser(user, prefix: prefix) }

    /// The client of `account`.
    public func client(_ account: AccountSpec) -> FilesClient {
        if let c = clients[account.name] { return c }
        let c = FilesClient(endpoint: account.endpoint, transport: makeTransport(), retry: retry, logger: logger)
        c.requestTimeout = requestTimeout
        c.dryRunRecorder = dryRunRecorder
        clients[account.name] = c
        return c
    }

    /// The Blob client of `account` (its own transport: one connection per service).
    public func blobClient(_ account: AccountSpec) -> BlobClient {
        if let c = blobClients[account.name] { return c }
        let rest = FilesClient(endpoint: account.blobEndpoint, transport: makeTransport(), retry: retry, logger: logger)
        rest.requestTimeout = requestTimeout
        rest.dryRunRecorder = dryRunRecorder
        let c = BlobClient(rest: rest)
        blobClients[account.name] = c
        return c
    }

    /// Checks that the service accepts `key` for `account`: one List Shares (maxresults=1) signed with it.
    /// Throws the request's error (403 AuthenticationFailed for a wrong key); returns the service's Date.
    @discardableResult
    public func verify(key: Secret, of account: AccountSpec) throws -> String? {
        guard let sk = SharedKey(account: account.name, key: key) else {
            throw StorageError(.badKey, "a key of account \(account.name) is not valid base64")
        }
        let c = FilesClient(
            endpoint: AccountEndpoint(account: account.name, key: sk, override: account.endpoint.baseURL),
            transport: makeTransport(), retry: retry, logger: logger)
        c.requestTimeout = requestTimeout
        defer { verifyRequests += c.requestsSent }
        return try c.probe().date
    }

    /// The account by name.
    public func account(named name: String) -> AccountSpec? { accounts.first { $0.name == name } }

    /// Weighted rendezvous placement: stable for a user as long as the account list is unchanged, and adding an
    /// account moves only the users it wins. Callers with a recorded account (the ledger) use that instead. This
    /// is the first choice only: ``placeNewUser(_:)`` skips accounts that are full or draining.
    public func placement(for user: String) -> AccountSpec {
        precondition(!accounts.isEmpty, "no accounts configured")
        return placementOrder(for: user).first ?? accounts[0]
    }

    /// The accounts a new user may go to, best first: weight above 0 and not draining, by rendezvous score.
    public func placementOrder(for user: String) -> [AccountSpec] {
        accounts.filter { $0.weight > 0 && !$0.draining }.map { a -> (Double, AccountSpec) in
            let h = Crypto.sha256(Array("\(a.name)\u{0}\(user)".utf8))
            let x = h.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let u = (Double(x >> 11) + 0.5) / Double(1 << 53)
            return (-Double(a.weight) / Glibc.log(u), a)
        }.sorted { $0.0 > $1.0 }.map(\.1)
    }

    /// What ``provision(user:uid:quotaGiB:explicitQuota:account:)`` found or did.
    public struct Provisioned: Sendable {
        public let share: String
        public let account: String
        public let created: Bool
        public let quotaGiB: Int?
        public let quotaChanged: Bool
    }

    /// Whether a user's share must be looked for before it may be created: with one account and no record,
    /// looking and creating ask the same question, and Create Share answers it in one request for a new user
    /// (201), or two for an existing one (409, then the owner check).
    public func mustLocateFirst(recordedAccount: String?) -> Bool { accounts.count > 1 || recordedAccount != nil }

    /// Ensures the user's share exists, wherever it is: the locator first (``mustLocateFirst(recordedAccount:)``);
    /// only when no configured account has it, Create Share in the placement winner (quota and owner metadata
    /// in the same request). An explicit quota is converged on the share found.
    public func provision(
        user: String, uid: UInt32, quotaGiB: Int, explicitQuota: Bool, recordedAccount: String? = nil,
        recordedShare: String? = nil
    ) throws -> Provisioned {
        var found: LocatedShare?
        var versions: ShareVersions?
        // A dry run looks first too (reads are sent), so its plan says what would really happen.
        if mustLocateFirst(recordedAccount: recordedAccount) || dryRunRecorder != nil {
            let f = try find(user: user, recordedAccount: recordedAccount, recordedShare: recordedShare)
            found = f.share
            versions = f.versions
        }
        var created = false
        if found == nil {
            // One listing per account (the locator's, when it made one) says whether the share is there under
            // the computed name or adopted (then nothing is created) and whether a deleted one can still be
            // restored (then nothing may be created over it).
            let v = try versions ?? shareVersions(user: user)
            if let live = try liveShare(in: v, user: user) {
                found = live
            } else if let newest = v.deleted.first(where: { !$0.abandoned }) {
                throw Self.buried(user: user, newest: newest, versions: v.deleted.filter { !$0.abandoned }.count)
            }
        }
        var placedIn: AccountSpec?
        if found == nil {
            // The first account in placement order with room; one the service itself refuses as full is
            // skipped and the next one tried.
            var full: Set<String> = []
            while true {
                let acct = try placeNewUser(user, excluding: full)
                do {
                    switch try create(user: user, uid: uid, quotaGiB: quotaGiB, in: acct) {
                    case nil: created = true
                    case let props?:
                        found = LocatedShare(account: acct, share: shareName(for: user), properties: props)
                    }
                    placedIn = acct
                    break
                } catch let e as AzureError where Self.isAccountFull(e) {
                    logger.warning("account \(acct.name) refused a new share as full (\(e.code)); trying the next one")
                    full.insert(acct.name)
                }
            }
        }
        guard let found else {
            return Provisioned(
                share: shareName(for: user), account: (placedIn ?? placement(for: user)).name, created: created,
                quotaGiB: quotaGiB, quotaChanged: false)
        }
        let change = explicitQuota && found.properties.quotaGiB != quotaGiB
        if change { try client(found.account).setShareQuota(found.share, quotaGiB: quotaGiB) }
        return Provisioned(
            share: found.share, account: found.account.name, created: false,
            quotaGiB: change ? quotaGiB : found.properties.quotaGiB, quotaChanged: change)
    }

    /// Create Share in `account` (the placement winner) for a user no account was found to hold. nil when this
    /// call created it; on 409 (it existed, or another node created it meanwhile) its properties, owner-checked.
    @discardableResult
    public func create(user: String, uid: UInt32, quotaGiB: Int, in account: AccountSpec) throws -> FilesClient
        .ShareProperties?
    {
        let share = shareName(for: user)
        let c = client(account)
        let metadata = [("pus_user", user), ("pus_uid", String(uid)), ("pus_created_by", "pus-mount")]
        switch try c.createShare(share, quotaGiB: quotaGiB, metadata: metadata) {
        case .created:
            return nil
        case .alreadyExists:
            let props = try c.getShareProperties(share)
            try checkOwner(props.metadata, user: user, share: share, account: account.name)
            return props
        }
    }

    /// Refuses a share whose `pus_user` metadata names someone else (or nobody), before any of its data is read
    /// or written.
    public func checkOwner(
        _ metadata: [String: String], user: String, share: String, account: String? = nil, kind: String = "share"
    ) throws {
        let owner = metadata["pus_user"]
        guard owner == user else {
            throw StorageError(
                .foreignOwner,
                "\(kind) \(share)\(account.map { " in account \($0)" } ?? "") belongs to \(owner.map { "user \($0)" } ?? "no pus-mount user (no pus_user metadata)"), not \(user)",
                hint: "pick another shares.prefix or fix the \(kind)'s pus_user metadata by hand")
        }
    }

    /// The user's existing share, located and owner-checked; "no share anywhere" is a clear error (exit 1).
    public func existingShare(user: String, recordedAccount: String? = nil, recordedShare: String? = nil) throws
        -> LocatedShare
    {
        let f = try find(user: user, recordedAccount: recordedAccount, recordedShare: recordedShare)
        guard let found = f.share else {
            let deleted = (f.versions?.deleted ?? []).filter { !$0.abandoned }
            let hint =
                deleted.first.map { d in
                    "its share was deleted: `pus-mount undelete \(user)` restores it (\(deleted.count) version(s), the newest for \(Self.daysLeft(d.remainingDays)))"
                } ?? "run `pus-mount provision \(user)` first"
            throw StorageError(
                .noShare,
                "user \(user) has no share (\(shareName(for: user)) is in none of the configured accounts: \(accounts.map(\.name).joined(separator: ", ")))",
                hint: hint)
        }
        return found
    }
}
