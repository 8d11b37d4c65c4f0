import AzureFiles
import Credentials
import Glibc
import Ledger
import Logging
import Mounting
import Storage
import SystemSupport

/// The only code that performs plan steps, through its ports: REST (``AzureStorage``), mounts (``Mounter``),
/// files (credentials, ledger, local directories). A run keeps an undo journal: when a step fails, what this
/// run did is undone in reverse (a mount it made is unmounted, a credentials file or mountpoint it created is
/// removed, the ledger entry it pre-recorded is restored), so a failed attach leaves nothing behind.
public final class Executor {
    let config: Config
    let mounter: any Mounter
    let inspector: Inspector
    let ledger: LedgerStore
    let credentials: CredentialsStore
    /// The provider of a backend: the node hands in its own right after creating the executor.
    var provider: (Backend) throws -> StorageProvider = { b in
        throw OrchestratorError(.notConfigured, "no provider for backend \(b)")
    }
    /// The REST side: the node hands in its own (built on first use) right after creating the executor.
    var azure: () throws -> AzureStorage = {
        throw OrchestratorError(.notConfigured, "no REST side was given to the executor")
    }
    let logger: Logger
    let fakeMounts: Bool
    let clock: () -> Int

    public init(
        config: Config, mounter: any Mounter, inspector: Inspector, ledger: LedgerStore, credentials: CredentialsStore,
        logger: Logger, fakeMounts: Bool, clock: @escaping () -> Int
    ) {
        self.config = config
        self.mounter = mounter
        self.inspector = inspector
        self.ledger = ledger
        self.credentials = credentials
        self.logger = logger
        self.fakeMounts = fakeMounts
        self.clock = clock
    }

    /// Whose steps these are: a user's (ledger entry steps) or a volume's (its record), or the node's.
    public enum Subject: Sendable {
        case user(ResolvedUser)
        case volume(String)
        case node

        var label: String {
            switch self {
            case .user(let u): return u.name
            case .volume(let v): return "volume \(v)"
            case .node: return "node"
            }
        }
    }

    /// What a run did that can be undone.
    enum Undo {
        case removeCredentials(String)
        case removeDirectory(String)
        /// Unmount whatever is mounted at the target unless it was there before (its mount id).
        case unmountIfNew(target: String, previous: Int?)
        /// Put back the user's ledger entry as it was (nil: remove it) unless a mount remains at `mountpoint`.
        case restoreEntry(user: String, entry: Ledger.Entry?, mountpoint: String)
        /// Put back the credentials file's previous content (a rewrite replaced it).
        case restoreCredentials(path: String, CredentialsFile)
        /// Undelete the newest deleted version of the share (a Delete Share this run sent).
        case undeleteNewest(share: String, account: String)
        /// Delete the share again (an Undelete Share this run sent).
        case deleteAgain(share: String, account: String)
        /// Restore the newest deleted version of the container (a Delete Container this run sent).
        case restoreNewestContainer(container: String, account: String)
        /// Delete the container again (a Restore Container this run sent).
        case deleteContainerAgain(container: String, account: String)
        /// Put back the share's metadata as it was.
        case setMetadata(share: String, account: String, [(String, String)])
        /// Put back the user's ledger record (a forget this run did).
        case putEntry(user: String, Ledger.Entry)
        /// Rename the ledger set aside back (while no new one was written).
        case putLedgerBack(from: String)
    }

    /// The lock the current run holds (the subject's), handed on to mount and unmount children.
    var held: [Int32] = []

    /// How a run ended when it did not throw.
    public struct Outcome: Sendable {
        /// The user's lease count after an `addLease` (else 0).
        public var leases = 0
        /// Set when an unmount met a busy mount: the run stopped there, the mount stays (see ``MountBusy``).
        public var busy: MountBusy?
    }

    /// Performs `steps` for `subject`, under `lock` (the subject's lock, which mount children inherit so that a
    /// mount outliving this process still holds it). On failure undoes this run's work in reverse and rethrows
    /// the first error. An unmount that finds the mount busy is no failure: the run stops there (what a step
    /// before it journaled is undone, a user's entry stays mounted and is marked idle) and the outcome says so.
    @discardableResult
    public func run(_ steps: [Step], for subject: Subject, holding lock: FileLock?) throws -> Outcome {
        held = lock.map { [$0.descriptor] } ?? []
        defer { held = [] }
        var journal: [Undo] = []
        var leases = 0
        do {
            for step in steps {
                logger.debug("\(subject.label): \(step)")
                do {
                    if let n = try perform(step, subject, &journal) { leases = n }
                } catch let busy as MountBusy {
                    for u in journal.reversed() { undo(u) }
                    if case .user = subject {
                        try updateEntry(subject) { e, now in Self.applyLedgerOnly(.markIdle, to: &e, now: now) }
                    }
                    logger.info("\(subject.label): \(busy.target) stays mounted: \(busy.reason)")
                    return Outcome(leases: leases, busy: busy)
                }
            }
            return Outcome(leases: leases)
        } catch {
            logger.debug("\(subject.label): failed (\(error)); undoing \(journal.count) step(s)")
            for u in journal.reversed() { undo(u) }
            throw error
        }
    }

    func perform(_ step: Step, _ subject: Subject, _ journal: inout [Undo]) throws -> Int? {
        switch step {
        case .ensureStorage(let t):
            guard case .user(let u) = subject else { preconditionFailure("storage belongs to a user") }
            try provider(t.backend).ensure(t, for: u)
        case .writeCredentials(let path, let accountName):
            let az = try azure()
            guard let a = az.account(named: accountName) else {
                throw OrchestratorError(
                    .notConfigured, "account \(accountName) is not configured",
                    hint: "add it back to [[azure.accounts]] or detach its users")
            }
            let existed = (try? Syscalls.linkStatus(path)) != nil
            let previous = existed ? try credentials.read(path: path) : nil
            try credentials.write(
                CredentialsFile(username: a.name, password: a.keys.key1, password2: a.keys.key2), to: path)
            if let previous {
                journal.append(.restoreCredentials(path: path, previous))
            } else if !existed {
                journal.append(.removeCredentials(path))
            }
        case .prepareMountpoint(let path):
            if try prepareMountpoint(path) { journal.append(.removeDirectory(path)) }
        case .prepareVolumeMountpoint(let path):
            if try prepareVolumeMountpoint(path) { journal.append(.removeDirectory(path)) }
        case .recordIntent(let t):
            guard case .user(let u) = subject else { preconditionFailure("an intent record needs a user") }
            let now = clock()
            let previous = try ledger.update { l -> Ledger.Entry? in
                let old = l.entries[u.name]
                var e = old ?? Self.newEntry(u, t, now: now)
                Self.setRecord(&e, t)
                e.mounted = false
                e.uid = u.uid
                e.gid = u.gid
                e.updatedAt = now
                l.entries[u.name] = e
                return old
            }
            journal.append(.restoreEntry(user: u.name, entry: previous, mountpoint: t.spec.target))
        case .mount(let t):
            let before = MountTable.mount(at: t.spec.target, in: (try? inspector.table()) ?? [])?.id
            journal.append(.unmountIfNew(target: t.spec.target, previous: before))
            try mount(t)
        case .addLease(let lease, let dropping, let mounted):
            guard case .user(let u) = subject else { preconditionFailure("a lease needs a user") }
            return try ledger.update { l -> Int in
                guard var e = l.entries[u.name] ?? mounted.map({ Self.newEntry(u, $0, now: lease.createdAt) }) else {
                    throw OrchestratorError(
                        .failed, "no ledger record for \(u.name) to add the lease to", hint: "attach again")
                }
                if let t = mounted {
                    Self.setRecord(&e, t)
                    e.keyID = t.keyID
                }
                e.uid = u.uid
                e.gid = u.gid
                e.mounted = true
                e.idleSince = nil
                e.leases.removeAll { $0.session == lease.session || dropping.contains($0.session) }
                e.leases.append(lease)
                e.updatedAt = lease.createdAt
                l.entries[u.name] = e
                return e.leases.count
            }
        case .dropLeases, .markIdle, .markUnmounted:
            try updateEntry(subject) { e, now in Self.applyLedgerOnly(step, to: &e, now: now) }
        case .recordMounted(let t):
            try updateEntry(subject) { e, _ in
                Self.setRecord(&e, t)
                e.keyID = t.keyID
                e.mounted = true
            }
        case .unmount(let target, _):
            try unmountEscalating(target, keepBusy: true)
        case .unmountLazily(let target, _):
            try unmountLazily(target)
        case .removeCredentials(let path):
            _ = try credentials.remove(path: path)
        case .removeMountpoint(let path):
            if MountTable.mount(at: path, in: try inspector.table()) == nil { _ = try Syscalls.rmdirIfEmpty(path) }
        case .recordVolume(let v):
            try ledger.update { l in l.volumes[v.name] = v }
        case .forgetVolume(let name):
            try ledger.update { l in l.volumes[name] = nil }
        case .deleteShare(let share, let account):
            try client(account).deleteShare(share, includeSnapshots: true)
            journal.append(.undeleteNewest(share: share, account: account))
        case .restoreShare(let share, let account, let version):
            try client(account).undeleteShare(share, version: version)
            journal.append(.deleteAgain(share: share, account: account))
        case .checkShareOwner(let share, let account):
            guard case .user(let u) = subject else { preconditionFailure("an owner check needs a user") }
            try azure().checkOwner(
                try client(account).getShareProperties(share).metadata, user: u.name, share: share, account: account)
        case .markAbandoned(let share, let account):
            let c = try client(account)
            let before = try c.getShareProperties(share).metadata.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            try c.setShareMetadata(
                share,
                metadata: (before.filter { $0.0 != "pus_abandoned" } + [("pus_abandoned", String(clock()))]).sorted {
                    $0.0 < $1.0
                })
            journal.append(.setMetadata(share: share, account: account, before))
        case .deleteContainer(let container, let account):
            try blobClient(account).deleteContainer(container)
            journal.append(.restoreNewestContainer(container: container, account: account))
        case .restoreContainer(let container, let account, let version):
            try blobClient(account).restoreContainer(container, version: version)
            journal.append(.deleteContainerAgain(container: container, account: account))
        case .checkContainerOwner(let container, let account):
            guard case .user(let u) = subject else { preconditionFailure("an owner check needs a user") }
            try azure().checkContainerOwner(
                try blobClient(account).getContainerProperties(container).metadata, user: u.name,
                container: container, account: account)
        case .forgetUser:
            guard case .user(let u) = subject else { preconditionFailure("forgetting a record needs a user") }
            if let old = try ledger.update({ l in l.entries.removeValue(forKey: u.name) }) {
                journal.append(.putEntry(user: u.name, old))
            }
        case .setLedgerAside(let dest):
            try ledger.moveAside(to: dest)
            journal.append(.putLedgerBack(from: dest))
        case .writeLedger(let rebuilt):
            try ledger.update { $0 = rebuilt }
        }
        return nil
    }

    /// The REST client of a configured account.
    func client(_ accountName: String) throws -> FilesClient { try azure().client(try account(accountName)) }

    func blobClient(_ accountName: String) throws -> BlobClient { try azure().blobClient(try account(accountName)) }

    func account(_ name: String) throws -> AccountSpec {
        guard let a = try azure().account(named: name) else {
            throw OrchestratorError(
                .notConfigured, "account \(name) is not configured", hint: "add it back to [[azure.accounts]]")
        }
        return a
    }

    func undo(_ u: Undo) {
        switch u {
        case .removeCredentials(let path):
            _ = try? credentials.remove(path: path)
        case .removeDirectory(let path):
            if MountTable.mount(at: path, in: (try? inspector.table()) ?? []) == nil {
                _ = try? Syscalls.rmdirIfEmpty(path)
            }
        case .unmountIfNew(let target, let previous):
            if fakeMounts {
                _ = try? mounter.unmount(target, lazy: false, deadline: 5, holding: held)
                return
            }
            guard let now = MountTable.mount(at: target, in: (try? inspector.table()) ?? []), now.id != previous else {
                return
            }
            logger.warning("undoing the mount at \(target)")
            do { try unmountEscalating(target) } catch {
                logger.error("could not undo the mount at \(target): \(error)")
            }
        case .restoreEntry(let user, let entry, let mountpoint):
            // A mount that could not be undone keeps its intent record, so reconcile recognises and removes it.
            if !fakeMounts, MountTable.mount(at: mountpoint, in: (try? inspector.table()) ?? []) != nil { return }
            _ = try? ledger.update { l in l.entries[user] = entry }
        case .restoreCredentials(let path, let previous):
            do { try credentials.write(previous, to: path) } catch {
                logger.error("could not put back the credentials file \(path): \(error)")
            }
        case .undeleteNewest(let share, let account):
            do {
                let c = try client(account)
                let deleted = try c.listAllShares(prefix: share, include: [.deleted]).filter {
                    $0.name == share && $0.deleted && $0.version != nil
                }
                guard let newest = deleted.max(by: { ($0.version ?? "") < ($1.version ?? "") })?.version else {
                    logger.error(
                        "share \(share) in account \(account) was deleted and the account keeps no deleted version to restore"
                    )
                    return
                }
                logger.warning(
                    "undoing the deletion of share \(share) in account \(account) (Undelete Share, version \(newest))")
                try c.undeleteShare(share, version: newest)
            } catch {
                logger.error(
                    "could not undo the deletion of share \(share) in account \(account): \(error); `pus-mount undelete` restores it"
                )
            }
        case .deleteAgain(let share, let account):
            logger.warning("undoing the restore of share \(share) in account \(account) (Delete Share)")
            do { try client(account).deleteShare(share, includeSnapshots: true) } catch {
                logger.error("could not delete the restored share \(share) in account \(account) again: \(error)")
            }
        case .restoreNewestContainer(let container, let account):
            do {
                let c = try blobClient(account)
                let deleted = try c.listAllContainers(prefix: container).filter {
                    $0.name == container && $0.deleted && $0.version != nil
                }
                guard let newest = deleted.max(by: { ($0.version ?? "") < ($1.version ?? "") })?.version else {
                    logger.error(
                        "container \(container) in account \(account) was deleted and the account keeps no deleted version to restore"
                    )
                    return
                }
                logger.warning(
                    "undoing the deletion of container \(container) in account \(account) (version \(newest))")
                try c.restoreContainer(container, version: newest)
            } catch {
                logger.error(
                    "could not undo the deletion of container \(container) in account \(account): \(error); `pus-mount undelete --blob` restores it"
                )
            }
        case .deleteContainerAgain(let container, let account):
            logger.warning("undoing the restore of container \(container) in account \(account) (Delete Container)")
            do { try blobClient(account).deleteContainer(container) } catch {
                logger.error(
                    "could not delete the restored container \(container) in account \(account) again: \(error)")
            }
        case .setMetadata(let share, let account, let metadata):
            do { try client(account).setShareMetadata(share, metadata: metadata) } catch {
                logger.error("could not put back the metadata of share \(share) in account \(account): \(error)")
            }
        case .putEntry(let user, let entry):
            _ = try? ledger.update { l in l.entries[user] = entry }
        case .putLedgerBack(let dest):
            do { if try ledger.moveBack(from: dest) { logger.warning("put the ledger back from \(dest)") } } catch {
                logger.error("could not put the ledger back from \(dest): \(error)")
            }
        }
    }

    /// Applies `body` to the subject user's entry (if any), stamping `updatedAt` when it changed.
    func updateEntry(_ subject: Subject, _ body: @escaping (inout Ledger.Entry, Int) -> Void) throws {
        guard case .user(let u) = subject else { preconditionFailure("ledger entry steps need a user") }
        let now = clock()
        try ledger.update { l in
            guard var e = l.entries[u.name] else { return }
            let before = e
            body(&e, now)
            if e != before { e.updatedAt = now }
            l.entries[u.name] = e
        }
    }

    static func newEntry(_ u: ResolvedUser, _ t: MountTarget, now: Int) -> Ledger.Entry {
        var e = Ledger.Entry(
            user: u.name, uid: u.uid, gid: u.gid, backend: t.backend, account: t.account, share: t.share,
            source: t.spec.source, mountpoint: t.spec.target, optionsDigest: t.optionsDigest,
            credentialsPath: t.credentialsPath, mounted: false, leases: [], now: now)
        e.keyID = t.keyID
        return e
    }

    static func setRecord(_ e: inout Ledger.Entry, _ t: MountTarget) {
        e.backend = t.backend
        e.account = t.account
        e.share = t.share
        e.source = t.spec.source
        e.mountpoint = t.spec.target
        e.optionsDigest = t.optionsDigest
        e.credentialsPath = t.credentialsPath
    }

    // MARK: mounts

    var mountDeadline: Double { Double(config.mountTimeoutSeconds) }

    /// mount(2) through the mounter with the deadline, then a check that the mount is in the table and is
    /// the one the target describes (its provider judges).
    func mount(_ t: MountTarget) throws {
        let spec = t.spec
        do {
            try mounter.mount(spec, deadline: mountDeadline, holding: held)
        } catch let e as MountError {
            if e.timedOut {
                throw OrchestratorError(
                    .timedOut,
                    "mount of \(spec.source) on \(spec.target) did not complete within mount.timeout_seconds = \(config.mountTimeoutSeconds) s",
                    hint: e.hint)
            }
            throw OrchestratorError(
                .mountFailed, "mount of \(spec.source) on \(spec.target) failed: \(e.detail)", hint: e.hint)
        }
        guard !fakeMounts else { return }
        let record = MountRecord(backend: t.backend, source: spec.source, mountpoint: spec.target)
        switch inspector.presence(of: record, in: try inspector.table()) {
        case .ours: return
        case .absent:
            throw OrchestratorError(
                .mountFailed, "mount of \(spec.source) on \(spec.target) reported success but is not in the mount table"
            )
        case .foreign(let m):
            throw OrchestratorError(
                .mountFailed, "after mounting, \(spec.target) shows \(Inspector.shownSource(m)) on top")
        }
    }

    /// A normal unmount with a deadline (in a child, so a dead server cannot hang us), then a lazy one. With
    /// `keepBusy`, a mount the kernel reports busy (EBUSY: processes still use it) stays and ``MountBusy`` names
    /// who holds it; a server that does not answer in time, or another failure, still ends in a lazy unmount
    /// (nothing can use a mount whose server is gone).
    func unmountEscalating(_ target: String, keepBusy: Bool = false) throws {
        let deadline = Double(min(config.mountTimeoutSeconds, 30))
        do {
            try mounter.unmount(target, lazy: false, deadline: deadline, holding: held)
            return
        } catch let e as MountError {
            if fakeMounts { return }
            if keepBusy && !e.timedOut && (e.syscallErrno == EBUSY || e.helperErrno == EBUSY) {
                throw MountBusy(target: target, holders: holders(of: target))
            }
            logger.warning(
                "normal unmount of \(target) failed (\(e.timedOut ? "no answer within \(Int(deadline)) s" : e.detail)); detaching lazily"
            )
        }
        try unmountLazily(target)
    }

    /// The processes holding the mount at `target` (empty when none is found or nothing is mounted there).
    func holders(of target: String) -> [MountHolder] {
        guard let m = MountTable.mount(at: target, in: (try? inspector.table()) ?? []) else { return [] }
        return MountHolders.scan([m.id: target])[m.id] ?? []
    }

    /// MNT_DETACH: the mount leaves the namespace now, whatever the server does.
    func unmountLazily(_ target: String) throws {
        do {
            try mounter.unmount(target, lazy: true, deadline: 5, holding: held)
        } catch let e as MountError {
            if fakeMounts || MountTable.mount(at: target, in: (try? inspector.table()) ?? []) == nil { return }
            throw OrchestratorError(.mountFailed, "unmount of \(target) failed: \(e.detail)", hint: e.hint)
        }
    }

    /// The mountpoint's parent 0755 root; the mountpoint a root-owned 0000 directory while unmounted. Refuses
    /// a symlink and a non-empty directory (something wrote to the local disk). True when it created it.
    func prepareMountpoint(_ path: String) throws -> Bool {
        let parent = AtomicFile.directory(of: path)
        if try Syscalls.linkStatus(parent) == nil { try Syscalls.mkdirs(parent, mode: 0o755) }
        if let st = try Syscalls.linkStatus(path) {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw OrchestratorError(
                    .mountFailed, "mountpoint \(path) exists and is not a directory (a symlink or file planted there?)",
                    hint: "move it away; pus-mount creates the mountpoint itself")
            }
            if !(try Syscalls.directoryEntries(path).isEmpty) {
                throw OrchestratorError(
                    .mountFailed, "mountpoint \(path) is not empty and nothing is mounted there",
                    hint: "move its contents away (they were written to the local disk), then attach again")
            }
            if st.st_uid != 0 || st.st_gid != 0 { try Syscalls.chown(path, uid: 0, gid: 0) }
            if st.st_mode & 0o7777 != 0 { try Syscalls.chmod(path, mode: 0) }
            return false
        }
        try Syscalls.mkdir(path, mode: 0)
        try Syscalls.chown(path, uid: 0, gid: 0)
        return true
    }

    /// A volume's mountpoint: created 0755 with its parents; a symlink or a non-empty directory is refused.
    func prepareVolumeMountpoint(_ path: String) throws -> Bool {
        if let st = try Syscalls.linkStatus(path) {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw OrchestratorError(
                    .mountFailed, "volume mountpoint \(path) exists and is not a directory", hint: "move it away")
            }
            if !(try Syscalls.directoryEntries(path).isEmpty) {
                throw OrchestratorError(
                    .mountFailed, "volume mountpoint \(path) is not empty and nothing is mounted there",
                    hint: "move its contents away")
            }
            return false
        }
        try Syscalls.mkdirs(path, mode: 0o755)
        return true
    }
}

/// A normal unmount the kernel refused with EBUSY: processes (a tmux or nohup job that outlived its session)
/// still use the mount. It stays mounted and is reported (`busy, no lease`); reconcile unmounts it once
/// nothing holds it; only `detach --force` detaches it lazily.
public struct MountBusy: Error, Sendable, CustomStringConvertible {
    public let target: String
    public let holders: [MountHolder]

    public init(target: String, holders: [MountHolder]) {
        self.target = target
        self.holders = holders
    }

    /// "busy, held by pid 4242 (tmux)" or, when no process is found, what else may hold it.
    public var reason: String {
        if holders.isEmpty {
            return "busy (no process was found using it: a mount below it, or a process in another mount namespace?)"
        }
        let shown = holders.prefix(8).map { "\($0.pid) (\($0.command))" }.joined(separator: ", ")
        return
            "busy, held by pid\(holders.count == 1 ? "" : "s") \(shown)\(holders.count > 8 ? " and \(holders.count - 8) more" : "")"
    }

    public var description: String { "\(target) is \(reason)" }
}

extension Executor {
    /// Applies a ledger-only step to an entry: the one copy of these steps, used by ``perform`` and by
    /// reconcile's batched repairs (many users under one ledger write).
    static func applyLedgerOnly(_ step: Step, to e: inout Ledger.Entry, now: Int) {
        let before = e
        switch step {
        case .dropLeases(let sessions, _): e.leases.removeAll { sessions.contains($0.session) }
        case .markIdle: if e.idleSince == nil { e.idleSince = now }
        case .markUnmounted:
            if e.leases.isEmpty {
                e.mounted = false
                e.idleSince = nil
            }
        default: preconditionFailure("\(step) is not a ledger-only step")
        }
        if e != before { e.updatedAt = now }
    }
}
