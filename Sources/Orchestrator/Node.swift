import AzureFiles
import Credentials
import Glibc
import Ledger
import Logging
import Mounting
import Storage
import SystemSupport

/// This node's per-user storage: the facade the commands call. Each operation is: take the user's lock (for the
/// slow work), survey (``Inspector``), plan (``Planner``, pure), perform (``Executor``, with undo). The ledger
/// lock is taken only inside ``LedgerStore/update(_:)``: never across a network call or a mount.
public final class Node {
    public let config: Config
    public let ledger: LedgerStore
    public let credentials: CredentialsStore
    public let local: LocalStore
    public let inspector: Inspector
    public let executor: Executor
    /// A test's stand-in for the REST side (a scripted transport); nil: built from the configuration.
    let azureOverride: (() throws -> AzureStorage)?
    var azureStorage: AzureStorage?
    var providerCache: StorageProvider?
    /// `--dry-run`: mutating REST requests are recorded here instead of sent.
    public var dryRunRecorder: ((HTTPRequest) -> Void)?
    /// Called with the share a REST command works on (share, then account once located): the CLI names them
    /// in the audit line, even when the command fails later.
    public var onShareLocated: ((String, String?) -> Void)?
    let logger: Logger
    let clock: () -> Int
    /// Called after a command rebuilt an unusable ledger by itself (the CLI audits it and logs it to syslog).
    public var onLedgerRebuilt: ((RebuildReport) -> Void)?

    /// The seams to the machine. The real ones are libmount, /proc/self/mountinfo, the probe child and /proc.
    public struct Ports {
        public var mounter: any Mounter
        public var mountTable: any MountTableReader
        public var probe: HealthProbe
        public var processes: any ProcessInspector
        public var sameDirectory: MountIdentity.SameDirectory
        public var clock: () -> Int

        public init(
            mounter: any Mounter, mountTable: any MountTableReader, probe: HealthProbe, processes: any ProcessInspector,
            sameDirectory: @escaping MountIdentity.SameDirectory = MountIdentity.statBoth,
            clock: @escaping () -> Int = Clock.unixSeconds
        ) {
            self.mounter = mounter
            self.mountTable = mountTable
            self.probe = probe
            self.processes = processes
            self.sameDirectory = sameDirectory
            self.clock = clock
        }
    }

    /// `azure` stands in for the REST side in tests; by default it is built from the configuration on first
    /// use (``azure()``).
    public init(
        config: Config, ports: Ports, fakeMounts: Bool = false, azure: (() throws -> AzureStorage)? = nil,
        logger: Logger
    ) {
        self.config = config
        ledger = LedgerStore(path: config.ledgerPath)
        credentials = CredentialsStore(directory: config.credentialsDir)
        local = LocalStore(root: config.localRoot)
        inspector = Inspector(
            mountTable: ports.mountTable, probe: ports.probe, processes: ports.processes,
            sameDirectory: ports.sameDirectory)
        executor = Executor(
            config: config, mounter: ports.mounter, inspector: inspector, ledger: ledger, credentials: credentials,
            logger: logger, fakeMounts: fakeMounts, clock: ports.clock)
        azureOverride = azure
        self.logger = logger
        clock = ports.clock
        executor.azure = { [unowned self] in try self.azure() }
        executor.provider = { [unowned self] b in try self.provider(for: b) }
    }

    // MARK: the REST side

    /// The Azure side: every account's key file read and checked, one client per account (libcurl loaded
    /// only when a request is sent). Built on first use from the configuration.
    public func azure() throws -> AzureStorage {
        if let azureStorage { return azureStorage }
        let s = try azureOverride?() ?? Self.makeAzureStorage(config, logger: logger)
        if let dryRunRecorder { s.dryRunRecorder = dryRunRecorder }
        azureStorage = s
        return s
    }

    static func makeAzureStorage(_ config: Config, logger: Logger) throws -> AzureStorage {
        guard Providers.usesAzureAccounts(config.backend) else {
            throw OrchestratorError(
                .notConfigured, "this command needs backend = \"azure\" (the config uses \"\(config.backend)\")")
        }
        let specs = try config.accounts.map { a in
            try AccountSpec(
                name: a.name, keys: KeyFile.read(a.keyFile), weight: a.weight, endpointSuffix: config.endpointSuffix,
                fileEndpoint: a.fileEndpoint, smbHost: a.smbHost, blobEndpoint: a.blobEndpoint,
                maxShares: a.maxShares, draining: a.draining)
        }
        let retry = RetryPolicy(
            maxAttempts: config.retryMaxAttempts, initialDelay: Double(config.retryInitialDelayMs) / 1000,
            maxDelay: 4, totalBudget: Double(config.retryTotalSeconds))
        return AzureStorage(
            accounts: specs, prefix: config.sharePrefix, makeTransport: { LazyCurlTransport() }, retry: retry,
            logger: logger,
            requestTimeout: Double(config.requestTimeoutSeconds))
    }

    /// REST requests sent so far, and the service's request ids (the audit line).
    public var requestsSent: Int { azureStorage?.requestsSent ?? 0 }
    public var requestIDs: [String] { azureStorage?.requestIDs ?? [] }

    // MARK: targets

    /// The provider the configuration names (``StorageProvider``): every backend decision is its.
    public var provider: StorageProvider {
        if let p = providerCache { return p }
        let p = (try? Providers.make(config.backend, node: self)) ?? LocalDirectoryProvider(node: self)
        providerCache = p
        return p
    }

    /// The provider of `backend` (a ledger record of another backend than the configuration's still has one).
    func provider(for backend: Backend) throws -> StorageProvider {
        backend == provider.backend ? provider : try Providers.make(backend, node: self)
    }

    /// The mount the configuration asks for (the provider's): for a user the ledger knows, the recorded
    /// location is kept.
    public func target(for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget {
        try provider.target(for: user, entry: entry)
    }

    /// The mount a `[[volumes]]` entry asks for: read-only (ro, 0444/0555) unless `read_only = false`.
    public func volumeTarget(_ v: Config.Volume) throws -> MountTarget {
        let az = try azure()
        guard let account = az.account(named: v.account) else {
            throw OrchestratorError(.notConfigured, "volume \(v.name): account \(v.account) is not configured")
        }
        return try cifsTarget(
            account: account, share: v.share, mountpoint: v.mountpoint,
            credentialsPath: credentials.path(for: "volume.\(v.name)"),
            uid: 0, gid: 0, fileMode: v.readOnly ? "0444" : "0644", dirMode: v.readOnly ? "0555" : "0755",
            readOnly: v.readOnly)
    }

    func cifsTarget(
        account: AccountSpec, share: String, mountpoint: String, credentialsPath: String, uid: UInt32, gid: UInt32,
        fileMode: String, dirMode: String, readOnly: Bool
    ) throws -> MountTarget {
        let options: String
        let extra = config.mountOptions(for: account.name).filter { !readOnly || $0 != "rw" }
        do {
            options = try CIFSOptions.build(
                vers: config.vers, credentialsPath: credentialsPath, uid: uid, gid: gid, fileMode: fileMode,
                dirMode: dirMode,
                extra: (readOnly ? ["ro"] : []) + extra)
        } catch let e as CIFSOptions.Invalid {
            throw OrchestratorError(.notConfigured, e.description, hint: "fix the value in the configuration")
        }
        return MountTarget(
            backend: .azure, account: account.name, share: share, localDirectory: nil, credentialsPath: credentialsPath,
            spec: MountSpec(
                source: "//\(account.smbHost)/\(share)", target: mountpoint, fstype: "cifs", options: options),
            optionsDigest: Self.digest(options), keyID: account.keys.key1ID)
    }

    static func digest(_ s: String) -> String { String(Crypto.hex(Crypto.sha256(Array(s.utf8))).prefix(16)) }
    /// The digest of a bind mount's options, the same for every local user.
    static let bindDigest = digest("bind")

    /// The record of a ledger entry.
    static func record(_ e: Ledger.Entry) -> MountRecord {
        MountRecord(backend: e.backend, source: e.source, mountpoint: e.mountpoint)
    }

    // MARK: locks

    var locksDirectory: String { config.stateDir + "/locks" }
    /// How long a command waits for a user's lock: longer than a mount may take.
    public var lockTimeout: Double { Double(config.mountTimeoutSeconds) + 30 }

    func lockPath(user: String) -> String { "\(locksDirectory)/\(user).lock" }
    func lockPath(volume: String) -> String { "\(locksDirectory)/+volume-\(volume).lock" }

    /// The user's lock, waiting up to ``lockTimeout`` (then exit 75).
    func userLock(_ user: String) throws -> FileLock {
        try Syscalls.mkdirs(locksDirectory, mode: 0o700)
        return try FileLock.acquire(path: lockPath(user: user), timeout: lockTimeout)
    }

    /// Runs a plan's `steps` for `subject` through the executor (its undo journal), under `lock`. A dry run
    /// performs only the steps whose request the REST side records instead of sending
    /// (``Step/isRecordedInDryRun``): nothing changes, and the requests are the plan's evidence.
    func perform(_ steps: [Step], for subject: Executor.Subject, holding lock: FileLock?, dryRun: Bool) throws {
        try executor.run(dryRun ? steps.filter(\.isRecordedInDryRun) : steps, for: subject, holding: lock)
    }

    /// The lock at `path` if it is free now (reconcile never waits for a busy user).
    func tryLock(_ path: String) throws -> FileLock? {
        try Syscalls.mkdirs(locksDirectory, mode: 0o700)
        return try FileLock.attempt(path: path)
    }

    // MARK: attach

    /// The outcome of an attach.
    public struct AttachResult: Sendable {
        public let plan: Plan
        public let mountpoint: String
        public let leases: Int
        public let mounted: Bool
    }

    /// Plans (and unless `dryRun`, performs) an attach under the user's lock.
    public func attach(_ user: ResolvedUser, session: String, pid: Int32?, dryRun: Bool) throws -> AttachResult {
        var pidStart: UInt64?
        if let pid {
            guard let st = inspector.processes.startTime(of: pid) else {
                throw OrchestratorError(
                    .invalidArgument, "--pid \(pid): no such process",
                    hint: "pass the pid of the session's leader process")
            }
            pidStart = st
        }
        guard Self.validSession(session) else {
            throw OrchestratorError(
                .invalidArgument, "--session \(UserPolicy.quoted(session)) is not a valid session id",
                hint: "1-128 characters from letters, digits, '.', '_', ':', '@', '-'")
        }
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let entry = try healedLedger(dryRun: dryRun).ledger.entries[user.name]
        var t = try target(for: user, entry: entry)
        t = try provider.locate(t, for: user, entry: entry)
        let table = try inspector.table()
        let recorded = entry.map { inspector.state(of: Self.record($0), in: table) } ?? .absent
        let atTarget: MountState
        if let e = entry, Self.record(e) == t.record {
            atTarget = recorded
        } else if case .ours(.ok) = recorded {
            atTarget = .absent
        } else {
            atTarget = inspector.state(of: t.record, in: table)
        }
        let dead = inspector.check(entry?.leases ?? []).filter { !$0.isAlive && $0.lease.session != session }.map(
            \.lease.session)
        let lease = Ledger.Lease(
            session: session, pid: pid, pidStartTime: pidStart, bootID: inspector.bootID, createdAt: clock())
        let plan = try Planner.attach(
            target: t, entry: entry, recorded: recorded, atTarget: atTarget, lease: lease, dead: dead)
        for n in plan.notes { logger.debug("\(user.name): \(n)") }
        let mp = plan.mountpoint ?? t.spec.target
        if dryRun {
            let kept =
                (entry?.leases.count ?? 0) - dead.count
                - (entry?.leases.contains { $0.session == session } == true ? 1 : 0)
            return AttachResult(plan: plan, mountpoint: mp, leases: kept + 1, mounted: false)
        }
        let leases = try executor.run(plan.steps, for: .user(user), holding: lock).leases
        return AttachResult(plan: plan, mountpoint: mp, leases: leases, mounted: plan.mounts)
    }

    static func validSession(_ s: String) -> Bool {
        (1...128).contains(s.utf8.count)
            && s.unicodeScalars.allSatisfy {
                $0.isASCII
                    && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".:_@-".unicodeScalars.contains($0))
            } && !s.hasPrefix("-")
    }

    // MARK: detach

    public struct DetachResult: Sendable {
        public let plan: Plan
        public let remainingLeases: Int
        public let unmounted: Bool
        /// The last lease went and the mount stays for `mount.linger_seconds`.
        public let lingering: Bool
        /// The last lease went but processes still use the mount: it stays (reconcile unmounts it later).
        public let busy: MountBusy?
    }

    /// The user a detach works on: `resolve` (NSS and the policy), or, for a user deleted from NSS while mounted,
    /// the ledger's record, so the mount can still be released. The name is checked first, and a name the ledger
    /// does not know stays an unknown user.
    public func userForDetach(_ name: String, resolve: (String) throws -> ResolvedUser) throws -> ResolvedUser {
        do {
            return try resolve(name)
        } catch let e as OrchestratorError where e.reason == .unknownUser && UserPolicy.problem(with: name) == nil {
            guard let entry = try ledger.read().entries[name], !config.denyUsers.contains(name) else { throw e }
            logger.warning("\(name) no longer resolves through NSS; detaching with the ledger's uid \(entry.uid)")
            return ResolvedUser(name: name, uid: entry.uid, gid: entry.gid)
        }
    }

    /// Drops the lease(s) and the user's dead ones; unmounts the recorded mount when no live lease remains.
    /// Never deletes data: at most an empty mountpoint goes.
    /// With `force` the mount goes lazily (MNT_DETACH) even while processes use it, and no linger applies.
    public func detach(_ user: ResolvedUser, sessions: [String], all: Bool, force: Bool = false, dryRun: Bool) throws
        -> DetachResult
    {
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let entry = try healedLedger(dryRun: dryRun).ledger.entries[user.name]
        let table = try inspector.table()
        let state: MountState
        let mountpoint: String
        let credentialsPath: String?
        if let e = entry {
            state = inspector.state(of: Self.record(e), in: table)
            mountpoint = e.mountpoint
            credentialsPath = e.credentialsPath
        } else if let t = try? target(for: user, entry: nil) {
            // Nothing recorded: a mount of the target left by an interrupted attach still goes.
            state = inspector.state(of: t.record, in: table)
            mountpoint = t.spec.target
            credentialsPath = t.credentialsPath
        } else {
            state = .absent
            mountpoint = config.mountpoint(for: user.name)
            credentialsPath = nil
        }
        let dead = inspector.check(entry?.leases ?? []).filter { !$0.isAlive }.map(\.lease.session)
        let plan = Planner.detach(
            entry: entry, sessions: sessions, all: all, dead: dead, state: state, mountpoint: mountpoint,
            credentialsPath: credentialsPath, lingerSeconds: config.lingerSeconds, force: force)
        for n in plan.notes { logger.debug("\(user.name): \(n)") }
        let remaining = plan.remainingLeases ?? 0
        let unmounts = plan.steps.contains {
            if case .unmount = $0 { return true }
            if case .unmountLazily = $0 { return true }
            return false
        }
        let lingering = remaining == 0 && !unmounts && state == .ours(.ok) && config.lingerSeconds > 0
        if dryRun {
            return DetachResult(
                plan: plan, remainingLeases: remaining, unmounted: false, lingering: lingering, busy: nil)
        }
        let outcome = try executor.run(plan.steps, for: .user(user), holding: lock)
        return DetachResult(
            plan: plan, remainingLeases: remaining, unmounted: unmounts && outcome.busy == nil, lingering: lingering,
            busy: outcome.busy)
    }

    // MARK: survey

    /// The processes holding each user's mount that no live lease holds (`status`: `busy, no lease`), by user.
    /// One pass over /proc, and none when every mount has a live lease.
    public func holdersOfUnleasedMounts(_ s: NodeSurvey) -> [String: [MountHolder]] {
        var byID: [Int: String] = [:]
        var users: [Int: String] = [:]
        for f in s.users where f.state.isOurs && f.liveLeases.isEmpty {
            guard let m = f.live else { continue }
            byID[m.id] = m.target
            users[m.id] = f.name
        }
        var out: [String: [MountHolder]] = [:]
        for (id, h) in MountHolders.scan(byID) { if let u = users[id] { out[u] = h } }
        return out
    }

    /// The node as `status` shows it. An unreadable ledger does not stop it: the survey then holds the live
    /// mounts under `mount.root` and the ledger's error.
    public func survey(probeHealth: Bool = true) throws -> NodeSurvey {
        var l: Ledger?
        var error: LedgerError?
        do { l = try ledger.read() } catch let e as LedgerError { error = e }
        return try inspector.survey(
            ledger: l, ledgerError: error, config: config, now: clock(), probeHealth: probeHealth)
    }
}
