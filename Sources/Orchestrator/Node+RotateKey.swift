import AzureFiles
import Credentials
import Glibc
import Ledger
import Mounting
import Storage
import SystemSupport

/// rotate-key: the key files were edited (the new key added as key2, or key1 and key2 swapped); carry the
/// change to every credentials file of the account and, where the kernel allows, to live mounts.
///
/// The zero-downtime order (pus-mount(8), KEY ROTATION): 1. write the account's other key as line 2 of the
/// key file and run rotate-key (credentials hold both, new mounts can use either); 2. swap the lines so the
/// new key is key1 and run rotate-key again (new mounts lead with it; live mounts get it as password2 on
/// Linux 6.10+); 3. remount what the report lists (or let reconcile remount idle mounts); 4. regenerate the
/// old key in Azure.
extension Node {
    public struct RotateReport: Sendable {
        public struct Account: Sendable {
            public var name: String
            public var key1ID: String
            public var key2ID: String?
            public var credentialsRewritten: [String] = []
            /// Live mounts given the current key1 as password2 (they survive the old key's regeneration).
            public var refreshed: [String] = []
            /// Live mounts still on an old key that could not be refreshed, and why: remount them before the
            /// old key is regenerated.
            public var mustRemount: [(mountpoint: String, reason: String)] = []
            /// Live mounts already made with key1.
            public var current: [String] = []
            /// Recorded mountpoints where something else is mounted now (not the recorded source): left alone,
            /// never handed a key.
            public var notOurs: [(mountpoint: String, source: String)] = []
        }
        public var accounts: [Account]
        public var kernel: String
        public var kernelHasPassword2: Bool
        public var dryRun: Bool
    }

    public func rotateKey(account only: String?, dryRun: Bool, executable: String) throws -> RotateReport {
        let az = try azure()
        let chosen =
            try only.map { name in
                guard let a = az.account(named: name) else {
                    throw OrchestratorError(
                        .invalidArgument, "--account \(name) is not in [[azure.accounts]]",
                        hint: "configured: \(az.accounts.map(\.name).joined(separator: ", "))")
                }
                return [a]
            } ?? az.accounts
        // Every key must be one the service accepts before anything is rewritten: a typo in a key file would
        // otherwise break every new mount of the account.
        for a in chosen {
            for (which, key) in [("key1", a.keys.key1)] + (a.keys.key2.map { [("key2", $0)] } ?? []) {
                do { try az.verify(key: key, of: a) } catch {
                    throw OrchestratorError(
                        .keyRejected,
                        "\(which) of account \(a.name) is not accepted by the service (\(ErrorText.short(error))); nothing was rewritten",
                        hint:
                            "copy the key exactly from the Azure portal (Access keys) into the key file, then run rotate-key again"
                    )
                }
            }
        }
        let release = KeyRefresh.kernelRelease
        let canRefresh = KeyRefresh.kernelHasPassword2(release: release)
        let ledgerNow = try healedLedger(dryRun: dryRun).ledger
        let table = try inspector.table()
        var reports: [RotateReport.Account] = []
        for a in chosen {
            var r = RotateReport.Account(name: a.name, key1ID: a.keys.key1ID, key2ID: a.keys.key2.map(KeyFile.id))
            // (credentials file, mountpoint, key the mount was made with, mounted, its cifs options when the
            // configuration still makes the same ones) of every user and volume on it. A remount replaces all of
            // a cifs mount's settings, so it must repeat them (uid, gid, modes, sec...).
            typealias Item = (
                path: String?, mountpoint: String, source: String, keyID: String?, mounted: Bool, options: String?
            )
            func user(_ e: Ledger.Entry) -> Item? {
                guard e.account == a.name else { return nil }
                let t = try? target(for: ResolvedUser(name: e.user, uid: e.uid, gid: e.gid), entry: e)
                return (
                    e.credentialsPath, e.mountpoint, e.source, e.keyID, e.mounted,
                    t.flatMap { $0.optionsDigest == e.optionsDigest ? $0.spec.options : nil }
                )
            }
            func volume(_ v: Ledger.Volume) -> Item? {
                guard v.account == a.name else { return nil }
                let t = config.volumes.first { $0.name == v.name }.flatMap { try? volumeTarget($0) }
                return (
                    v.credentialsPath, v.mountpoint, v.source, v.keyID, v.mounted,
                    t.flatMap { $0.optionsDigest == v.optionsDigest ? $0.spec.options : nil }
                )
            }
            // A credentials file is rewritten when its mount is live or the file exists; only those subjects are
            // locked (a lock is an open descriptor: not one for every user the ledger ever knew).
            func rewrites(_ path: String?, mounted: Bool) -> Bool {
                guard let path else { return false }
                return mounted || (try? Syscalls.linkStatus(path)) != nil
            }
            let userLocks = Dictionary(
                uniqueKeysWithValues: ledgerNow.entries.values.filter {
                    $0.account == a.name && rewrites($0.credentialsPath, mounted: $0.mounted)
                }.map {
                    ($0.user, lockPath(user: $0.user))
                })
            let volumeLocks = Dictionary(
                uniqueKeysWithValues: ledgerNow.volumes.values.filter {
                    $0.account == a.name && rewrites($0.credentialsPath, mounted: $0.mounted)
                }.map {
                    ($0.name, lockPath(volume: $0.name))
                })

            // 1. Every credentials file of the account, rewritten as one plan run under the lock of each user and
            // volume on it (taken in path order; attach and detach take one of them at a time), from the records
            // read again under those locks: an attach or detach in progress finishes first, and what it changed
            // is what gets the key (issue 15, item 1). A failure half-way puts the files already rewritten back.
            var rewrite: [String] = []
            do {
                var held: [FileLock] = []
                defer { withExtendedLifetime(held) {} }
                if !dryRun {
                    try Syscalls.mkdirs(locksDirectory, mode: 0o700)
                    for path in Set(userLocks.values).union(volumeLocks.values).sorted() {
                        held.append(try FileLock.acquire(path: path, timeout: lockTimeout))
                    }
                }
                let fresh = dryRun ? ledgerNow : try ledger.read()
                let items =
                    fresh.entries.values.filter { userLocks[$0.user] != nil }.compactMap(user)
                    + fresh.volumes.values.filter { volumeLocks[$0.name] != nil }.compactMap(volume)
                for i in items.sorted(by: { $0.mountpoint < $1.mountpoint }) {
                    if let path = i.path, rewrites(path, mounted: i.mounted) { rewrite.append(path) }
                }
                try perform(
                    rewrite.map { .writeCredentials(path: $0, account: a.name) }, for: .node, holding: nil,
                    dryRun: dryRun)
            }
            r.credentialsRewritten = rewrite

            // 2. Live mounts get the key (password2) each under its own lock, from its record read again.
            let work: [(lock: String, fresh: () throws -> Item?, item: Item)] =
                ledgerNow.entries.values.compactMap { e in
                    user(e).map {
                        (lockPath(user: e.user), { try self.ledger.read().entries[e.user].flatMap(user) }, $0)
                    }
                }
                + ledgerNow.volumes.values.compactMap { v in
                    volume(v).map {
                        (lockPath(volume: v.name), { try self.ledger.read().volumes[v.name].flatMap(volume) }, $0)
                    }
                }
            for w in work.sorted(by: { $0.item.mountpoint < $1.item.mountpoint }) {
                var held: FileLock?
                var item = w.item
                if !dryRun {
                    held = try FileLock.acquire(path: w.lock, timeout: lockTimeout)
                    guard let now = try w.fresh() else { continue }
                    item = now
                }
                defer { withExtendedLifetime(held) {} }
                let (_, mountpoint, source, keyID, mounted, options) = item
                guard mounted, let live = table.last(where: { $0.target == mountpoint }) else { continue }
                // The same identity rule as status and reconcile: only the recorded source at the recorded
                // mountpoint is ours. A mount someone put there (another server, another share) never gets the key.
                var cache: [String: MountEntry?] = [:]
                guard
                    case .ours = MountIdentity.presence(
                        of: MountRecord(backend: .azure, source: source, mountpoint: mountpoint), top: live,
                        cache: &cache, sameDirectory: inspector.sameDirectory)
                else {
                    r.notOurs.append((mountpoint, live.source))
                    continue
                }
                if keyID == r.key1ID {
                    r.current.append(mountpoint)
                } else if !canRefresh {
                    r.mustRemount.append(
                        (
                            mountpoint,
                            "kernel \(release) has no cifs password2 (Linux 6.10+); the mount keeps its established session"
                        ))
                } else if options == nil {
                    r.mustRemount.append(
                        (
                            mountpoint,
                            "its options differ from what the configuration makes now (option drift); a remount would change them"
                        ))
                } else if dryRun {
                    r.refreshed.append(mountpoint)
                } else {
                    do {
                        try KeyRefresh.setPassword2(
                            target: mountpoint, options: options!, vfsOptions: live.vfsOptions, key: a.keys.key1,
                            executable: executable, deadline: Double(config.mountTimeoutSeconds))
                        r.refreshed.append(mountpoint)
                    } catch {
                        r.mustRemount.append((mountpoint, "remount with password2 failed: \(ErrorText.short(error))"))
                    }
                }
            }
            reports.append(r)
        }
        return RotateReport(accounts: reports, kernel: release, kernelHasPassword2: canRefresh, dryRun: dryRun)
    }
}

/// One line of an error for reports (secrets redacted).
enum ErrorText {
    static func short(_ error: any Error) -> String {
        let text = (error as? any ExplainedError).map(\.message) ?? String(describing: error)
        return Redaction.redact(String(text.split(separator: "\n").first ?? ""))
    }
}
