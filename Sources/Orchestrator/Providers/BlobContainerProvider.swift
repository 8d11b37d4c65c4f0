import AzureFiles
import Glibc
import Storage
import SystemSupport

/// The seed's object half: a private Blob container per user, beside the share (same account, same name, same
/// owner metadata and check; SPEC.md "A container per user"). Not a mount, so not a ``StorageProvider``: the
/// REST commands' `--blob` work is here, each one call that locates the user's container and returns a value
/// the CLI renders. `attach` reaches it through the Azure Files provider's provisioning step.
public final class BlobContainerProvider {
    /// Strong: `node.blob` hands out a new provider each time and the node does not keep it (no cycle), so a
    /// provider outliving the expression that made it (`b.node().blob.list(...)`) still has its node.
    let node: Node

    init(node: Node) { self.node = node }

    var azure: AzureStorage {
        get throws {
            guard node.config.backend == .azure else {
                throw OrchestratorError(
                    .notConfigured, "--blob needs backend = \"azure\" (the config uses \"\(node.config.backend)\")")
            }
            return try node.azure()
        }
    }

    /// The user's container, located and owner-checked.
    public func container(_ user: String) throws -> LocatedContainer {
        let az = try azure
        node.onShareLocated?(az.containerName(for: user), nil)
        let found = try az.existingContainer(user: user)
        node.onShareLocated?(found.container, found.account.name)
        return found
    }

    /// `provision --blob` (and the container half of provision and attach when `[blob] enabled`).
    public func provision(_ user: ResolvedUser, shareAccount: String? = nil) throws -> AzureStorage.ProvisionedContainer
    {
        let az = try azure
        let home = shareAccount.flatMap { az.account(named: $0) }
        // The ledger's hint is for the share locator, asked only when the caller did not name the account.
        let p = try az.provisionContainer(
            user: user.name, uid: user.uid, recordedAccount: home == nil ? node.recorded(of: user.name).account : nil,
            shareAccount: home)
        node.onShareLocated?(p.container, p.account)
        return p
    }

    // MARK: names

    /// Why `name` cannot be a blob name for these commands (nil when it can): 1 to 1024 bytes of UTF-8, no
    /// control characters, no `.` or `..` segment (URL normalisation would send another name), no leading `/`.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "a blob name cannot be empty" }
        if name.utf8.count > 1024 { return "a blob name is at most 1024 bytes" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
            return "a blob name cannot hold control characters"
        }
        if name.hasPrefix("/") { return "a blob name does not start with /" }
        if name.split(separator: "/", omittingEmptySubsequences: false).contains(where: { $0 == "." || $0 == ".." }) {
            return "a blob name cannot have a . or .. segment"
        }
        return nil
    }

    /// The content type the SDKs' users expect from a file name's extension (`application/octet-stream` when
    /// unknown).
    public static func contentType(forName name: String) -> String {
        let base = name.split(separator: "/").last.map(String.init) ?? name
        guard let dot = base.lastIndex(of: "."), dot != base.startIndex else { return "application/octet-stream" }
        let ext = base[base.index(after: dot)...].lowercased()
        let types: [String: String] = [
            "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp",
            "svg": "image/svg+xml", "bmp": "image/bmp", "tif": "image/tiff", "tiff": "image/tiff",
            "txt": "text/plain", "log": "text/plain", "md": "text/markdown", "csv": "text/csv",
            "tsv": "text/tab-separated-values", "html": "text/html", "htm": "text/html", "css": "text/css",
            "js": "text/javascript", "py": "text/x-python", "json": "application/json", "xml": "application/xml",
            "yaml": "application/yaml", "yml": "application/yaml", "ipynb": "application/x-ipynb+json",
            "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip", "tgz": "application/gzip",
            "tar": "application/x-tar", "bz2": "application/x-bzip2", "xz": "application/x-xz",
            "zst": "application/zstd", "parquet": "application/vnd.apache.parquet", "mp4": "video/mp4",
            "webm": "video/webm", "mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg",
        ]
        return types[ext] ?? "application/octet-stream"
    }

    /// Whether `t` is a media type a header can carry: `type/subtype[; params]`, printable ASCII only.
    public static func validContentType(_ t: String) -> Bool {
        guard t.utf8.count <= 256, t.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7f }) else {
            return false
        }
        let main = t.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let parts = main.trimmingWhitespace().split(separator: "/", omittingEmptySubsequences: false)
        let token = { (s: Substring) in
            !s.isEmpty && s.allSatisfy { $0.isLetter || $0.isNumber || "!#$&^_.+-".contains($0) }
        }
        return parts.count == 2 && token(parts[0]) && token(parts[1])
    }

    // MARK: REST commands

    public struct Listing: Sendable {
        public let container: String
        public let account: String
        public let blobs: [BlobClient.BlobItem]
        /// With a delimiter (not `--recursive`): the "directories" one level down.
        public let prefixes: [String]
        public let pages: Int
    }

    /// The blobs under `prefix`, one level (`/` as delimiter) or all of them; every page (a repeated marker
    /// is refused: ``ListingPages``).
    public func list(_ user: String, prefix: String, recursive: Bool) throws -> Listing {
        let found = try container(user)
        let c = try azure.blobClient(found.account)
        var blobs: [BlobClient.BlobItem] = []
        var prefixes: [String] = []
        var marker: String?
        var pages = ListingPages(operation: "list blobs")
        repeat {
            let page = try c.listBlobs(
                container: found.container, prefix: prefix, delimiter: recursive ? nil : "/", marker: marker)
            blobs += page.blobs
            prefixes += page.prefixes
            marker = try pages.next(page.nextMarker)
        } while marker != nil
        return Listing(
            container: found.container, account: found.account.name, blobs: blobs, prefixes: prefixes,
            pages: pages.pages)
    }

    public struct Transfer: Sendable {
        public let container: String
        public let account: String
        public let name: String
        public let bytes: Int64
        public let contentType: String?
    }

    /// Uploads the regular file `local` as blob `name` (checked by the caller), replacing one of that name:
    /// one Put Blob up to 8 MiB, else blocks and one Put Block List, which alone commits (a failure part-way
    /// leaves no blob and no change to an existing one).
    public func upload(
        _ user: String, from local: String, name: String, contentType: String?,
        progress: @escaping (Int64, Int64) -> Void
    ) throws -> Transfer {
        let fd = try Syscalls.open(local, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            throw OrchestratorError(.invalidArgument, "LOCAL \(local) is not a readable regular file")
        }
        let found = try container(user)
        let type = contentType ?? Self.contentType(forName: name)
        try azure.blobClient(found.account).upload(
            fd: fd, size: Int64(st.st_size), container: found.container, name: name, contentType: type,
            overwrite: true, progress: progress)
        return Transfer(
            container: found.container, account: found.account.name, name: name, bytes: Int64(st.st_size),
            contentType: type)
    }

    /// Downloads blob `name` into `local` (temp file beside it, renamed at the end; the MD5 checked when the
    /// blob has one).
    public func download(
        _ user: String, name: String, to local: String, progress: @escaping (Int64, Int64) -> Void
    ) throws -> Transfer {
        let found = try container(user)
        do {
            let n = try azure.blobClient(found.account).download(
                container: found.container, name: name, localPath: local, progress: progress)
            return Transfer(
                container: found.container, account: found.account.name, name: name, bytes: n, contentType: nil)
        } catch let e as AzureError where e.code == .blobNotFound || (e.status == 404 && e.code == .none) {
            throw OrchestratorError(.invalidArgument, "no blob \(name) in \(user)'s container \(found.container)")
        }
    }

    public struct Grant: Sendable {
        public let container: String
        public let account: String
        public let url: String
        public let token: String
        public let permissions: String
    }

    /// A service SAS for the user's container (`sr=c`, default `rl`) or for blob `name` in it (`sr=b`,
    /// default `r`), from `start` to `expiry` (checked by the caller), https only.
    public func sas(_ user: String, name: String?, permissions: String?, start: Int, expiry: Int, ip: String?) throws
        -> Grant
    {
        if let name, let problem = Self.problem(with: name) {
            throw OrchestratorError(.invalidArgument, "--path \(name): \(problem)")
        }
        let found = try container(user)
        let resource: SAS.Resource =
            name.map { .blob(container: found.container, name: $0) } ?? .container(found.container)
        let letters = permissions ?? (name == nil ? "rl" : "r")
        guard let perms = SAS.canonicalPermissions(letters, for: resource) else {
            throw OrchestratorError(
                .invalidArgument, "--permissions \(letters) is not valid here",
                hint:
                    "a \(name == nil ? "container" : "blob") SAS takes letters from \(SAS.permissionLetters(for: resource))"
            )
        }
        let fields = SAS.ServiceFields(
            permissions: perms, start: SAS.timestamp(start), expiry: SAS.timestamp(expiry), ip: ip,
            protocolName: "https")
        let endpoint = found.account.blobEndpoint
        let token = SAS.serviceToken(key: endpoint.key, resource: resource, fields: fields)
        var url = endpoint.baseURL + "/" + found.container
        if let name { url += "/" + PercentEncoding.encodePath(name) }
        return Grant(
            container: found.container, account: found.account.name, url: url + "?" + token, token: token,
            permissions: perms)
    }

    public struct Deletion: Sendable {
        public let container: String
        public let account: String
        /// Blobs in the container when it was deleted (counted from one listing).
        public let blobs: Int
        /// From List Containers `include=deleted` afterwards: the deleted version and how long it is kept.
        public let deletedVersion: String?
        public let retentionDays: Int?
        public let dryRun: Bool
    }

    /// Deletes the user's container and every blob in it, under the user's lock; afterwards says whether the
    /// account's container soft delete keeps it restorable. Refused on an account configured `soft_delete =
    /// false` unless `allowUnrecoverable`.
    public func deprovision(_ user: ResolvedUser, allowUnrecoverable: Bool, dryRun: Bool) throws -> Deletion {
        let lock = dryRun ? nil : try node.userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let found = try container(user.name)
        if node.config.accounts.first(where: { $0.name == found.account.name })?.softDelete == false
            && !allowUnrecoverable
        {
            throw OrchestratorError(
                .refused,
                "account \(found.account.name) is configured with soft_delete = false: \(found.container) could never be restored",
                hint: "pass --no-soft-delete to delete it for good, or enable container soft delete on the account")
        }
        let client = try azure.blobClient(found.account)
        let count = try client.listBlobs(container: found.container, prefix: nil, delimiter: nil, maxResults: 5000)
            .blobs.count
        try node.perform(
            [.deleteContainer(container: found.container, account: found.account.name)], for: .user(user),
            holding: lock, dryRun: dryRun)
        var version: String?
        var days: Int?
        if !dryRun,
            let d = try azure.containerVersions(user: user.name).deleted.first(where: {
                $0.account.name == found.account.name
            })
        {
            version = d.version
            days = d.remainingDays
        }
        return Deletion(
            container: found.container, account: found.account.name, blobs: count, deletedVersion: version,
            retentionDays: days, dryRun: dryRun)
    }

    /// Restores the user's newest deleted container (or `version`); refused while a live one exists.
    public func undelete(_ user: ResolvedUser, version: String?, dryRun: Bool) throws -> DeletedContainer {
        let lock = dryRun ? nil : try node.userLock(user.name)
        defer { withExtendedLifetime(lock) {} }
        let az = try azure
        let (live, deleted) = try az.containerVersions(user: user.name)
        if let l = live.first {
            throw OrchestratorError(
                .refused, "\(user.name) has a live container \(l.container) in account \(l.account.name)",
                hint: "a deleted version can be restored only while no live container has its name")
        }
        guard let pick = version.map({ v in deleted.first { $0.version == v } }) ?? deleted.first else {
            throw OrchestratorError(
                .invalidArgument,
                version.map { "no deleted version \($0) of \(user.name)'s container" }
                    ?? "\(user.name) has no deleted container to restore",
                hint: deleted.isEmpty
                    ? "container soft delete keeps deleted containers only when it is on for the account"
                    : "versions: \(deleted.map(\.version).joined(separator: ", "))")
        }
        // The restored container is owner-checked before anyone uses it; a foreign one is deleted again (the
        // executor's journal undoes the restore).
        try node.perform(
            [
                .restoreContainer(container: pick.container, account: pick.account.name, version: pick.version),
                .checkContainerOwner(container: pick.container, account: pick.account.name),
            ], for: .user(user), holding: lock, dryRun: dryRun)
        return pick
    }
}

extension Node {
    /// The user's Blob container (`--blob` on the REST commands).
    public var blob: BlobContainerProvider { BlobContainerProvider(node: self) }
}
