import AzureFiles
import Glibc
import Ledger
import Mounting
import Storage
import SystemSupport

/// One kind of per-user storage behind one seam: where a user's storage is, what makes it ready, what a mount
/// of it looks like, what doctor checks and what provision does. The node holds the one its configuration
/// names; a new kind (the seed's Blob container) is one more conforming type plus its commands, and no switch
/// on the backend elsewhere.
public protocol StorageProvider: AnyObject {
    static var backend: Backend { get }
    /// The storage lives in the configured `[[azure.accounts]]` (reached over REST, keys in key files).
    static var usesAzureAccounts: Bool { get }
    init(node: Node)

    /// Whether `top`, the topmost mount at a record's mountpoint, is the mount the record describes (judged
    /// by what the ledger recorded, never by today's configuration).
    static func presence(
        of record: MountRecord, top: MountEntry, index: MountIndex?, cache: inout [String: MountEntry?],
        sameDirectory: MountIdentity.SameDirectory
    ) -> MountPresence

    /// The mount `user` gets. For a user the ledger knows on this backend, the recorded location is kept.
    func target(for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget
    /// Before an attach for a user this node's ledger does not know: the storage wherever it already is (the
    /// target moves there, `storageFound`), or a refusal when a new one must not be made. Sends no request
    /// for a user the ledger knows.
    func locate(_ t: MountTarget, for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget
    /// Performs the `.ensureStorage` step: the storage exists afterwards (created with the user as owner).
    func ensure(_ t: MountTarget, for user: ResolvedUser) throws
    /// Doctor's checks for this kind (helpers, kernel support, reachability, key files, directories).
    func checks(_ env: DoctorEnvironment) -> [DoctorCheck]
    /// `provision`: makes sure the user's storage exists (an explicit quota is converged where there is one).
    func provision(_ user: ResolvedUser, quotaGiB: Int?, dryRun: Bool) throws -> Node.Provisioned
    /// For a ledger rebuild: the record of `m`, a mount under mount.root no known record describes, when this
    /// kind made it. nil when the mount is not of this kind; a problem when it is but cannot be claimed.
    func adopt(_ m: MountEntry, user name: String, passwd: PasswdEntry?, table: [MountEntry], now: Int) -> Result<
        Ledger.Entry, PlanningProblem
    >?
}

extension StorageProvider {
    public var backend: Backend { Self.backend }
}

/// The registry of providers: the one place that maps a backend to its implementation.
public enum Providers {
    /// Every kind this pus-mount knows, in the order a ledger rebuild asks them about a mount.
    static var kinds: [any StorageProvider.Type] { [AzureFilesProvider.self, LocalDirectoryProvider.self] }

    static func kind(_ backend: Backend) -> (any StorageProvider.Type)? {
        kinds.first { $0.backend == backend }
    }

    static func make(_ backend: Backend, node: Node) throws -> StorageProvider {
        guard let kind = kind(backend) else {
            throw OrchestratorError(
                .notConfigured, "backend \(backend) is not known to this pus-mount",
                hint: "run the pus-mount that recorded it")
        }
        return kind.init(node: node)
    }

    /// Whether the backend's storage lives in `[[azure.accounts]]` (so the configuration needs one, and REST
    /// requests are part of its plans).
    public static func usesAzureAccounts(_ backend: Backend) -> Bool { kind(backend)?.usesAzureAccounts ?? false }
}

/// A directory per user under `local.root`, bind-mounted.
final class LocalDirectoryProvider: StorageProvider {
    unowned let node: Node
    init(node: Node) { self.node = node }

    static var backend: Backend { .local }
    static var usesAzureAccounts: Bool { false }

    /// A bind mount shows the device as its source: compare the directories themselves. Never stat a network
    /// mount here (it may hang); it cannot be our bind mount anyway.
    static func presence(
        of record: MountRecord, top m: MountEntry, index: MountIndex?, cache: inout [String: MountEntry?],
        sameDirectory: MountIdentity.SameDirectory
    ) -> MountPresence {
        if MountIdentity.isNetwork(m.fstype) { return .foreign(m) }
        if let index, MountIdentity.bindShows(m, directory: record.source, index: index, cache: &cache) {
            return .ours(m)
        }
        return sameDirectory(record.mountpoint, record.source) ? .ours(m) : .foreign(m)
    }

    /// A bind mount whose directory can be found (`local.root/<user>`, or wherever the same file system shows
    /// it), owned as the directory is when the user no longer resolves.
    func adopt(_ m: MountEntry, user name: String, passwd pw: PasswdEntry?, table: [MountEntry], now: Int) -> Result<
        Ledger.Entry, PlanningProblem
    >? {
        guard !MountIdentity.isNetwork(m.fstype) else { return nil }
        guard let dir = node.bindSource(m, table: table, name: name) else {
            return .failure(PlanningProblem("\(m.fstype) mount whose bound directory cannot be found"))
        }
        var st = stat()
        let owner = stat(dir, &st) == 0 ? (st.st_uid, st.st_gid) : (0, 0)
        return .success(
            Ledger.Entry(
                user: name, uid: pw?.uid ?? owner.0, gid: pw?.gid ?? owner.1, backend: .local, account: nil, share: nil,
                source: dir, mountpoint: m.target, optionsDigest: "rebuilt", credentialsPath: nil, mounted: true,
                leases: [], now: now))
    }

    func target(for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget {
        let dir = node.local.path(for: user.name)
        var t = MountTarget(
            backend: .local, account: nil, share: nil, localDirectory: dir, credentialsPath: nil,
            spec: MountSpec(
                source: dir, target: node.config.mountpoint(for: user.name), fstype: "none", options: "bind"),
            optionsDigest: Node.bindDigest)
        // Made sure of on every attach: cheap, and a directory removed behind our back comes back (empty).
        t.readiness = MountTarget.Readiness(
            what: "ensure directory \(dir) (owned by the user, 0700)", restOperation: nil, everyAttach: true)
        return t
    }

    func locate(_ t: MountTarget, for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget { t }

    func ensure(_ t: MountTarget, for user: ResolvedUser) throws {
        _ = try node.local.ensure(user: user.name, uid: user.uid, gid: user.gid)
    }

    func checks(_ env: DoctorEnvironment) -> [DoctorCheck] {
        [Node.directoryCheck("local.root", node.config.localRoot, wantMode: nil)]
    }

    func provision(_ user: ResolvedUser, quotaGiB: Int?, dryRun: Bool) throws -> Node.Provisioned {
        let dir = try node.local.ensure(user: user.name, uid: user.uid, gid: user.gid, dryRun: dryRun)
        return .directory(path: dir.path, created: dir.created)
    }
}

/// An Azure Files share per user, mounted with the kernel's cifs client.
final class AzureFilesProvider: StorageProvider {
    unowned let node: Node
    init(node: Node) { self.node = node }

    static var backend: Backend { .azure }
    static var usesAzureAccounts: Bool { true }

    /// A cifs mount is ours when its source is the recorded `//host/share`.
    static func presence(
        of record: MountRecord, top m: MountEntry, index: MountIndex?, cache: inout [String: MountEntry?],
        sameDirectory: MountIdentity.SameDirectory
    ) -> MountPresence {
        isCifs(m) && MountIdentity.sameSource(m.source, record.source) ? .ours(m) : .foreign(m)
    }

    static func isCifs(_ m: MountEntry) -> Bool { m.fstype == "cifs" || m.fstype == "smb3" }

    /// A cifs mount of `//host/share` whose host a configured account serves and whose share's `pus_user`
    /// metadata names the user (one Get Share Properties per candidate account).
    func adopt(_ m: MountEntry, user name: String, passwd pw: PasswdEntry?, table: [MountEntry], now: Int) -> Result<
        Ledger.Entry, PlanningProblem
    >? {
        guard Self.isCifs(m) else { return nil }
        let parts = m.source.replacingOccurrences(of: "\\", with: "/").split(separator: "/")
        guard parts.count == 2 else { return .failure(PlanningProblem("cifs source \(m.source) is not //host/share")) }
        let host = String(parts[0])
        let share = String(parts[1])
        guard let az = try? node.azure() else {
            return .failure(PlanningProblem("a cifs mount, but the configuration has no usable [[azure.accounts]]"))
        }
        var why = "no configured account serves SMB host \(host)"
        for a in az.accounts where a.smbHost.lowercased() == host.lowercased() {
            do {
                let props = try az.client(a).getShareProperties(share)
                if let u = props.metadata["pus_user"], u == name {
                    let uid = pw?.uid ?? m.fsOption("uid").flatMap { UInt32($0) } ?? 0
                    let gid = pw?.gid ?? m.fsOption("gid").flatMap { UInt32($0) } ?? 0
                    return .success(
                        Ledger.Entry(
                            user: name, uid: uid, gid: gid, backend: .azure, account: a.name, share: share,
                            source: m.source,
                            mountpoint: m.target, optionsDigest: "rebuilt",
                            credentialsPath: node.credentials.path(for: share),
                            mounted: true, leases: [], now: now))
                }
                why =
                    "share \(share) belongs to \(props.metadata["pus_user"].map { "user \($0)" } ?? "no pus-mount user"), not \(name)"
            } catch {
                why = "Get Share Properties of \(share) in \(a.name) failed: \(error)"
            }
        }
        return .failure(PlanningProblem(why))
    }

    func target(for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget {
        try target(for: user, entry: entry, account: nil)
    }

    /// `located` (where the locator found an unrecorded user's share, and its name: an adopted share's is not
    /// the computed one) comes before placement, so adding an account never moves an existing user.
    func target(for user: ResolvedUser, entry: Ledger.Entry?, account located: AccountSpec?, share found: String? = nil)
        throws -> MountTarget
    {
        let az = try node.azure()
        let recorded = entry?.backend == .azure ? entry : nil
        let account: AccountSpec
        if let located {
            account = located
        } else if let name = recorded?.account {
            guard let a = az.account(named: name) else {
                throw OrchestratorError(
                    .notConfigured,
                    "\(user.name)'s share is recorded in account \(name), which is no longer in [[azure.accounts]]",
                    hint: "add the account back (weight = 0 keeps new users off it)")
            }
            account = a
        } else {
            account = az.placement(for: user.name)
        }
        let share = found ?? recorded?.share ?? az.shareName(for: user.name)
        let c = node.config
        var t = try node.cifsTarget(
            account: account, share: share, mountpoint: c.mountpoint(for: user.name),
            credentialsPath: node.credentials.path(for: share),
            uid: user.uid, gid: user.gid, fileMode: c.fileMode, dirMode: c.dirMode, readOnly: false)
        t.readiness = MountTarget.Readiness(
            what:
                "provision share \(share)\(c.blobEnabled ? " and its container" : "") in account \(account.name) (Create Share\(c.blobEnabled ? ", Create Container" : ""); 409 checks the owner)",
            restOperation:
                "Create Share \(share) in account \(account.name) (PUT ?restype=share with quota and pus_user metadata; on 409 Get Share Properties checks the owner)",
            everyAttach: false)
        return t
    }

    func locate(_ t: MountTarget, for user: ResolvedUser, entry: Ledger.Entry?) throws -> MountTarget {
        guard !(entry?.backend == .azure && entry?.account != nil) else { return t }
        let az = try node.azure()
        var t = t
        var found = false
        var versions: ShareVersions?
        if az.mustLocateFirst(recordedAccount: nil) {
            // Nothing recorded on this node: the share may exist in any account (made on another node, or
            // before an account was added). Ask them all before placing the user (under the user's lock,
            // never the ledger's). With one account the listing below asks instead.
            let f = try az.find(user: user.name)
            versions = f.versions
            if let located = f.share {
                t = try target(for: user, entry: entry, account: located.account, share: located.share)
                found = true
            }
        }
        if !found {
            // Nothing recorded here and no share found: never create one over a deleted share that can still be
            // restored (one List Shares per account, only on a node whose ledger does not know the user; the
            // locator's own listing when it made one).
            if let live = try az.refuseOverDeleted(user: user.name, versions: versions) {
                // The listing found the share (one account: nothing was located first; or an adopted share).
                if live.account.name != t.account || live.share != t.share {
                    t = try target(for: user, entry: entry, account: live.account, share: live.share)
                }
                found = true
            } else {
                // A new user: the first account in placement order with room (full and draining ones skipped).
                let home = try az.placeNewUser(user.name)
                if home.name != t.account { t = try target(for: user, entry: entry, account: home) }
            }
        }
        // A found share needs no provisioning step, unless `[blob] enabled`: that step also ensures the
        // container beside it (a node's first attach of the user).
        t.storageFound = found && !node.config.blobEnabled
        return t
    }

    func ensure(_ t: MountTarget, for user: ResolvedUser) throws {
        let az = try node.azure()
        guard let name = t.account, let a = az.account(named: name) else {
            throw OrchestratorError(.notConfigured, "account \(t.account ?? "?") is not configured")
        }
        do {
            try az.create(user: user.name, uid: user.uid, quotaGiB: node.config.quotaGiB, in: a)
        } catch let e as AzureError where AzureStorage.isAccountFull(e) {
            // The mount is planned against this account: the next attempt places the user anew.
            throw StorageError(
                .noCapacity, "account \(a.name) refused a new share for \(user.name) as full (\(e.code))",
                hint: "set max_shares (or draining = true) for \(a.name) so placement skips it, or add an account")
        }
        // `[blob] enabled`: the container beside the share, in the same account (owner-checked on 409).
        if node.config.blobEnabled { try az.createContainer(user: user.name, uid: user.uid, in: a) }
    }

    func checks(_ env: DoctorEnvironment) -> [DoctorCheck] {
        var out = [
            Node.helperCheck(env), Node.kernelCifsCheck(env), node.encryptionCheck(env),
            Node.directoryCheck("credentials directory", node.config.credentialsDir, wantMode: 0o700),
        ]
        do {
            let az = try node.azure()
            for a in az.accounts { out.append(contentsOf: node.accountChecks(a, az, env)) }
        } catch {
            out.append(
                DoctorCheck("key files", .fail, ErrorText.short(error), fix: (error as? any ExplainedError)?.hint))
        }
        return out
    }

    func provision(_ user: ResolvedUser, quotaGiB: Int?, dryRun: Bool) throws -> Node.Provisioned {
        let r = node.recorded(of: user.name)
        return .share(
            try node.azure().provision(
                user: user.name, uid: user.uid, quotaGiB: quotaGiB ?? node.config.quotaGiB,
                explicitQuota: quotaGiB != nil, recordedAccount: r.account, recordedShare: r.share),
            container: nil)
    }
}
