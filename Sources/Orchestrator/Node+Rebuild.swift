import AzureFiles
import Glibc
import Ledger
import Mounting
import Storage
import SystemSupport

/// What `reconcile --rebuild-ledger` found.
public struct RebuildReport: Sendable {
    /// Where the unusable ledger went (`ledger.json.corrupt-<time>`); nil when there was none.
    public var movedTo: String?
    /// The rebuilt ledger (written unless a dry run).
    public var ledger: Ledger
    /// Mounts under `mount.root` that were not taken in, and why.
    public var skipped: [(mountpoint: String, why: String)]
    /// REST requests sent (Get Share Properties for the owner of each cifs mount no known record names).
    public var restRequests: Int
    /// Where the known records and leases came from (the ledger itself when it parses, else its backup).
    public var knownFrom: String?
    /// Leases taken over from there (their holders live), and those dropped (holders gone).
    public var leasesKept = 0
    public var leasesDropped = 0
    /// Users given a `recovered` lease: mounted, but no known record says which sessions hold them.
    public var recovered: [String] = []
}

extension Node {
    /// The ledger for a command that works on it, healed first when it cannot be used: a file that does not
    /// parse or does not match its format, or no file while mounts sit under `mount.root` (or its backup
    /// knows users). The rebuild (``rebuildLedger(dryRun:)``) runs under its own lock, not the ledger's (it
    /// may ask Azure who owns a share), once: a command that waited for it finds the healed ledger. A ledger of
    /// a newer format version is refused as before. With `dryRun` the rebuilt ledger is returned and nothing is
    /// moved or written.
    public func healedLedger(dryRun: Bool = false) throws -> (ledger: Ledger, rebuild: RebuildReport?) {
        if let l = try usableLedger() { return (l, nil) }
        if dryRun {
            let r = try rebuildLedger(dryRun: true)
            return (r.ledger, r)
        }
        try Syscalls.mkdirs(locksDirectory, mode: 0o700)
        let lock = try FileLock.acquire(path: "\(locksDirectory)/+ledger-rebuild.lock", timeout: lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        if let l = try usableLedger() { return (l, nil) }
        let r = try rebuildLedger(dryRun: false)
        if r.movedTo == nil && r.ledger.entries.isEmpty && r.ledger.volumes.isEmpty { return (Ledger(), nil) }
        logger.warning("\(Self.rebuildSummary(r, path: ledger.path))")
        onLedgerRebuilt?(r)
        return (try ledger.read(), r)
    }

    /// One line for the log and syslog.
    public static func rebuildSummary(_ r: RebuildReport, path: String) -> String {
        "rebuilt the unusable ledger \(path) from the mount table and \(r.knownFrom ?? "no earlier copy"): \(r.ledger.entries.count) user(s), "
            + "\(r.leasesKept) lease(s) kept, \(r.leasesDropped) dead one(s) dropped"
            + (r.recovered.isEmpty
                ? "" : ", \(r.recovered.count) user(s) with a `recovered` lease (detach --all clears it)")
            + (r.movedTo.map { "; the bad copy is \($0)" } ?? "")
    }

    /// The ledger when it can be used as it is; nil when it must be rebuilt.
    func usableLedger() throws -> Ledger? {
        do {
            if let l = try ledger.readIfPresent() { return l }
        } catch let e as LedgerError where !Self.isFuture(e) {
            return nil
        }
        // No file: a new node, unless pus-mount has mounts under mount.root or a backup of a ledger says it had users.
        if !MountTable.children(of: config.mountRoot, in: try inspector.table()).isEmpty { return nil }
        if let b = ledger.readBackup(), !b.entries.isEmpty || !b.volumes.isEmpty { return nil }
        return Ledger()
    }

    /// Rebuilds the ledger from the live mount table under `mount.root` and the last known records: the ledger
    /// itself when it still parses (a forced rebuild), else `ledger.json.bak`. A mount a known record describes
    /// (same mountpoint and source) keeps that record and those of its leases whose holders still live, so
    /// every session survives (the last one's detach still unmounts); a known user with live leases and nothing
    /// mounted keeps them too (reconcile remounts). Other mounts are rebuilt from the mount (source, options)
    /// and, for cifs, the share's `pus_user` metadata, with one lease `recovered` (this boot, no pid) so that
    /// nothing is unmounted under a running session. The unusable file is moved aside, never deleted.
    func rebuildLedger(dryRun: Bool) throws -> RebuildReport {
        let now = clock()
        let requestsBefore = requestsSent
        var known: Ledger?
        var knownFrom: String?
        if let current = try? ledger.readIfPresent() {
            (known, knownFrom) = (current, ledger.path)
        } else if let backup = ledger.readBackup() {
            (known, knownFrom) = (backup, ledger.backupPath)
        }
        let aside = try ledger.asidePath(now: now)
        let table = try inspector.table()
        var l = Ledger()
        var skipped: [(String, String)] = []
        var kept = 0
        var dropped = 0
        var recovered: [String] = []
        /// The known leases whose holders live.
        func liveLeases(_ e: Ledger.Entry) -> [Ledger.Lease] {
            let checked = inspector.check(e.leases)
            dropped += checked.filter { !$0.isAlive }.count
            let live = checked.filter(\.isAlive).map(\.lease)
            kept += live.count
            return live
        }
        var seen = Set<String>()
        for m in MountTable.children(of: config.mountRoot, in: table).reversed() where !seen.contains(m.target) {
            seen.insert(m.target)
            let name = AtomicFile.basename(of: m.target)
            if let p = UserPolicy.problem(with: name) {
                skipped.append((m.target, "not a user name (\(p))"))
                continue
            }
            if var e = known?.entries[name], e.mountpoint == m.target,
                case .ours = inspector.presence(of: Self.record(e), in: table)
            {
                e.leases = liveLeases(e)
                e.mounted = true
                l.entries[name] = e
                continue
            }
            let pw = try? Passwd.lookup(name)
            var entry: Ledger.Entry
            switch Providers.kinds.lazy.compactMap({
                $0.init(node: self).adopt(m, user: name, passwd: pw, table: table, now: now)
            }).first {
            case .success(let e)?:
                entry = e
            case .failure(let p)?:
                skipped.append((m.target, p.message))
                continue
            case nil:
                skipped.append(
                    (m.target, "a \(m.fstype) mount of \(m.source), which no kind of pus-mount storage makes"))
                continue
            }
            // Options as the configuration would make them, when the mount is what it would make.
            if let t = try? target(for: ResolvedUser(name: name, uid: entry.uid, gid: entry.gid), entry: entry),
                MountIdentity.sameSource(t.spec.source, entry.source), t.spec.target == entry.mountpoint
            {
                entry.optionsDigest = t.optionsDigest
            }
            entry.leases = [Ledger.Lease(session: "recovered", bootID: inspector.bootID, createdAt: now)]
            recovered.append(name)
            l.entries[name] = entry
        }
        // Known users with live sessions whose mount is gone: kept, so reconcile remounts them.
        for (name, e) in known?.entries ?? [:] where l.entries[name] == nil && !e.leases.isEmpty {
            var c = e
            c.leases = liveLeases(e)
            guard !c.leases.isEmpty else { continue }
            c.mounted = false
            l.entries[name] = c
        }
        for v in config.volumes {
            guard let t = try? volumeTarget(v),
                case .ours = inspector.presence(
                    of: MountRecord(backend: t.backend, source: t.spec.source, mountpoint: v.mountpoint), in: table)
            else { continue }
            l.volumes[v.name] =
                known?.volumes[v.name].map {
                    var r = $0
                    r.mounted = true
                    return r
                } ?? Planner.volumeRecord(v, t, mounted: true, now: now)
        }
        // The plan: the unusable file aside, the rebuilt ledger written; a failure half-way puts the file back.
        // No file and nothing of ours found (only a mount someone else made under mount.root): nothing written.
        let write = !(aside == nil && l.entries.isEmpty && l.volumes.isEmpty)
        try perform(
            (aside.map { [.setLedgerAside(to: $0)] } ?? []) + (write ? [.writeLedger(l)] : []), for: .node,
            holding: nil, dryRun: dryRun)
        let moved = dryRun ? nil : aside
        if let moved { logger.warning("moved the unusable ledger aside to \(moved)") }
        return RebuildReport(
            movedTo: moved, ledger: l, skipped: skipped.reversed(), restRequests: requestsSent - requestsBefore,
            knownFrom: knownFrom,
            leasesKept: kept, leasesDropped: dropped, recovered: recovered.sorted())
    }

    /// The directory a bind mount shows: `local.root/<user>` when that is it, else the path of the same
    /// filesystem's other mount that contains the bind's root.
    func bindSource(_ m: MountEntry, table: [MountEntry], name: String) -> String? {
        let guess = local.path(for: name)
        if inspector.sameDirectory(m.target, guess) { return guess }
        let candidates = table.filter {
            $0.device == m.device && $0.target != m.target && !$0.target.hasPrefix(config.mountRoot + "/")
                && m.root.hasPrefix($0.root)
        }.sorted { $0.root.count > $1.root.count }
        for c in candidates {
            let rest = c.root == "/" ? m.root : String(m.root.dropFirst(c.root.count))
            let path = c.target == "/" ? rest : c.target + rest
            if inspector.sameDirectory(m.target, path) { return path }
        }
        return nil
    }
}
