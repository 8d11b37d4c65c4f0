import AzureFiles
import Foundation
import Glibc
import Synchronization
import SystemSupport

/// The File service subset, synchronous and storage-backed: shares are directories under
/// `<data>/<account>/<share>` (so an SMB server can export them), share properties live in
/// `<data>/<account>/.emulator/`. One lock serialises all storage work; requests are small.
public final class EmulatorCore: Sendable {
    let dataDir: String
    let accounts: [String: [SharedKey]]
    let faults: FaultPlan
    /// Largest listing page (5000 like the service; tests lower it to exercise paging).
    let pageSize: Int
    let lock = Mutex(())
    let counter = Atomic<Int>(0)
    /// Called after a share directory is created or deleted (the end-to-end test regenerates samba's shares).
    let onShareChange: (@Sendable (String, String, Bool) -> Void)?
    /// Clock, replaceable by tests.
    let now: @Sendable () -> Int
    let settings: EmulatorSettings

    public init(
        dataDir: String, accounts: [String: [SharedKey]], faults: FaultPlan = FaultPlan(), pageSize: Int = 5000,
        onShareChange: (@Sendable (String, String, Bool) -> Void)? = nil,
        now: @escaping @Sendable () -> Int = { Clock.unixSeconds() }, settings: EmulatorSettings = EmulatorSettings()
    ) {
        self.settings = settings
        self.dataDir = dataDir
        self.accounts = accounts
        self.faults = faults
        self.pageSize = pageSize
        self.onShareChange = onShareChange
        self.now = now
    }

    /// Requests handled so far.
    public var requestCount: Int { counter.load(ordering: .relaxed) }

    /// The injected latency for the next request in milliseconds (0 for none). The server waits it out without
    /// blocking a thread, so slow requests overlap as they would on the real service.
    public func injectedLatencyMs() -> Int {
        faults.latencyMs > 0 && Double.random(in: 0..<1) < faults.latencyProbability ? faults.latencyMs : 0
    }

    /// Handles one request, faults first (latency excepted: ``injectedLatencyMs()``).
    public func handle(_ r: EmulatorRequest) -> EmulatorResponse {
        counter.add(1, ordering: .relaxed)
        if let fault = injectedFault() { return fault }
        return stamp(lock.withLock { _ in route(r) }, version: Self.requestedVersion(r))
    }

    /// A dropped connection or an injected status for this request, by the fault plan's odds; nil for none.
    func injectedFault() -> EmulatorResponse? {
        if faults.dropProbability > 0, Double.random(in: 0..<1) < faults.dropProbability {
            var resp = EmulatorResponse(status: 500)
            resp.dropConnection = true
            return resp
        }
        for f in faults.statuses where Double.random(in: 0..<1) < f.probability {
            var resp = EmulatorResponse.error(
                f.status,
                f.code.map { AzureError.Code(rawValue: $0) }
                    ?? (f.status == 503
                        ? .serverBusy
                        : (f.status == 500 ? .internalError : AzureError.Code(rawValue: "InjectedFault"))),
                f.message ?? "Injected fault.")
            if let ra = f.retryAfter { resp.headers.append(("Retry-After", ra)) }
            return stamp(resp)
        }
        return nil
    }

    func stamp(_ resp: EmulatorResponse) -> EmulatorResponse { stamp(resp, version: FilesAPI.version) }

    /// The request id, and the version the request executed with (echoed: protocol-2 section 11).
    func stamp(_ resp: EmulatorResponse, version: String) -> EmulatorResponse {
        var r = resp
        r.headers.append(("x-ms-request-id", UUID().uuidString.lowercased()))
        r.headers.append(("x-ms-version", version))
        return r
    }

    /// The 400 for an `x-ms-version` the service does not take (`accepts` says which it does), or for a request
    /// with neither a version nor a SAS; nil when the request may go on. Both services check it first.
    static func versionProblem(_ r: EmulatorRequest, accepts: (String) -> Bool) -> EmulatorResponse? {
        if let v = r.header("x-ms-version"), !accepts(v) {
            return .error(
                400, .invalidHeaderValue, "The value for one of the HTTP headers is not in the correct format.",
                extra: [("HeaderName", "x-ms-version"), ("HeaderValue", v)])
        }
        if r.header("x-ms-version") == nil && r.query["sig"] == nil {
            return .error(
                400, .missingRequiredHeader, "An HTTP header that's mandatory for this request is not specified.",
                extra: [("HeaderName", "x-ms-version")])
        }
        return nil
    }

    /// The version a request executes with: its `x-ms-version`, else a SAS's `sv`, else the emulator's.
    static func requestedVersion(_ r: EmulatorRequest) -> String {
        r.header("x-ms-version") ?? r.query["sv"] ?? FilesAPI.version
    }

    // MARK: routing

    /// The account and the share-relative segments: path-style `/<account>/<share>/<path>` (the emulator's own
    /// form), or host-style with the account as the first label of `Host` (`acct.file.core.windows.net`, as
    /// clients pointed at the emulator through an HTTP proxy send it).
    func address(_ r: EmulatorRequest) -> (account: String, segments: [String])? {
        let segments = r.rawPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if let first = segments.first, accounts[first] != nil { return (first, Array(segments.dropFirst())) }
        if let host = r.header("host"), let label = host.split(separator: ".").first, host.contains(".file."),
            accounts[String(label)] != nil
        {
            return (String(label), segments)
        }
        return nil
    }

    /// The operation's name as the service's REST reference calls it (the per-request log line).
    public static func operationName(_ r: EmulatorRequest) -> String {
        let q = r.query
        let restype = q["restype"]
        let comp = q["comp"]
        let segments = r.rawPath.split(separator: "/").count
        switch (r.method, restype, comp) {
        case ("GET", _, "list") where restype == nil: return "ListShares"
        case ("PUT", "share", nil): return "CreateShare"
        case ("GET", "share", nil), ("HEAD", "share", nil): return "GetShareProperties"
        case ("PUT", "share", "properties"): return "SetShareProperties"
        case ("PUT", "share", "metadata"): return "SetShareMetadata"
        case ("GET", "share", "metadata"), ("HEAD", "share", "metadata"): return "GetShareMetadata"
        case ("PUT", "share", "snapshot"): return "SnapshotShare"
        case ("GET", "share", "stats"): return "GetShareStats"
        case ("DELETE", "share", nil): return "DeleteShare"
        case ("PUT", "share", "undelete"): return "UndeleteShare"
        case ("GET", _, "listhandles"): return "ListHandles"
        case ("GET", "directory", "list"): return "ListDirectoriesAndFiles"
        case ("PUT", "directory", nil): return "CreateDirectory"
        case ("GET", "directory", nil), ("HEAD", "directory", nil): return "GetDirectoryProperties"
        case ("PUT", "directory", "properties"): return "SetDirectoryProperties"
        case ("PUT", "directory", "metadata"): return "SetDirectoryMetadata"
        case ("GET", "directory", "metadata"), ("HEAD", "directory", "metadata"): return "GetDirectoryMetadata"
        case ("PUT", "directory", "rename"): return "RenameDirectory"
        case ("DELETE", "directory", nil): return "DeleteDirectory"
        case ("PUT", nil, nil): return r.header("x-ms-copy-source") != nil ? "CopyFile" : "CreateFile"
        case ("PUT", nil, "range"): return "PutRange"
        case ("GET", nil, "rangelist"): return "ListRanges"
        case ("PUT", nil, "properties"): return "SetFileProperties"
        case ("PUT", nil, "metadata"): return "SetFileMetadata"
        case ("GET", nil, "metadata"), ("HEAD", nil, "metadata"): return "GetFileMetadata"
        case ("PUT", nil, "rename"): return "RenameFile"
        case ("PUT", nil, "copy"): return "AbortCopyFile"
        case ("GET", nil, nil): return "GetFile"
        case ("HEAD", nil, nil): return "GetFileProperties"
        case ("DELETE", nil, nil): return "DeleteFile"
        default: return segments == 0 ? "Unknown" : "Unsupported"
        }
    }

    func route(_ r: EmulatorRequest) -> EmulatorResponse {
        guard let (account, segments) = address(r), let keys = accounts[account] else {
            return .error(400, .invalidUri, "Path-style URL expected: /<account>/<share>/<path>; unknown account.")
        }
        let q = r.query
        if let bad = Self.versionProblem(r, accepts: { ServiceVersions.supported.contains($0) }) { return bad }
        let share = segments.first.map { PercentEncoding.decode($0) }
        let path = segments.dropFirst().map { PercentEncoding.decode($0) }.joined(separator: "/")
        let restype = q["restype"]
        let comp = q["comp"]
        let auth = Authenticator(account: account, keys: keys, now: now())
        func gate(_ anyOf: String, _ scope: Operation.Scope) -> EmulatorResponse? {
            auth.check(r, share: share, path: path, op: Operation(anyOf: anyOf, scope: scope))
        }
        guard let share else {
            guard r.method == "GET", comp == "list" else {
                return .error(400, .invalidQueryParameterValue, "Unsupported account-level operation.")
            }
            if let deny = gate("l", .service) { return deny }
            return listShares(account: account, q: q)
        }
        guard ShareName.isValid(share) else {
            return .error(400, .invalidResourceName, "The specifed resource name contains invalid characters.")
        }
        if let bad = FilePathRules.problem(with: path) { return .error(400, .invalidFileOrDirectoryPathName, bad) }
        let store = ShareStore(root: dataDir, account: account, share: share)
        // Reads may address a share snapshot; the snapshot's files are read where it keeps them.
        var reader = store
        if let snap = q["sharesnapshot"], !snap.isEmpty, r.method == "DELETE", q["restype"] == "share", path.isEmpty {
            if let deny = gate("d", .share) { return deny }
            return deleteSnapshot(store, snap)
        }
        if let snap = q["sharesnapshot"], !snap.isEmpty {
            guard r.method == "GET" || r.method == "HEAD" else {
                return .error(
                    400, .invalidQueryParameterValue, "A share snapshot is read-only.",
                    extra: [("QueryParameterName", "sharesnapshot")])
            }
            guard store.hasSnapshot(snap) else {
                return .error(404, .shareNotFound, "The specified share snapshot does not exist.")
            }
            reader.snapshot = snap
        }
        let copySource = r.header("x-ms-copy-source") != nil && r.header("x-ms-type") == nil
        switch (r.method, restype, comp, path.isEmpty) {
        case ("PUT", "share", nil, true):
            if let deny = gate("cw", .share) { return deny }
            return createShare(store, r)
        case ("GET", "share", nil, true), ("HEAD", "share", nil, true):
            if let deny = gate("r", .share) { return deny }
            return getShareProperties(store, snapshot: q["sharesnapshot"])
        case ("GET", "share", "metadata", true), ("HEAD", "share", "metadata", true):
            if let deny = gate("r", .share) { return deny }
            return getShareMetadata(store, snapshot: q["sharesnapshot"])
        case ("PUT", "share", "properties", true):
            if let deny = gate("w", .share) { return deny }
            return setShareQuota(store, r)
        case ("PUT", "share", "metadata", true):
            if let deny = gate("w", .share) { return deny }
            return setShareMetadata(store, r)
        case ("PUT", "share", "snapshot", true):
            if let deny = gate("cw", .share) { return deny }
            return snapshotShare(store, r)
        case ("GET", "share", "stats", true):
            if let deny = gate("r", .share) { return deny }
            return shareStats(store)
        case ("DELETE", "share", nil, true):
            if let deny = gate("d", .share) { return deny }
            return deleteShare(store, r)
        case ("PUT", "share", "undelete", true):
            if let deny = gate("cw", .share) { return deny }
            return undeleteShare(store, r)
        case ("GET", nil, "listhandles", _):
            if let deny = gate("l", .share) { return deny }
            return listHandles(store, path: path, r)
        case ("GET", "directory", "list", _):
            if let deny = gate("l", .object) { return deny }
            return listDirectory(reader, path: path, r)
        case ("PUT", "directory", nil, false):
            if let deny = gate("cw", .object) { return deny }
            return createDirectory(store, path: path, r)
        case ("GET", "directory", nil, _), ("HEAD", "directory", nil, _):
            if let deny = gate("r", .object) { return deny }
            return directoryProperties(reader, path: path)
        case ("PUT", "directory", "properties", _):
            if let deny = gate("w", .object) { return deny }
            return setProperties(store, path: path, directory: true, r)
        case ("PUT", "directory", "metadata", _):
            if let deny = gate("w", .object) { return deny }
            return setItemMetadata(store, path: path, directory: true, r)
        case ("GET", "directory", "metadata", _), ("HEAD", "directory", "metadata", _):
            if let deny = gate("r", .object) { return deny }
            return getItemMetadata(reader, path: path, directory: true)
        case ("PUT", "directory", "rename", false):
            if let deny = gate("cw", .object) { return deny }
            return rename(store, path: path, directory: true, account: account, r)
        case ("DELETE", "directory", nil, false):
            if let deny = gate("d", .object) { return deny }
            return deleteDirectory(store, path: path)
        case ("PUT", nil, nil, false) where copySource:
            if let deny = gate("cw", .object) { return deny }
            return copyFile(store, path: path, account: account, r, auth: auth)
        case ("PUT", nil, nil, false):
            if let deny = gate("cw", .object) { return deny }
            return createFile(store, path: path, r)
        case ("PUT", nil, "range", false):
            if let deny = gate("w", .object) { return deny }
            return putRange(store, path: path, r)
        case ("PUT", nil, "properties", false):
            if let deny = gate("w", .object) { return deny }
            return setProperties(store, path: path, directory: false, r)
        case ("PUT", nil, "metadata", false):
            if let deny = gate("w", .object) { return deny }
            return setItemMetadata(store, path: path, directory: false, r)
        case ("GET", nil, "rangelist", false):
            if let deny = gate("r", .object) { return deny }
            return listRanges(reader, path: path, r)
        case ("GET", nil, "metadata", false), ("HEAD", nil, "metadata", false):
            if let deny = gate("r", .object) { return deny }
            return getItemMetadata(reader, path: path, directory: false)
        case ("PUT", nil, "rename", false):
            if let deny = gate("cw", .object) { return deny }
            return rename(store, path: path, directory: false, account: account, r)
        case ("PUT", nil, "copy", false):
            if let deny = gate("w", .object) { return deny }
            return abortCopy(store, path: path, r)
        case ("GET", nil, nil, false), ("HEAD", nil, nil, false):
            if let deny = gate("r", .object) { return deny }
            return getFile(reader, path: path, r)
        case ("DELETE", nil, nil, false):
            if let deny = gate("d", .object) { return deny }
            return deleteFile(store, path: path)
        default:
            return .error(
                400, .unsupportedHttpVerb,
                "The emulator does not implement \(r.method) with restype=\(restype ?? "") comp=\(comp ?? "").")
        }
    }

}
