import AzureFiles
import SystemSupport

/// Capacity-aware placement (issue 19, item 1): a new user goes to the first account in rendezvous order that
/// is not draining and has room under its `max_shares`; existing users never move (the locator finds them
/// first, wherever they are).
extension AzureStorage {
    /// The service's answer when an account holds as many shares as it may (Create Share).
    public static func isAccountFull(_ e: AzureError) -> Bool { e.code == .totalSharesCountExceedsAccountLimit }

    /// Users' shares in `account`: one listing, counted once per run (the locator's listing of every share,
    /// when it made one, counts too: ``noteShareCount(_:in:)``).
    public func shareCount(_ account: AccountSpec) throws -> Int {
        if let n = shareCounts[account.name] { return n }
        let items = try client(account).listAllShares(prefix: nil, include: [.metadata])
        noteShareCount(items, in: account)
        return shareCounts[account.name] ?? 0
    }

    /// Counts the users' shares (live, named `<prefix>-...` or adopted) in a listing of every share of
    /// `account`, unless this run counted them already (its own placements are added to that count).
    func noteShareCount(_ items: [FilesClient.ShareItem], in account: AccountSpec) {
        guard shareCounts[account.name] == nil else { return }
        shareCounts[account.name] =
            items.filter {
                $0.snapshot == nil && !$0.deleted
                    && ($0.name.hasPrefix(prefix + "-") || $0.metadata[Self.adoptedKey] != nil)
            }.count
    }

    /// The account a new user's share goes to: the first in ``placementOrder(for:)`` that has room (an account
    /// without `max_shares` is not counted: only the service's own refusal says it is full). Every account full
    /// or draining is a temporary failure (75) naming them, with the fix.
    public func placeNewUser(_ user: String, excluding full: Set<String> = []) throws -> AccountSpec {
        var skipped: [String] = []
        for a in placementOrder(for: user) where !full.contains(a.name) {
            guard let cap = a.maxShares else { return a }
            let n = try shareCount(a)
            if n < cap {
                shareCounts[a.name] = n + 1  // this run's own placement counts (provision of several users)
                return a
            }
            skipped.append("\(a.name) (\(n) of \(cap))")
        }
        let draining = accounts.filter { $0.draining || $0.weight == 0 }.map(\.name)
        let refused = full.sorted()
        var why: [String] = []
        if !skipped.isEmpty { why.append("full: " + skipped.joined(separator: ", ")) }
        if !refused.isEmpty { why.append("refused by the service as full: " + refused.joined(separator: ", ")) }
        if !draining.isEmpty { why.append("draining or weight 0: " + draining.joined(separator: ", ")) }
        throw StorageError(
            .noCapacity,
            "no account can take a new share for \(user) (\(why.joined(separator: "; ")))",
            hint: "add an account to [[azure.accounts]], or raise max_shares where the service allows more")
    }

    /// One account's standing for placement (`pus-mount accounts`, doctor).
    public struct AccountUsage: Sendable {
        public let account: AccountSpec
        /// Users' shares now (nil when the listing failed: `error`).
        public let shares: Int?
        public let error: String?
        public var full: Bool { account.maxShares.map { (shares ?? 0) >= $0 } ?? false }
        public var takesNewUsers: Bool {
            Self.takesNewUsers(
                weight: account.weight, draining: account.draining, maxShares: account.maxShares, shares: shares)
        }

        /// Whether placement sends new users to an account: weight above 0, not draining, not at its cap (an
        /// unknown count counts as 0). The metrics file asks it of the configuration and the last count.
        public static func takesNewUsers(weight: Int, draining: Bool, maxShares: Int?, shares: Int?) -> Bool {
            weight > 0 && !draining && !(maxShares.map { (shares ?? 0) >= $0 } ?? false)
        }
    }

    /// Every account's users' shares against its cap (one listing each).
    public func usage() -> [AccountUsage] { accounts.map(usage(of:)) }

    /// One account's users' shares against its cap.
    public func usage(of a: AccountSpec) -> AccountUsage {
        do { return AccountUsage(account: a, shares: try shareCount(a), error: nil) } catch {
            return AccountUsage(account: a, shares: nil, error: (error as? any ExplainedError)?.message ?? "\(error)")
        }
    }

    /// A service limit (``AzureError/serviceLimit``) one account's answers reported.
    public struct LimitCounter: Hashable, Sendable {
        public let account: String
        public let limit: AzureError.ServiceLimit
        public init(account: String, limit: AzureError.ServiceLimit) {
            self.account = account
            self.limit = limit
        }
    }

    /// Every client's limit answers this run (Files and Blob), counted per account.
    public var limitEvents: [LimitCounter: Int] {
        var sum: [LimitCounter: Int] = [:]
        let all = clients.map { ($0.key, $0.value) } + blobClients.map { ($0.key, $0.value.rest) }
        for (name, c) in all {
            for (limit, n) in c.limitEvents { sum[LimitCounter(account: name, limit: limit), default: 0] += n }
        }
        return sum
    }

    /// Users' shares per account as counted this run (with this run's own placements).
    public var countedShares: [String: Int] { shareCounts }
}
