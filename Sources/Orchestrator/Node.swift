import AzureFiles
import Credentials
import Glibc
import Ledger
import Logging
import Mounting
import Storage
import SystemSupport

/// This node's per-user storage: the executor. It alone performs plan steps, through its ports (REST via
/// ``AzureStorage``, mounts via ``Mounter``, files via the credentials and ledger stores).
/// Locking: a per-user lock for the slow work (REST, mount); the ledger lock only inside LedgerStore.update.
public final class Node {
    public let config: Config
    public let ledger: LedgerStore
    public let credentials: CredentialsStore
    public let local: LocalStore
    let mounter: any Mounter
    let mountinfoPath: String
    let probe: HealthProbe
    let azureProvider: () throws -> AzureStorage
    let logger: Logger
    /// Whether mounts are in libmount fake mode (no mount(2); nothing to verify afterwards).
    let fakeMounts: Bool

    public init(config: Config, mounter: any Mounter, fakeMounts: Bool = false, mountinfoPath: String = MountTable.processTable,
                probe: HealthProbe, azure: @escaping () throws -> AzureStorage, logger: Logger) {
        self.config = config
        ledger = LedgerStore(path: config.ledgerPath)
        credentials = CredentialsStore(directory: config.credentialsDir)
        local = LocalStore(root: config.localRoot)
        self.mounter = mounter
        self.fakeMounts = fakeMounts
        self.mountinfoPath = mountinfoPath
        self.probe = probe
        azureProvider = azure
        self.logger = logger
    }

    // MARK: facts

    /// What the user's mount should be.
    public func target(for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget {
        let mp = config.mountpoint(for: user.name)
        switch config.backend {
        case .local:
            let dir = local.path(for: user.name)
            let options = "bind"
            return MountTarget(backend: .local, account: nil, share: nil, localDirectory: dir, credentialsPath: nil,
                               spec: MountSpec(source: dir, target: mp, fstype: "none", options: options), optionsDigest: Self.digest(options))
        case .azure:
            let az = try azureProvider()
            let account = entry?.account.flatMap { az.account(named: $0) } ?? az.placement(for: user.name)
            let share = az.shareName(for: user.name)
            let cred = credentials.path(for: share)
            let options: String
            do {
                options = try CIFSOptions.build(vers: config.vers, credentialsPath: cred, uid: user.uid, gid: user.gid,
                                                fileMode: config.fileMode, dirMode: config.dirMode, extra: config.mountOptions)
            } catch let e as CIFSOptions.Invalid {
                throw PusError(.config, e.description, hint: "fix the value in the configuration")
            }
            return MountTarget(backend: .azure, account: account.name, share: share, localDirectory: nil, credentialsPath: cred,
                               spec: MountSpec(source: "//\(account.smbHost)/\(share)", target: mp, fstype: "cifs", options: options),
                               optionsDigest: Self.digest(options))
        }
    }

    static func digest(_ s: String) -> String { String(Crypto.hex(Crypto.sha256(Array(s.utf8))).prefix(16)) }

    /// The live mount table.
    public func mountTable() throws -> [MountEntry] { try MountTable.read(path: mountinfoPath) }

    /// What is mounted at the target's mountpoint, and how healthy it is.
    public func state(of t: MountTarget, in table: [MountEntry]) -> MountState {
        guard let m = MountTable.mount(at: t.spec.target, in: table) else { return .absent }
        switch t.backend {
        case .azure:
            guard m.fstype == "cifs", m.source.lowercased() == t.spec.source.lowercased() else {
                return .foreign(source: m.source, fstype: m.fstype)
            }
            return .ours(probe.check(t.spec.target))
        case .local:
            // A bind mount shows the device as its source: identify it by inode instead.
            var a = stat(), b = stat()
            guard stat(t.spec.target, &a) == 0, stat(t.spec.source, &b) == 0, a.st_dev == b.st_dev, a.st_ino == b.st_ino else {
                return .foreign(source: m.source + (m.root == "/" ? "" : "[\(m.root)]"), fstype: m.fstype)
            }
            return .ours(HealthProbe.checkInProcess(t.spec.target))
        }
    }

    func userLock(_ user: String) throws -> FileLock {
        let dir = config.stateDir + "/locks"
        try Syscalls.mkdirs(dir, mode: 0o700)
        return try FileLock.acquire(path: "\(dir)/\(user).lock", timeout: Double(config.mountTimeoutSeconds) + 30)
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
            guard let st = ChildProcess.startTime(of: pid) else {
                throw PusError(.badInput, "--pid \(pid): no such process", hint: "pass the pid of the session's leader process")
            }
            pidStart = st
        }
        guard Self.validSession(session) else {
            throw PusError(.badInput, "--session \(UserPolicy.quoted(session)) is not a valid session id",
                           hint: "1-128 characters from letters, digits, '.', '_', ':', '@', '-'")
        }
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let entry = try ledger.read().entries[user.name]
        let t = try target(for: user, entry: entry)
        let st = state(of: t, in: try mountTable())
        let lease = Ledger.Lease(session: session, pid: pid, pidStartTime: pidStart, createdAt: Clock.unixSeconds())
        let plan = try Planner.attach(target: t, entry: entry, state: st, lease: lease)
        for n in plan.notes { logger.debug("\(user.name): \(n)") }
        if dryRun { return AttachResult(plan: plan, mountpoint: t.spec.target, leases: (entry?.leases.count ?? 0) + 1, mounted: false) }
        let leases = try execute(plan, user: user, target: t)
        return AttachResult(plan: plan, mountpoint: t.spec.target, leases: leases, mounted: plan.mounts)
    }

    static func validSession(_ s: String) -> Bool {
        (1...128).contains(s.utf8.count) && s.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || ".:_@-".unicodeScalars.contains($0))
        } && !s.hasPrefix("-")
    }

    /// Performs an attach plan; on failure undoes what this run did (no stray mount, credentials file,
    /// mountpoint or lease) and rethrows.
    func execute(_ plan: Plan, user: ResolvedUser, target t: MountTarget) throws -> Int {
        var wroteCredentials: String?
        var madeMountpoint: String?
        var mountedHere = false
        do {
            for step in plan.steps {
                logger.debug("\(user.name): \(step)")
                switch step {
                case .provisionShare(let account, _):
                    let az = try azureProvider()
                    _ = try az.provision(user: user.name, uid: user.uid, quotaGiB: config.quotaGiB, explicitQuota: false,
                                         account: az.account(named: account))
                case .ensureLocalDirectory:
                    _ = try local.ensure(user: user.name, uid: user.uid, gid: user.gid)
                case .writeCredentials(let path):
                    let az = try azureProvider()
                    guard let a = t.account.flatMap(az.account(named:)) else { throw PusError(.config, "account \(t.account ?? "?") is not configured") }
                    let existed = (try? Syscalls.linkStatus(path)) != nil
                    try credentials.write(CredentialsFile(username: a.name, password: a.keys.key1, password2: a.keys.key2), share: t.share!)
                    if !existed { wroteCredentials = t.share }
                case .prepareMountpoint(let path):
                    if try prepareMountpoint(path) { madeMountpoint = path }
                case .unmount(let target, _):
                    try unmountEscalating(target)
                case .mount(let spec):
                    try mount(spec, target: t)
                    mountedHere = true
                case .addLease(let lease):
                    return try ledger.update { l in
                        var e = l.entries[user.name] ?? Ledger.Entry(
                            user: user.name, uid: user.uid, gid: user.gid, backend: t.backend.rawValue, account: t.account, share: t.share,
                            source: t.spec.source, mountpoint: t.spec.target, optionsDigest: t.optionsDigest,
                            credentialsPath: t.credentialsPath, mounted: true, leases: [], now: lease.createdAt)
                        if mountedHere || !e.mounted {
                            e.backend = t.backend.rawValue
                            e.account = t.account
                            e.share = t.share
                            e.source = t.spec.source
                            e.mountpoint = t.spec.target
                            e.optionsDigest = t.optionsDigest
                            e.credentialsPath = t.credentialsPath
                        }
                        e.uid = user.uid
                        e.gid = user.gid
                        e.mounted = true
                        e.leases.removeAll { $0.session == lease.session }
                        e.leases.append(lease)
                        e.updatedAt = lease.createdAt
                        l.entries[user.name] = e
                        return e.leases.count
                    }
                default:
                    preconditionFailure("step \(step) does not belong in an attach plan")
                }
            }
            return 0
        } catch {
            logger.debug("\(user.name): attach failed, undoing: \(error)")
            if mountedHere { try? unmountEscalating(t.spec.target) }
            if let share = wroteCredentials { _ = try? credentials.remove(share: share) }
            if let mp = madeMountpoint { _ = try? Syscalls.rmdirIfEmpty(mp) }
            throw error
        }
    }

    /// mount.root 0755 root; the mountpoint a root-owned 0000 directory while unmounted. Refuses a symlink
    /// and a non-empty directory (something wrote to the local disk). Returns true when it created it.
    func prepareMountpoint(_ path: String) throws -> Bool {
        if try Syscalls.linkStatus(config.mountRoot) == nil { try Syscalls.mkdirs(config.mountRoot, mode: 0o755) }
        if let st = try Syscalls.linkStatus(path) {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw PusError(.mountFailed, "mountpoint \(path) exists and is not a directory (a symlink or file planted there?)",
                               hint: "move it away; pus-mount creates the mountpoint itself")
            }
            if !(try Self.isEmptyDirectory(path)) {
                throw PusError(.mountFailed, "mountpoint \(path) is not empty and nothing is mounted there",
                               hint: "move its contents away (they were written to the local disk), then attach again")
            }
            if st.st_uid != 0 || st.st_gid != 0 { try Syscalls.chown(path, uid: 0, gid: 0) }
            if st.st_mode & 0o7777 != 0 { try Syscalls.chmod(path, mode: 0) }
            return false
        }
        try Syscalls.mkdir(path, mode: 0)
        try Syscalls.chmod(path, mode: 0)
        try Syscalls.chown(path, uid: 0, gid: 0)
        return true
    }

    static func isEmptyDirectory(_ path: String) throws -> Bool {
        try Syscalls.directoryEntries(path).isEmpty
    }

    func mount(_ spec: MountSpec, target t: MountTarget) throws {
        do {
            try mounter.mount(spec)
        } catch let e as MountError {
            throw PusError(.mountFailed, "mount of \(spec.source) on \(spec.target) failed: \(e.detail)", hint: e.hint)
        }
        guard !fakeMounts else { return }
        switch state(of: t, in: try mountTable()) {
        case .ours(.ok): return
        case .ours(let h): throw PusError(.mountFailed, "\(spec.target) was mounted but is \(h.rawValue)")
        case .absent: throw PusError(.mountFailed, "mount of \(spec.source) reported success but \(spec.target) is not in the mount table")
        case .foreign(let s, _): throw PusError(.mountFailed, "after mounting, \(spec.target) shows \(s) on top")
        }
    }

    /// Normal unmount with a deadline (in a child, so a dead server cannot hang us), then lazy.
    func unmountEscalating(_ target: String) throws {
        if fakeMounts {
            try? mounter.unmount(target, lazy: false)
            return
        }
        let deadline = Double(min(config.mountTimeoutSeconds, 30))
        if let status = ChildProcess.run(ChildProcess.selfExecutable, ["__unmount", target], deadline: deadline), status == 0 {
            return
        }
        logger.warning("normal unmount of \(target) failed or timed out after \(Int(deadline)) s; detaching lazily")
        do {
            try mounter.unmount(target, lazy: true)
        } catch let e as MountError {
            if MountTable.mount(at: target, in: (try? mountTable()) ?? []) == nil { return }
            throw PusError(.mountFailed, "unmount of \(target) failed: \(e.detail)", hint: e.hint)
        }
    }

    // MARK: detach

    public struct DetachResult: Sendable {
        public let plan: Plan
        public let remainingLeases: Int
        public let unmounted: Bool
    }

    /// Drops the lease(s); unmounts when none remain. Never deletes data: at most an empty mountpoint goes.
    public func detach(_ user: ResolvedUser, sessions: [String], all: Bool, dryRun: Bool) throws -> DetachResult {
        let lock = dryRun ? nil : try userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let entry = try ledger.read().entries[user.name]
        let mp = entry?.mountpoint ?? config.mountpoint(for: user.name)
        let st: MountState
        let table = try mountTable()
        if let e = entry, config.backend.rawValue == e.backend, let t = try? target(for: user, entry: e) {
            st = state(of: t, in: table)
        } else if let m = MountTable.mount(at: mp, in: table) {
            // Identify by the ledger's record when the config changed since.
            st = (entry?.source == m.source || entry?.backend == "local") ? .ours(.ok) : .foreign(source: m.source, fstype: m.fstype)
        } else {
            st = .absent
        }
        let plan = Planner.detach(entry: entry, sessions: sessions, all: all, state: st, mountpoint: mp, lingerSeconds: config.lingerSeconds)
        for n in plan.notes { logger.debug("\(user.name): \(n)") }
        let remaining = plan.remainingLeases ?? 0
        if dryRun { return DetachResult(plan: plan, remainingLeases: remaining, unmounted: false) }
        var unmounted = false
        for step in plan.steps {
            logger.debug("\(user.name): \(step)")
            switch step {
            case .dropLeases(let s):
                try ledger.update { l in
                    l.entries[user.name]?.leases.removeAll { s.contains($0.session) }
                    l.entries[user.name]?.updatedAt = Clock.unixSeconds()
                }
            case .unmount(let target, _):
                try unmountEscalating(target)
                unmounted = true
            case .removeCredentials(let path):
                if AtomicFile.directory(of: path) == credentials.directory {
                    _ = try Syscalls.unlink(path)
                }
            case .removeMountpoint(let path):
                if MountTable.mount(at: path, in: try mountTable()) == nil { _ = try Syscalls.rmdirIfEmpty(path) }
            case .markUnmounted:
                try ledger.update { l in
                    if l.entries[user.name]?.leases.isEmpty == true {
                        l.entries[user.name]?.mounted = false
                        l.entries[user.name]?.updatedAt = Clock.unixSeconds()
                    }
                }
            default:
                preconditionFailure("step \(step) does not belong in a detach plan")
            }
        }
        return DetachResult(plan: plan, remainingLeases: remaining, unmounted: unmounted)
    }
}
