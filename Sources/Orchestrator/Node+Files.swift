import AzureFiles
import Ledger
import Storage
import SystemSupport

/// The REST commands' work (quota, snapshot, ls, get, put, sas, provision): each one call that locates the
/// user's share (owner-checked) and returns a value the CLI renders. No command reaches a client itself.
extension Node {
    /// The account and share this node's ledger records for the user (one read; an adopted share has a name of
    /// its own): hints for the locator (a ledger that cannot be read gives none, and every account is asked).
    public func recorded(of user: String) -> (account: String?, share: String?) {
        let entry = (try? ledger.read())?.entries[user]
        return (entry?.account, entry?.share)
    }

    /// The user's share, wherever it is (this node's ledger record first, then every account), owner-checked
    /// before any of its data is read or written.
    public func userShare(_ user: String) throws -> LocatedShare {
        let az = try azure()
        onShareLocated?(az.shareName(for: user), nil)
        let r = recorded(of: user)
        let found = try az.existingShare(user: user, recordedAccount: r.account, recordedShare: r.share)
        onShareLocated?(found.share, found.account.name)
        return found
    }

    public struct ShareUsage: Sendable {
        public let share: String
        public let account: String
        public let quotaGiB: Int?
        public let usedBytes: Int64
    }

    /// Quota and usage of the user's share; with `set`, the quota is changed first (``ShareQuota``).
    public func quota(_ user: String, set: Int?) throws -> ShareUsage {
        if let set, !ShareQuota.isValid(set) {
            throw OrchestratorError(.invalidArgument, "--set \(set) is out of range", hint: ShareQuota.rangeText)
        }
        let found = try userShare(user)
        let client = try azure().client(found.account)
        var quota = found.properties.quotaGiB
        if let set, set != quota {
            try client.setShareQuota(found.share, quotaGiB: set)
            quota = set
        }
        return ShareUsage(
            share: found.share, account: found.account.name, quotaGiB: quota,
            usedBytes: try client.getShareStats(found.share))
    }

    public struct Listing: Sendable {
        public let share: String
        public let account: String
        public let entries: [FilesClient.DirectoryEntry]
        public let pages: Int
    }

    /// A directory of the user's share (`path` checked by the caller, "" for the root), every page of it
    /// (a server that repeats its marker is refused: ``ListingPages``).
    public func list(_ user: String, path: String) throws -> Listing {
        let found = try userShare(user)
        let client = try azure().client(found.account)
        var entries: [FilesClient.DirectoryEntry] = []
        var marker: String?
        var listing = ListingPages(operation: "list /\(path)")
        do {
            repeat {
                let page = try client.listDirectory(share: found.share, path: path, marker: marker)
                entries += page.entries
                marker = try listing.next(page.nextMarker)
            } while marker != nil
        } catch let e as AzureError where e.code == .resourceNotFound {
            throw OrchestratorError(.invalidArgument, "no such directory in \(user)'s share: /\(path)")
        }
        return Listing(share: found.share, account: found.account.name, entries: entries, pages: listing.pages)
    }

    /// Downloads `remote` (checked by the caller) to `local` through a temp file renamed into place.
    public func download(_ user: String, remote: String, to local: String, progress: @escaping (Int64, Int64) -> Void)
        throws -> Int64
    {
        let found = try userShare(user)
        do {
            return try azure().client(found.account).download(
                share: found.share, remotePath: remote, localPath: local, progress: progress)
        } catch let e as AzureError where e.status == 404 {
            throw OrchestratorError(.invalidArgument, "no such file in \(user)'s share: /\(remote)")
        }
    }

    /// Uploads the regular file `local` to `remote` (checked by the caller) in 4 MiB ranges.
    public func upload(
        _ user: String, from local: String, to remote: String,
        progress: @escaping (Int64, Int64) -> Void
    ) throws -> (share: String, account: String, bytes: Int64) {
        let found = try userShare(user)
        let n = try azure().client(found.account).upload(
            localPath: local, share: found.share, remotePath: remote, progress: progress)
        return (found.share, found.account.name, n)
    }

    public struct SASGrant: Sendable {
        public let share: String
        public let account: String
        public let url: String
        public let permissions: String
    }

    /// A service SAS for the user's share, or for the file `path` in it: `permissions` (default `rl` for the
    /// share, `r` for a file), from `start` to `expiry` (Unix seconds, checked by the caller), https only.
    public func sas(_ user: String, path: String?, permissions: String?, start: Int, expiry: Int, ip: String?) throws
        -> SASGrant
    {
        let found = try userShare(user)
        let acct = found.account
        let share = found.share
        let resource: SAS.Resource
        if let path {
            let p = FilePathRules.normalize(path)
            if let problem = FilePathRules.problem(with: p), !p.isEmpty {
                throw OrchestratorError(.invalidArgument, "--path \(path): \(problem)")
            }
            guard !p.isEmpty else {
                throw OrchestratorError(.invalidArgument, "--path must name a file inside the share")
            }
            resource = .file(share: share, path: p)
        } else {
            resource = .share(share)
        }
        let letters = permissions ?? (path == nil ? "rl" : "r")
        guard let perms = SAS.canonicalPermissions(letters, for: resource) else {
            throw OrchestratorError(
                .invalidArgument, "--permissions \(letters) is not valid here",
                hint: path == nil ? "a share SAS takes letters from r c w d l" : "a file SAS takes letters from r c w d"
            )
        }
        let fields = SAS.ServiceFields(
            permissions: perms, start: SAS.timestamp(start), expiry: SAS.timestamp(expiry), ip: ip,
            protocolName: "https")
        let token = SAS.serviceToken(key: acct.endpoint.key, resource: resource, fields: fields)
        var url = acct.endpoint.baseURL + "/" + share
        if case .file(_, let p) = resource { url += "/" + PercentEncoding.encodePath(p) }
        return SASGrant(share: share, account: acct.name, url: url + "?" + token, permissions: perms)
    }

    /// Every account's users' shares against its cap (`pus-mount accounts`; one List Shares each).
    public func accountUsage() throws -> [AzureStorage.AccountUsage] { try azure().usage() }

    /// What `provision` made sure of.
    public enum Provisioned: Sendable {
        case directory(path: String, created: Bool)
        /// The share, and with `[blob] enabled` the container beside it.
        case share(AzureStorage.Provisioned, container: AzureStorage.ProvisionedContainer?)
        /// `provision --blob`: the container only.
        case container(AzureStorage.ProvisionedContainer)
    }

    /// Ensures the user's storage exists: the local directory, or the share (located first; never over a
    /// restorable deleted one) with quota and owner metadata, an explicit quota converged; with `[blob]
    /// enabled` the container too, in the share's account. `containerOnly`: `provision --blob`.
    public func provision(_ user: ResolvedUser, quotaGiB: Int?, dryRun: Bool, containerOnly: Bool = false) throws
        -> Provisioned
    {
        if containerOnly {
            if quotaGiB != nil {
                throw OrchestratorError(.invalidArgument, "--quota applies to the share, not to --blob")
            }
            return .container(try blob.provision(user))
        }
        try Self.checkQuota(quotaGiB)
        let p = try provider.provision(user, quotaGiB: quotaGiB, dryRun: dryRun)
        if case .share(let share, nil) = p, config.blobEnabled {
            return .share(share, container: try blob.provision(user, shareAccount: share.account))
        }
        return p
    }

    /// A `--quota` the service would refuse, refused first (65).
    static func checkQuota(_ quotaGiB: Int?) throws {
        if let quotaGiB, !ShareQuota.isValid(quotaGiB) {
            throw OrchestratorError(
                .invalidArgument, "--quota \(quotaGiB) is out of range",
                hint: "Azure file shares take \(ShareQuota.rangeText)")
        }
    }

    /// `provision <user> --adopt SHARE [--account NAME]`: an existing share becomes the user's (its metadata is
    /// the record every node's locator reads), under the user's lock so that no attach of the user runs
    /// meanwhile; with `[blob] enabled` the container is ensured beside it.
    public func adopt(_ user: ResolvedUser, share: String, account: String?, quotaGiB: Int?, dryRun: Bool) throws
        -> (AzureStorage.Adopted, container: AzureStorage.ProvisionedContainer?)
    {
        guard config.backend == .azure else {
            throw OrchestratorError(
                .invalidArgument,
                "--adopt takes an Azure file share; this node's backend is \(config.backend.rawValue)",
                hint: "set backend = \"azure\" and its [[azure.accounts]]")
        }
        guard ShareName.isValid(share) else {
            throw OrchestratorError(
                .invalidArgument, "--adopt \(UserPolicy.quoted(share)) is not a valid share name",
                hint: "a share name is 3 to 63 lower-case letters, digits and single inner hyphens")
        }
        try Self.checkQuota(quotaGiB)
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let a = try azure().adopt(
            user: user.name, uid: user.uid, share: share, accountName: account, quotaGiB: quotaGiB,
            now: Clock.unixSeconds())
        onShareLocated?(a.share, a.account)
        return (a, config.blobEnabled ? try blob.provision(user, shareAccount: a.account) : nil)
    }
}
