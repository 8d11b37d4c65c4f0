/// Share-level operations (Create/Get/Set/Delete Share, List Shares, Stats, Snapshot).
extension FilesClient {
    /// The outcome of ``createShare(_:quotaGiB:metadata:)``.
    public enum CreateOutcome: Sendable, Equatable { case created, alreadyExists }

    /// Create Share with quota and metadata in the same request. 409 ShareAlreadyExists is reported, not thrown.
    public func createShare(_ share: String, quotaGiB: Int?, metadata: [(String, String)]) throws -> CreateOutcome {
        var headers: [(String, String)] = []
        if let quotaGiB { headers.append(("x-ms-share-quota", String(quotaGiB))) }
        for (k, v) in metadata { headers.append(("x-ms-meta-" + k, v)) }
        do {
            try perform(
                "create share \(share)", method: "PUT", path: Self.sharePath(share), query: [("restype", "share")],
                headers: headers, expect: [201])
            return .created
        } catch let e as AzureError where e.status == 409 && e.code == .shareAlreadyExists {
            return .alreadyExists
        }
    }

    /// Share properties: quota and metadata (names lower-cased as HTTP delivers them).
    public struct ShareProperties: Sendable {
        public var quotaGiB: Int?
        public var metadata: [String: String]
        public var etag: String?
        public var lastModified: String?

        public init(quotaGiB: Int?, metadata: [String: String], etag: String? = nil, lastModified: String? = nil) {
            self.quotaGiB = quotaGiB
            self.metadata = metadata
            self.etag = etag
            self.lastModified = lastModified
        }
    }

    /// Get Share Properties.
    public func getShareProperties(_ share: String) throws -> ShareProperties {
        let r = try perform(
            "get share properties \(share)", method: "GET", path: Self.sharePath(share),
            query: [("restype", "share")], expect: [200])
        var meta: [String: String] = [:]
        for (k, v) in r.headers where k.hasPrefix("x-ms-meta-") { meta[String(k.dropFirst(10))] = v }
        return ShareProperties(
            quotaGiB: r.headers["x-ms-share-quota"].flatMap { Int($0) }, metadata: meta,
            etag: r.headers["etag"], lastModified: r.headers["last-modified"])
    }

    /// Set Share Properties with only the quota.
    public func setShareQuota(_ share: String, quotaGiB: Int) throws {
        try perform(
            "set quota of \(share)", method: "PUT", path: Self.sharePath(share),
            query: [("restype", "share"), ("comp", "properties")], headers: [("x-ms-share-quota", String(quotaGiB))],
            expect: [200])
    }

    /// Set Share Metadata (replaces all metadata).
    public func setShareMetadata(_ share: String, metadata: [(String, String)]) throws {
        try perform(
            "set metadata of \(share)", method: "PUT", path: Self.sharePath(share),
            query: [("restype", "share"), ("comp", "metadata")],
            headers: metadata.map { ("x-ms-meta-" + $0.0, $0.1) }, expect: [200])
    }

    /// Delete Share; with `includeSnapshots` its snapshots go too (`x-ms-delete-snapshots: include`).
    public func deleteShare(_ share: String, includeSnapshots: Bool) throws {
        try perform(
            "delete share \(share)", method: "DELETE", path: Self.sharePath(share), query: [("restype", "share")],
            headers: includeSnapshots ? [("x-ms-delete-snapshots", "include")] : [], expect: [202])
    }

    /// Get Share Stats: approximate usage in bytes.
    public func getShareStats(_ share: String) throws -> Int64 {
        let r = try perform(
            "get stats of \(share)", method: "GET", path: Self.sharePath(share),
            query: [("restype", "share"), ("comp", "stats")], expect: [200])
        guard let v = XMLElement.parse(r.body)?.text(of: "ShareUsageBytes"), let n = Int64(v) else {
            throw AzureError(
                status: r.status, code: .none, message: "unreadable ShareStats body", operation: "get stats of \(share)"
            )
        }
        return n
    }

    /// Snapshot Share; returns the snapshot timestamp (`x-ms-snapshot`).
    public func createSnapshot(_ share: String, metadata: [(String, String)] = []) throws -> String {
        let r = try perform(
            "snapshot \(share)", method: "PUT", path: Self.sharePath(share),
            query: [("restype", "share"), ("comp", "snapshot")], headers: metadata.map { ("x-ms-meta-" + $0.0, $0.1) },
            expect: [201])
        return r.headers["x-ms-snapshot"] ?? ""
    }

    /// Delete Share of one snapshot (`sharesnapshot=`): the share and its other snapshots stay.
    public func deleteSnapshot(_ share: String, snapshot: String) throws {
        try perform(
            "delete snapshot \(snapshot) of \(share)", method: "DELETE", path: Self.sharePath(share),
            query: [("restype", "share"), ("sharesnapshot", snapshot)], expect: [202])
    }

    /// The share's snapshots (List Shares with `include=snapshots,metadata`), oldest first.
    public func listSnapshots(_ share: String) throws -> [ShareItem] {
        try listAllShares(prefix: share, include: [.metadata, .snapshots]).filter {
            $0.name == share && $0.snapshot != nil && !$0.deleted
        }.sorted { ($0.snapshot ?? "") < ($1.snapshot ?? "") }
    }

    /// One share in a listing.
    public struct ShareItem: Sendable {
        public var name: String
        public var snapshot: String?
        public var quotaGiB: Int?
        public var metadata: [String: String]
        /// A soft-deleted share (`include=deleted`): its version (for Undelete Share), when it was deleted and
        /// for how many more days it can be restored.
        public var deleted = false
        public var version: String?
        public var deletedTime: String?
        public var remainingRetentionDays: Int?
    }

    /// What a listing includes besides live shares (`include=`, in the order the SDK sends them).
    public struct ListInclude: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let deleted = ListInclude(rawValue: 1)
        public static let metadata = ListInclude(rawValue: 2)
        public static let snapshots = ListInclude(rawValue: 4)

        var queryValue: String? {
            let names = [(ListInclude.deleted, "deleted"), (.metadata, "metadata"), (.snapshots, "snapshots")].filter {
                contains($0.0)
            }.map(\.1)
            return names.isEmpty ? nil : names.joined(separator: ",")
        }
    }

    /// One page of List Shares.
    public func listShares(
        prefix: String?, include: ListInclude = [], maxResults: Int? = nil,
        marker: String? = nil
    ) throws -> (shares: [ShareItem], nextMarker: String?) {
        var q: [(String, String)] = [("comp", "list")]
        if let prefix { q.append(("prefix", prefix)) }
        if let marker { q.append(("marker", marker)) }
        if let maxResults { q.append(("maxresults", String(maxResults))) }
        if let i = include.queryValue { q.append(("include", i)) }
        let r = try perform("list shares", method: "GET", path: "/", query: q, expect: [200])
        guard let root = XMLElement.parse(r.body) else {
            throw AzureError(
                status: r.status, code: .none, message: "unreadable List Shares body", operation: "list shares")
        }
        let items = (root.child("Shares")?.all("Share") ?? []).map { s in
            let props = s.child("Properties")
            return ShareItem(
                name: s.text(of: "Name") ?? "", snapshot: s.text(of: "Snapshot"),
                quotaGiB: props?.text(of: "Quota").flatMap { Int($0) },
                metadata: Dictionary(
                    (s.child("Metadata")?.children ?? []).map { ($0.name.lowercased(), $0.text) },
                    uniquingKeysWith: { a, _ in a }),
                deleted: s.text(of: "Deleted") == "true", version: s.text(of: "Version"),
                deletedTime: props?.text(of: "DeletedTime"),
                remainingRetentionDays: props?.text(of: "RemainingRetentionDays").flatMap { Int($0) })
        }
        let next = root.text(of: "NextMarker").flatMap { $0.isEmpty ? nil : $0 }
        return (items, next)
    }

    /// One authenticated request (List Shares, maxresults=1) for preflight checks: the service's `Date` and
    /// request id.
    public func probe() throws -> (date: String?, requestID: String?) {
        let r = try perform(
            "list shares (probe)", method: "GET", path: "/", query: [("comp", "list"), ("maxresults", "1")],
            expect: [200])
        return (r.headers["date"], r.headers["x-ms-request-id"])
    }

    /// Every page of List Shares.
    public func listAllShares(prefix: String?, include: ListInclude = []) throws -> [ShareItem] {
        var all: [ShareItem] = []
        var marker: String?
        var pages = ListingPages(operation: "list shares")
        repeat {
            let page = try listShares(prefix: prefix, include: include, marker: marker)
            all += page.shares
            marker = try pages.next(page.nextMarker)
        } while marker != nil
        return all
    }

    /// Undelete Share: restores a soft-deleted share (its data, metadata and snapshots) under its own name.
    /// 409 ShareAlreadyExists when a share of that name exists again.
    public func undeleteShare(_ share: String, version: String) throws {
        try perform(
            "undelete share \(share)", method: "PUT", path: Self.sharePath(share),
            query: [("restype", "share"), ("comp", "undelete")],
            headers: [("x-ms-deleted-share-name", share), ("x-ms-deleted-share-version", version)], expect: [201])
    }

    /// One open SMB handle (List Handles).
    public struct Handle: Sendable, Equatable {
        public var id: String
        public var path: String
        public var clientIP: String
        public var clientName: String
        public var openTime: String
    }

    /// Open SMB handles on the share (recursively, from the root), up to `limit`; `more` when there are more
    /// than that. Each page is one List Handles request.
    public func listHandles(share: String, limit: Int = 100) throws -> (handles: [Handle], more: Bool) {
        var handles: [Handle] = []
        var marker: String?
        var pages = ListingPages(operation: "list handles of \(share)")
        repeat {
            var q: [(String, String)] = [("comp", "listhandles")]
            if let marker { q.append(("marker", marker)) }
            q.append(("maxresults", String(max(1, min(limit - handles.count, 5000)))))
            let r = try perform(
                "list handles of \(share)", method: "GET", path: Self.sharePath(share), query: q,
                headers: [("x-ms-recursive", "true")], expect: [200])
            guard let root = XMLElement.parse(r.body) else {
                throw AzureError(
                    status: r.status, code: .none, message: "unreadable List Handles body",
                    operation: "list handles of \(share)")
            }
            handles += (root.child("Entries")?.all("Handle") ?? []).map { h in
                Handle(
                    id: h.text(of: "HandleId") ?? "", path: h.text(of: "Path") ?? "",
                    clientIP: h.text(of: "ClientIp") ?? "",
                    clientName: h.text(of: "ClientName") ?? "", openTime: h.text(of: "OpenTime") ?? "")
            }
            marker = try pages.next(root.text(of: "NextMarker").flatMap { $0.isEmpty ? nil : $0 })
        } while marker != nil && handles.count < limit
        return (Array(handles.prefix(limit)), marker != nil || handles.count > limit)
    }
}
