import AzureFiles
import Storage
import SystemSupport

/// `where <user>` (issue 19, item 3): which clients hold open handles on the user's share, from the service
/// (List Handles, recursive), so an operator can answer "who still uses this share" without logging in to every
/// node.
extension Node {
    /// One client of the share.
    public struct ShareClient: Sendable {
        /// The client's address as the service saw it (without the port).
        public let address: String
        /// From the configuration's `[nodes]` map, else the service's ClientName, else a reverse lookup (unless
        /// disabled); nil when none names it.
        public let name: String?
        /// Open handles of this client on the share.
        public let handles: Int
        /// The earliest OpenTime among them, as the service wrote it.
        public let oldestOpen: String?
        /// One of this node's own interface addresses.
        public let isThisNode: Bool
    }

    public struct WhereReport: Sendable {
        public let share: String
        public let account: String
        public let clients: [ShareClient]
        /// True when the listing stopped at `limit` handles.
        public let more: Bool
    }

    /// The clients with open handles on the user's share (owner-checked), busiest first; `resolve` looks up a
    /// name for an address the service gave none.
    public func whereMounted(_ user: String, limit: Int = 10_000, resolve: Bool = true) throws -> WhereReport {
        let found = try userShare(user)
        let (handles, more) = try azure().client(found.account).listHandles(share: found.share, limit: limit)
        let local = Net.localAddresses()
        var byAddress: [String: [FilesClient.Handle]] = [:]
        for h in handles { byAddress[Self.address(ofClient: h.clientIP), default: []].append(h) }
        let clients = byAddress.map { address, hs -> ShareClient in
            let given = knownName(ofClient: address, given: hs.lazy.map(\.clientName).first { !$0.isEmpty })
            let oldest = hs.compactMap { h in RFC1123Time(h.openTime) }.min().map(\.text)
            return ShareClient(
                address: address, name: given ?? (resolve ? Net.reverseName(address) : nil), handles: hs.count,
                oldestOpen: oldest ?? hs.first?.openTime, isThisNode: local.contains(address))
        }.sorted { ($0.handles, $1.address) > ($1.handles, $0.address) }
        return WhereReport(share: found.share, account: found.account.name, clients: clients, more: more)
    }

    /// A client's name without a lookup: the configuration's `[nodes]` map, else the service's ClientName.
    /// `where` and deprovision's refusal name clients alike.
    func knownName(ofClient address: String, given: String?) -> String? {
        Net.canonicalAddress(address).flatMap { config.nodeNames[$0] } ?? given
    }

    /// `10.0.0.5:49999` → `10.0.0.5`, `[fe80::1]:445` → `fe80::1`; anything else as given.
    static func address(ofClient text: String) -> String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            return String(text[text.index(after: text.startIndex)..<close])
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy(\.isNumber) { return String(parts[0]) }
        return text
    }
}

/// An RFC 1123 time kept with its text, ordered by the time (the service's OpenTime).
struct RFC1123Time: Comparable {
    let seconds: Int
    let text: String
    init?(_ text: String) {
        guard let s = CivilTime.parseRFC1123(text) else { return nil }
        seconds = s
        self.text = text
    }
    static func < (a: RFC1123Time, b: RFC1123Time) -> Bool { a.seconds < b.seconds }
}
