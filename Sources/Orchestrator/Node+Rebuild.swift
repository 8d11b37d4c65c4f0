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
    /// REST requests sent (Get Share Properties for the owner of each cifs mount).
    public var restRequests: Int
}

extension Node {
    /// Rebuilds the ledger from the live mount table under `mount.root` (source, options) and, for cifs mounts,
    /// the share's `pus_user` metadata. The unusable file is moved aside, never deleted. Every rebuilt entry gets
    /// one lease `recovered` (this boot, no pid), so nothing is unmounted under a running session; `detach --all`
    /// or a later reconcile after the sessions end clears it.
    func rebuildLedger(dryRun: Bool) throws -> RebuildReport {
        let now = clock()
        let moved = dryRun ? nil : try ledger.moveAside(now: now)
        if let moved { logger.warning("moved the unusable ledger aside to \(moved)") }
        let table = try inspector.table()
        var l = Ledger()
        var skipped: [(String, String)] = []
        var requests = 0
        var seen = Set<String>()
        for m in MountTable.children(of: config.mountRoot, in: table).reversed() where !seen.contains(m.target) {
            seen.insert(m.target)
            let name = AtomicFile.basename(of: m.target)
            if let p = UserPolicy.problem(with: name) {
                skipped.append((m.target, "not a user name (\(p))"))
                continue
            }
            let pw = try? Passwd.lookup(name)
            var entry: Ledger.Entry
            if m.fstype == "cifs" || m.fstype == "smb3" {
                let parts = m.source.replacingOccurrences(of: "\\", with: "/").split(separator: "/")
                guard parts.count == 2 else {
                    skipped.append((m.target, "cifs source \(m.source) is not //host/share"))
                    continue
                }
                let host = String(parts[0]), share = String(parts[1])
                guard let az = try? azureProvider() else {
                    skipped.append((m.target, "a cifs mount, but the configuration has no usable [[azure.accounts]]"))
                    continue
                }
                var owner: (AccountSpec, String)?
                var why = "no configured account serves SMB host \(host)"
                for a in az.accounts where a.smbHost.lowercased() == host.lowercased() {
                    do {
                        let props = try az.client(a).getShareProperties(share)
                        if let u = props.metadata["pus_user"], u == name { owner = (a, u) } else {
                            why = "share \(share) belongs to \(props.metadata["pus_user"].map { "user \($0)" } ?? "no pus-mount user"), not \(name)"
                        }
                    } catch {
                        why = "Get Share Properties of \(share) in \(a.name) failed: \(error)"
                    }
                    if owner != nil { break }
                }
                requests = az.requestsSent
                guard let (account, _) = owner else {
                    skipped.append((m.target, why))
                    continue
                }
                let uid = pw?.uid ?? m.fsOption("uid").flatMap { UInt32($0) } ?? 0
                let gid = pw?.gid ?? m.fsOption("gid").flatMap { UInt32($0) } ?? 0
                entry = Ledger.Entry(user: name, uid: uid, gid: gid, backend: "azure", account: account.name, share: share, source: m.source,
                                     mountpoint: m.target, optionsDigest: "rebuilt", credentialsPath: credentials.path(for: share), mounted: true,
                                     leases: [], now: now)
            } else {
                guard let dir = bindSource(m, table: table, name: name) else {
                    skipped.append((m.target, "\(m.fstype) mount whose bound directory cannot be found"))
                    continue
                }
                var st = stat()
                let owner = stat(dir, &st) == 0 ? (st.st_uid, st.st_gid) : (0, 0)
                entry = Ledger.Entry(user: name, uid: pw?.uid ?? owner.0, gid: pw?.gid ?? owner.1, backend: "local", account: nil, share: nil,
                                     source: dir, mountpoint: m.target, optionsDigest: "rebuilt", credentialsPath: nil, mounted: true,
                                     leases: [], now: now)
            }
            // Options as the configuration would make them, when the mount is what it would make.
            if let t = try? target(for: ResolvedUser(name: name, uid: entry.uid, gid: entry.gid), entry: entry),
               MountIdentity.sameSource(t.spec.source, entry.source), t.spec.target == entry.mountpoint {
                entry.optionsDigest = t.optionsDigest
            }
            entry.leases = [Ledger.Lease(session: "recovered", bootID: inspector.bootID, createdAt: now)]
            l.entries[name] = entry
        }
        for v in config.volumes {
            guard let t = try? volumeTarget(v), let m = MountTable.mount(at: v.mountpoint, in: table),
                  m.fstype == "cifs" || m.fstype == "smb3", MountIdentity.sameSource(m.source, t.spec.source) else { continue }
            l.volumes[v.name] = Planner.volumeRecord(v, t, mounted: true, now: now)
        }
        if !dryRun {
            let rebuilt = l
            try ledger.update { $0 = rebuilt }
        }
        return RebuildReport(movedTo: moved, ledger: l, skipped: skipped.reversed(), restRequests: requests)
    }

    /// The directory a bind mount shows: `local.root/<user>` when that is it, else the path of the same
    /// filesystem's other mount that contains the bind's root.
    func bindSource(_ m: MountEntry, table: [MountEntry], name: String) -> String? {
        let guess = local.path(for: name)
        if inspector.sameDirectory(m.target, guess) { return guess }
        let candidates = table.filter {
            $0.device == m.device && $0.target != m.target && !$0.target.hasPrefix(config.mountRoot + "/") && m.root.hasPrefix($0.root)
        }.sorted { $0.root.count > $1.root.count }
        for c in candidates {
            let rest = c.root == "/" ? m.root : String(m.root.dropFirst(c.root.count))
            let path = c.target == "/" ? rest : c.target + rest
            if inspector.sameDirectory(m.target, path) { return path }
        }
        return nil
    }
}
