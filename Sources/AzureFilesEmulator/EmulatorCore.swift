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

    public init(dataDir: String, accounts: [String: [SharedKey]], faults: FaultPlan = FaultPlan(), pageSize: Int = 5000,
                onShareChange: (@Sendable (String, String, Bool) -> Void)? = nil,
                now: @escaping @Sendable () -> Int = { Clock.unixSeconds() }, settings: EmulatorSettings = EmulatorSettings()) {
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
        if faults.dropProbability > 0, Double.random(in: 0..<1) < faults.dropProbability {
            var resp = EmulatorResponse(status: 500)
            resp.dropConnection = true
            return resp
        }
        for f in faults.statuses where Double.random(in: 0..<1) < f.probability {
            var resp = EmulatorResponse.error(f.status, f.status == 503 ? "ServerBusy" : (f.status == 500 ? "InternalError" : "InjectedFault"),
                                              "Injected fault.")
            if let ra = f.retryAfter { resp.headers.append(("Retry-After", ra)) }
            return stamp(resp)
        }
        return stamp(lock.withLock { _ in route(r) })
    }

    func stamp(_ resp: EmulatorResponse) -> EmulatorResponse {
        var r = resp
        r.headers.append(("x-ms-request-id", UUID().uuidString.lowercased()))
        r.headers.append(("x-ms-version", FilesAPI.version))
        return r
    }

    // MARK: routing

    func route(_ r: EmulatorRequest) -> EmulatorResponse {
        let segments = r.rawPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let account = segments.first, let keys = accounts[account] else {
            return .error(400, "InvalidUri", "Path-style URL expected: /<account>/<share>/<path>; unknown account.")
        }
        let share = segments.count > 1 ? PercentEncoding.decode(segments[1]) : nil
        let path = segments.dropFirst(2).map { PercentEncoding.decode($0) }.joined(separator: "/")
        let q = r.query
        let restype = q["restype"], comp = q["comp"]
        let auth = Authenticator(account: account, keys: keys, now: now())
        func gate(_ anyOf: String, _ scope: Operation.Scope) -> EmulatorResponse? {
            auth.check(r, share: share, path: path, op: Operation(anyOf: anyOf, scope: scope))
        }
        guard let share else {
            guard r.method == "GET", comp == "list" else { return .error(400, "InvalidQueryParameterValue", "Unsupported account-level operation.") }
            if let deny = gate("l", .service) { return deny }
            return listShares(account: account, q: q)
        }
        guard ShareName.isValid(share) else { return .error(400, "InvalidResourceName", "The specifed resource name contains invalid characters.") }
        if let bad = FilePathRules.problem(with: path) { return .error(400, "InvalidFileOrDirectoryPathName", bad) }
        let store = ShareStore(root: dataDir, account: account, share: share)
        switch (r.method, restype, comp, path.isEmpty) {
        case ("PUT", "share", nil, true):
            if let deny = gate("cw", .share) { return deny }
            return createShare(store, r)
        case ("GET", "share", nil, true), ("HEAD", "share", nil, true):
            if let deny = gate("r", .share) { return deny }
            return getShareProperties(store, snapshot: q["sharesnapshot"])
        case ("PUT", "share", "properties", true):
            if let deny = gate("w", .share) { return deny }
            return setShareQuota(store, r)
        case ("PUT", "share", "metadata", true):
            if let deny = gate("w", .share) { return deny }
            return setShareMetadata(store, r)
        case ("PUT", "share", "snapshot", true):
            if let deny = gate("cw", .share) { return deny }
            return snapshotShare(store)
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
            return listDirectory(store, path: path, q: q)
        case ("PUT", "directory", nil, false):
            if let deny = gate("cw", .object) { return deny }
            return createDirectory(store, path: path)
        case ("GET", "directory", nil, _), ("HEAD", "directory", nil, _):
            if let deny = gate("r", .object) { return deny }
            return directoryProperties(store, path: path)
        case ("DELETE", "directory", nil, false):
            if let deny = gate("d", .object) { return deny }
            return deleteDirectory(store, path: path)
        case ("PUT", nil, nil, false):
            if let deny = gate("cw", .object) { return deny }
            return createFile(store, path: path, r)
        case ("PUT", nil, "range", false):
            if let deny = gate("w", .object) { return deny }
            return putRange(store, path: path, r)
        case ("GET", nil, nil, false), ("HEAD", nil, nil, false):
            if let deny = gate("r", .object) { return deny }
            return getFile(store, path: path, r)
        case ("DELETE", nil, nil, false):
            if let deny = gate("d", .object) { return deny }
            return deleteFile(store, path: path)
        default:
            return .error(400, "UnsupportedHttpVerb", "The emulator does not implement \(r.method) with restype=\(restype ?? "") comp=\(comp ?? "").")
        }
    }

}
