import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// The Blob service (block blobs) on the emulator's second listener, path-style
/// `/<account>/<container>/<blob>`: containers (create, properties, metadata, delete with soft delete, restore,
/// list), Put Blob, Put Block, Put Block List, Get Block List, Get Blob with ranges, properties, metadata,
/// Delete Blob and List Blobs with prefix, delimiter and markers (../shared/azure-blob-protocol.md).
extension EmulatorCore {
    /// The operation's name as the Blob REST reference calls it (the per-request log line).
    public static func blobOperationName(_ r: EmulatorRequest) -> String {
        let q = r.query
        let segments = r.rawPath.split(separator: "/").count
        switch (r.method, q["restype"], q["comp"], segments > 2) {
        case ("GET", nil, "list", false): return "ListContainers"
        case ("PUT", "container", nil, false): return "CreateContainer"
        case ("GET", "container", nil, false), ("HEAD", "container", nil, false): return "GetContainerProperties"
        case ("GET", "container", "metadata", false), ("HEAD", "container", "metadata", false):
            return "GetContainerMetadata"
        case ("PUT", "container", "metadata", false): return "SetContainerMetadata"
        case ("DELETE", "container", nil, false): return "DeleteContainer"
        case ("PUT", "container", "undelete", false): return "RestoreContainer"
        case ("GET", "container", "list", false): return "ListBlobs"
        case ("PUT", nil, nil, true): return "PutBlob"
        case ("PUT", nil, "block", true): return "PutBlock"
        case ("PUT", nil, "blocklist", true): return "PutBlockList"
        case ("GET", nil, "blocklist", true): return "GetBlockList"
        case ("GET", nil, nil, true): return "GetBlob"
        case ("HEAD", nil, nil, true): return "GetBlobProperties"
        case ("PUT", nil, "properties", true): return "SetBlobProperties"
        case ("PUT", nil, "metadata", true): return "SetBlobMetadata"
        case ("GET", nil, "metadata", true), ("HEAD", nil, "metadata", true): return "GetBlobMetadata"
        case ("DELETE", nil, nil, true): return "DeleteBlob"
        default: return segments == 0 ? "Unknown" : "Unsupported"
        }
    }

    /// Handles one Blob request (faults as for Files).
    public func handleBlob(_ r: EmulatorRequest) -> EmulatorResponse {
        counter.add(1, ordering: .relaxed)
        if let fault = injectedFault() { return fault }
        return stamp(lock.withLock { _ in routeBlob(r) }, version: Self.requestedVersion(r))
    }

    func routeBlob(_ r: EmulatorRequest) -> EmulatorResponse {
        let segments = r.rawPath.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let account = segments.first, let keys = accounts[account] else {
            return .error(400, .invalidUri, "Path-style URL expected: /<account>/<container>/<blob>; unknown account.")
        }
        let q = r.query
        if let bad = Self.versionProblem(r, accepts: BlobVersions.accepts) { return bad }
        let container = segments.count > 1 ? PercentEncoding.decode(segments[1]) : nil
        // rclone sends `/` inside a blob name as %2F: decoding each segment and joining gives the same name.
        let name = segments.dropFirst(2).map { PercentEncoding.decode($0) }.joined(separator: "/")
        var auth = Authenticator(account: account, keys: keys, now: now())
        auth.service = .blob
        func gate(_ anyOf: String, _ scope: Operation.Scope, lists: Bool = false) -> EmulatorResponse? {
            auth.check(r, share: container, path: name, op: Operation(anyOf: anyOf, scope: scope, listsBlobs: lists))
        }
        let store = BlobStore(dataDir: dataDir, account: account)
        guard let container else {
            guard r.method == "GET", q["comp"] == "list" else {
                return .error(400, .invalidQueryParameterValue, "Unsupported account-level operation.")
            }
            if let deny = gate("l", .service) { return deny }
            return listContainers(store, q: q)
        }
        guard ShareName.isValid(container) else {
            return .error(400, .invalidResourceName, "The specifed resource name contains invalid characters.")
        }
        if name.utf8.count > 1024 {
            return .error(
                400, .invalidResourceName, "The specifed resource name length is not within the permissible limits.")
        }
        switch (r.method, q["restype"], q["comp"], name.isEmpty) {
        case ("PUT", "container", nil, true):
            if let deny = gate("c", .share) { return deny }
            return createContainer(store, container, r)
        case ("GET", "container", nil, true), ("HEAD", "container", nil, true),
            ("GET", "container", "metadata", true), ("HEAD", "container", "metadata", true):
            if let deny = gate("r", .share) { return deny }
            return containerProperties(store, container)
        case ("PUT", "container", "metadata", true):
            if let deny = gate("w", .share) { return deny }
            return setContainerMetadata(store, container, r)
        case ("DELETE", "container", nil, true):
            if let deny = gate("d", .share) { return deny }
            return deleteContainer(store, container)
        case ("PUT", "container", "undelete", true):
            if let deny = gate("cw", .share) { return deny }
            return restoreContainer(store, container, r)
        case ("GET", "container", "list", true):
            if let deny = gate("l", .share, lists: true) { return deny }
            return listBlobs(store, container, q: q)
        case (_, _, _, false) where store.container(container) == nil:
            // Every blob operation in a missing container (after auth, as the service checks it first).
            if let deny = gate("rwcdl", .object) { return deny }
            return .error(404, .containerNotFound, "The specified container does not exist.")
        case ("PUT", nil, nil, false):
            if let deny = gate("cw", .object) { return deny }
            return putBlob(store, container, name, r)
        case ("PUT", nil, "block", false):
            if let deny = gate("cw", .object) { return deny }
            return putBlock(store, container, name, r)
        case ("PUT", nil, "blocklist", false):
            if let deny = gate("cw", .object) { return deny }
            return putBlockList(store, container, name, r)
        case ("GET", nil, "blocklist", false):
            if let deny = gate("r", .object) { return deny }
            return getBlockList(store, container, name, q: q)
        case ("GET", nil, nil, false), ("HEAD", nil, nil, false):
            if let deny = gate("r", .object) { return deny }
            return getBlob(store, container, name, r)
        case ("GET", nil, "metadata", false), ("HEAD", nil, "metadata", false):
            if let deny = gate("r", .object) { return deny }
            guard let b = store.blob(container, name) else { return Self.noBlob }
            return EmulatorResponse(
                status: 200,
                headers: [("ETag", b.etag), ("Last-Modified", rfc1123(b.modified))] + metaHeaders(b.metadata))
        case ("PUT", nil, "properties", false), ("PUT", nil, "metadata", false):
            if let deny = gate("w", .object) { return deny }
            return setBlobProperties(store, container, name, r, metadataOnly: q["comp"] == "metadata")
        case ("DELETE", nil, nil, false):
            if let deny = gate("d", .object) { return deny }
            return deleteBlob(store, container, name)
        default:
            return .error(
                400, .unsupportedHttpVerb,
                "The emulator does not implement \(r.method) with restype=\(q["restype"] ?? "") comp=\(q["comp"] ?? "") on the Blob service."
            )
        }
    }

    static let noBlob = EmulatorResponse.error(404, .blobNotFound, "The specified blob does not exist.")

    func rfc1123(_ t: Int) -> String { CivilTime(unixSeconds: t).rfc1123 }

    func metaHeaders(_ m: [[String]]) -> [(String, String)] { m.map { ("x-ms-meta-" + $0[0], $0[1]) } }

    // MARK: containers

    func createContainer(_ s: BlobStore, _ c: String, _ r: EmulatorRequest) -> EmulatorResponse {
        if s.container(c) != nil {
            return .error(409, .containerAlreadyExists, "The specified container already exists.")
        }
        if let access = r.header("x-ms-blob-public-access"), !["container", "blob"].contains(access) {
            return .error(
                400, .invalidHeaderValue, "The value for one of the HTTP headers is not in the correct format.",
                extra: [("HeaderName", "x-ms-blob-public-access"), ("HeaderValue", access)])
        }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        let record = BlobStore.Container(metadata: meta, etag: etag(), modified: now())
        do {
            try FileManager.default.createDirectory(
                atPath: "\(s.containerDir(c))/blobs", withIntermediateDirectories: true)
            try BlobStore.save(record, to: s.containerFile(c))
        } catch {
            return .error(500, .internalError, "could not store the container")
        }
        return EmulatorResponse(
            status: 201, headers: [("ETag", record.etag), ("Last-Modified", rfc1123(record.modified))])
    }

    func containerProperties(_ s: BlobStore, _ c: String) -> EmulatorResponse {
        guard let m = s.container(c) else {
            return .error(404, .containerNotFound, "The specified container does not exist.")
        }
        return EmulatorResponse(
            status: 200,
            headers: [
                ("ETag", m.etag), ("Last-Modified", rfc1123(m.modified)), ("x-ms-lease-status", "unlocked"),
                ("x-ms-lease-state", "available"), ("x-ms-has-immutability-policy", "false"),
                ("x-ms-has-legal-hold", "false"),
            ] + metaHeaders(m.metadata))
    }

    func setContainerMetadata(_ s: BlobStore, _ c: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard var m = s.container(c) else {
            return .error(404, .containerNotFound, "The specified container does not exist.")
        }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        m.metadata = meta
        m.etag = etag()
        m.modified = now()
        do { try BlobStore.save(m, to: s.containerFile(c)) } catch {
            return .error(500, .internalError, "could not store the container")
        }
        return EmulatorResponse(status: 200, headers: [("ETag", m.etag), ("Last-Modified", rfc1123(m.modified))])
    }

    /// Deleted versions of a container still restorable: (version, directory, deleted at, days left).
    func deletedContainers(_ s: BlobStore, _ c: String) -> [(version: String, dir: String, at: Int, days: Int)] {
        let base = s.deletedDir(c)
        let days = settings.softDeleteDays ?? 0
        return ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted().compactMap { v in
            let dir = "\(base)/\(v)"
            guard let text = try? String(contentsOfFile: "\(dir)/deleted-at", encoding: .utf8),
                let at = Int(text.trimmingWhitespace())
            else { return nil }
            let left = days - (now() - at) / 86_400
            if left <= 0 {
                try? FileManager.default.removeItem(atPath: dir)
                return nil
            }
            return (v, dir, at, left)
        }
    }

    func deleteContainer(_ s: BlobStore, _ c: String) -> EmulatorResponse {
        guard s.container(c) != nil else {
            return .error(404, .containerNotFound, "The specified container does not exist.")
        }
        let fm = FileManager.default
        if settings.softDeleteDays != nil {
            let version = String(format: "%016llX", UInt64(now()) << 20 | UInt64.random(in: 0..<(1 << 20)))
            let dest = "\(s.deletedDir(c))/\(version)"
            do {
                try fm.createDirectory(atPath: dest, withIntermediateDirectories: true)
                try fm.moveItem(atPath: s.containerDir(c), toPath: "\(dest)/container")
                try String(now()).write(toFile: "\(dest)/deleted-at", atomically: true, encoding: .utf8)
            } catch {
                return .error(500, .internalError, "could not delete the container")
            }
        } else {
            try? fm.removeItem(atPath: s.containerDir(c))
        }
        return EmulatorResponse(status: 202)
    }

    func restoreContainer(_ s: BlobStore, _ c: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let name = r.header("x-ms-deleted-container-name"),
            let version = r.header("x-ms-deleted-container-version")
        else {
            return .error(
                400, .missingRequiredHeader, "An HTTP header that's mandatory for this request is not specified.",
                extra: [("HeaderName", "x-ms-deleted-container-version")])
        }
        guard name == c else {
            return .error(400, .invalidHeaderValue, "x-ms-deleted-container-name must name the container in the URL.")
        }
        if s.container(c) != nil {
            return .error(409, .containerAlreadyExists, "The specified container already exists.")
        }
        guard let v = deletedContainers(s, c).first(where: { $0.version == version }) else {
            return .error(404, .containerNotFound, "The specified container does not exist.")
        }
        do {
            try FileManager.default.createDirectory(atPath: "\(s.root)/containers", withIntermediateDirectories: true)
            try FileManager.default.moveItem(atPath: "\(v.dir)/container", toPath: s.containerDir(c))
            try FileManager.default.removeItem(atPath: v.dir)
        } catch {
            return .error(500, .internalError, "could not restore the container")
        }
        return EmulatorResponse(status: 201)
    }

    /// The opaque marker of a listing: `2!` and the base64 of the last key returned.
    static func marker(after key: String) -> String { "2!" + Base64.encode(Array(key.utf8)) }

    /// The key a marker continues after; nil for a marker this emulator never handed out.
    static func key(ofMarker m: String) -> String? {
        guard m.hasPrefix("2!"), let raw = Base64.decode(String(m.dropFirst(2))) else { return nil }
        return String(validating: raw, as: UTF8.self)
    }

    static let badMarker = EmulatorResponse.error(
        400, .invalidQueryParameterValue,
        "Value for one of the query parameters specified in the request URI is invalid.",
        extra: [("QueryParameterName", "marker")])

    static let badMaxResults = EmulatorResponse.error(
        400, .outOfRangeQueryParameterValue,
        "One of the query parameters specified in the request URI is outside the permissible range.",
        extra: [("QueryParameterName", "maxresults")])

    /// One page of `keys` (sorted) after `marker`: the page and the next marker (nil at the end).
    static func page(_ keys: [String], marker: String?, length: Int) -> (Range<Int>, String?)? {
        var start = 0
        if let marker, !marker.isEmpty {
            guard let after = key(ofMarker: marker) else { return nil }
            let a = Array(after.utf8)
            start = keys.firstIndex { a.lexicographicallyPrecedes(Array($0.utf8)) } ?? keys.count
        }
        let end = min(keys.count, start + length)
        return (start..<end, end < keys.count && end > start ? Self.marker(after: keys[end - 1]) : nil)
    }

    func listContainers(_ s: BlobStore, q: [String: String]) -> EmulatorResponse {
        guard let length = pageLength(q) else { return Self.badMaxResults }
        let include = Set((q["include"] ?? "").split(separator: ",").map { $0.lowercased() })
        let prefix = q["prefix"] ?? ""
        let fm = FileManager.default
        // Keys: the name, and for a deleted version the name, a NUL and the version (after the live one).
        var entries: [(key: String, name: String, version: String?)] = []
        for c in (try? fm.contentsOfDirectory(atPath: "\(s.root)/containers")) ?? [] where c.hasPrefix(prefix) {
            if s.container(c) != nil { entries.append((c, c, nil)) }
        }
        if include.contains("deleted") {
            for c in (try? fm.contentsOfDirectory(atPath: "\(s.root)/deleted")) ?? [] where c.hasPrefix(prefix) {
                for v in deletedContainers(s, c) { entries.append((c + "\u{1}" + v.version, c, v.version)) }
            }
        }
        entries.sort { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
        guard let (range, next) = Self.page(entries.map(\.key), marker: q["marker"], length: length) else {
            return Self.badMarker
        }
        var xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://127.0.0.1/\(XMLElement.escape((s.root as NSString).deletingLastPathComponent.split(separator: "/").last.map(String.init) ?? ""))/\">"
        if let p = q["prefix"] { xml += "<Prefix>\(XMLElement.escape(p))</Prefix>" }
        if let m = q["marker"] { xml += "<Marker>\(XMLElement.escape(m))</Marker>" }
        if let m = q["maxresults"] { xml += "<MaxResults>\(XMLElement.escape(m))</MaxResults>" }
        xml += "<Containers>"
        for e in entries[range] {
            let record: BlobStore.Container?
            var extra = ""
            if let v = e.version, let d = deletedContainers(s, e.name).first(where: { $0.version == v }) {
                record = BlobStore.load("\(d.dir)/container/container.json")
                extra =
                    "<DeletedTime>\(rfc1123(d.at))</DeletedTime><RemainingRetentionDays>\(d.days)</RemainingRetentionDays>"
            } else {
                record = s.container(e.name)
            }
            xml += "<Container><Name>\(XMLElement.escape(e.name))</Name>"
            if let v = e.version { xml += "<Deleted>true</Deleted><Version>\(v)</Version>" }
            xml +=
                "<Properties><Last-Modified>\(rfc1123(record?.modified ?? 0))</Last-Modified><Etag>\(record?.etag ?? "")</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold>\(extra)</Properties>"
            if include.contains("metadata") {
                xml += "<Metadata>"
                for m in record?.metadata ?? [] { xml += "<\(m[0])>\(XMLElement.escape(m[1]))</\(m[0])>" }
                xml += "</Metadata>"
            }
            xml += "</Container>"
        }
        xml += "</Containers><NextMarker>\(next.map(XMLElement.escape) ?? "")</NextMarker></EnumerationResults>"
        return EmulatorResponse(
            status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }

    // MARK: blobs

    /// Checks `Content-MD5`-style header `name` against `digest`: nil when absent, empty or matching.
    func checkMD5(_ r: EmulatorRequest, _ name: String, _ digest: () -> [UInt8]) -> EmulatorResponse? {
        guard let v = r.header(name), !v.isEmpty else { return nil }
        guard let given = Base64.decode(v), given.count == 16 else {
            return .error(
                400, .invalidMd5,
                "The MD5 value specified in the request is invalid. MD5 value must be 128 bits and Base64-encoded.")
        }
        guard given == digest() else {
            return .error(
                400, .md5Mismatch,
                "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
                extra: [("UserSpecifiedMd5", v), ("ServerCalculatedMd5", Base64.encode(digest()))])
        }
        return nil
    }

    /// `If-Match` / `If-None-Match` on a write: nil when the request may go on.
    func writeConditions(_ r: EmulatorRequest, existing: BlobStore.Blob?) -> EmulatorResponse? {
        if let inm = r.header("if-none-match"), let b = existing, inm == "*" || inm == b.etag {
            return .error(409, .blobAlreadyExists, "The specified blob already exists.")
        }
        if let im = r.header("if-match"), im != "*" ? im != existing?.etag : existing == nil {
            return .error(412, .conditionNotMet, "The condition specified using HTTP conditional header(s) is not met.")
        }
        return nil
    }

    static func tooLarge(_ limit: Int64) -> EmulatorResponse {
        .error(
            413, .requestBodyTooLarge, "The request body is too large and exceeds the maximum permissible limit.",
            extra: [("MaxLimit", String(limit))])
    }

    /// The content headers a write stores, from `x-ms-blob-*` (Put Blob also takes `Content-Type`).
    func contentHeaders(_ r: EmulatorRequest, into b: inout BlobStore.Blob, fallbackType: String?) {
        b.contentType = r.header("x-ms-blob-content-type") ?? fallbackType ?? "application/octet-stream"
        b.contentEncoding = r.header("x-ms-blob-content-encoding")
        b.contentLanguage = r.header("x-ms-blob-content-language")
        b.cacheControl = r.header("x-ms-blob-cache-control")
        b.contentDisposition = r.header("x-ms-blob-content-disposition")
    }

    func writeHeaders(_ b: BlobStore.Blob) -> [(String, String)] {
        [("ETag", b.etag), ("Last-Modified", rfc1123(b.modified)), ("x-ms-request-server-encrypted", "true")]
    }

    func putBlob(_ s: BlobStore, _ c: String, _ name: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let type = r.header("x-ms-blob-type") else {
            return .error(
                400, .missingRequiredHeader, "An HTTP header that's mandatory for this request is not specified.",
                extra: [("HeaderName", "x-ms-blob-type")])
        }
        guard type == "BlockBlob" else {
            return .error(
                400, .invalidHeaderValue, "The emulator stores block blobs only (x-ms-blob-type: BlockBlob).",
                extra: [("HeaderName", "x-ms-blob-type"), ("HeaderValue", type)])
        }
        let existing = s.blob(c, name)
        if let deny = writeConditions(r, existing: existing) { return deny }
        let limit = BlobVersions.limits(Self.requestedVersion(r)).putBlob
        if Int64(r.body.count) > limit { return Self.tooLarge(limit) }
        var digest: [UInt8]?
        let md5 = { () -> [UInt8] in
            if digest == nil { digest = Crypto.md5(r.body) }
            return digest!
        }
        if let bad = checkMD5(r, "content-md5", md5) ?? checkMD5(r, "x-ms-blob-content-md5", md5) { return bad }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        let t = now()
        var b = BlobStore.Blob(
            name: name, size: Int64(r.body.count), metadata: meta, etag: etag(), created: existing?.created ?? t,
            modified: t, blocks: [])
        contentHeaders(r, into: &b, fallbackType: r.header("content-type"))
        let given = r.header("x-ms-blob-content-md5").flatMap { $0.isEmpty ? nil : $0 }
        b.contentMD5 = given ?? Base64.encode(md5())
        do {
            try AtomicFile.write(r.body, to: s.blobData(c, name), mode: 0o644, durable: false)
            try BlobStore.save(b, to: s.blobMeta(c, name))
        } catch {
            return .error(500, .internalError, "could not store the blob")
        }
        try? FileManager.default.removeItem(atPath: s.blockDir(c, name))
        return EmulatorResponse(
            status: 201, headers: writeHeaders(b) + [("Content-MD5", Base64.encode(md5()))])
    }

    func putBlock(_ s: BlobStore, _ c: String, _ name: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let id = r.query["blockid"], let raw = Base64.decode(id), !raw.isEmpty else {
            return .error(
                400, .invalidQueryParameterValue,
                "Value for one of the query parameters specified in the request URI is invalid.",
                extra: [("QueryParameterName", "blockid")])
        }
        guard raw.count <= 64 else {
            return .error(
                400, .outOfRangeInput, "The specified block id is longer than 64 bytes.",
                extra: [("QueryParameterName", "blockid")])
        }
        let uncommitted = s.uncommitted(c, name)
        let committed = s.blob(c, name)?.blocks.map { $0[0] } ?? []
        if let other = (uncommitted.map(\.id) + committed).first, other.utf8.count != id.utf8.count {
            return .error(400, .invalidBlobOrBlock, "The specified blob or block content is invalid.")
        }
        if uncommitted.count >= 100_000 && !uncommitted.contains(where: { $0.id == id }) {
            return .error(
                409, .blockCountExceedsLimit,
                "The uncommitted block count cannot exceed the maximum limit of 100,000 blocks.")
        }
        let limit = BlobVersions.limits(Self.requestedVersion(r)).putBlock
        if Int64(r.body.count) > limit { return Self.tooLarge(limit) }
        let digest = Crypto.md5(r.body)
        if let bad = checkMD5(r, "content-md5", { digest }) { return bad }
        do {
            try FileManager.default.createDirectory(atPath: s.blockDir(c, name), withIntermediateDirectories: true)
            try AtomicFile.write(r.body, to: "\(s.blockDir(c, name))/\(Crypto.hex(raw))", mode: 0o644, durable: false)
        } catch {
            return .error(500, .internalError, "could not store the block")
        }
        return EmulatorResponse(
            status: 201, headers: [("Content-MD5", Base64.encode(digest)), ("x-ms-request-server-encrypted", "true")])
    }

    func putBlockList(_ s: BlobStore, _ c: String, _ name: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let doc = XMLElement.parse(r.body), doc.name == "BlockList" else {
            return .error(400, .invalidXmlDocument, "XML specified is not syntactically valid.")
        }
        if let bad = checkMD5(r, "content-md5", { Crypto.md5(r.body) }) { return bad }
        guard doc.children.count <= 50_000 else {
            return .error(400, .blockListTooLong, "The block list may not contain more than 50,000 blocks.")
        }
        let existing = s.blob(c, name)
        if let deny = writeConditions(r, existing: existing) { return deny }
        let uncommitted = Dictionary(s.uncommitted(c, name).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Committed blocks are read from the current data at their offsets.
        var committed: [String: (offset: Int64, size: Int64)] = [:]
        var at: Int64 = 0
        for blk in existing?.blocks ?? [] {
            let size = Int64(blk[1]) ?? 0
            committed[blk[0]] = (at, size)
            at += size
        }
        enum Source {
            case block(String)
            case old(Int64, Int64)
        }
        var plan: [(id: String, source: Source, size: Int64)] = []
        for e in doc.children {
            let id = e.text
            let u = uncommitted[id]
            let k = committed[id]
            switch e.name {
            case "Latest" where u != nil, "Uncommitted" where u != nil: plan.append((id, .block(u!.file), u!.size))
            case "Latest" where k != nil, "Committed" where k != nil:
                plan.append((id, .old(k!.offset, k!.size), k!.size))
            case "Latest", "Committed", "Uncommitted":
                return .error(400, .invalidBlockList, "The specified block list is invalid.")
            default:
                return .error(400, .invalidXmlDocument, "XML specified is not syntactically valid.")
            }
        }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        let old = existing.map { _ in Glibc.open(s.blobData(c, name), O_RDONLY | O_CLOEXEC) } ?? -1
        defer { if old >= 0 { close(old) } }
        do {
            try AtomicFile.writeStreaming(to: s.blobData(c, name), mode: 0o644, durable: false) { fd, tmp in
                var out: Int64 = 0
                for p in plan {
                    let (src, offset): (Int32, Int64)
                    switch p.source {
                    case .block(let file):
                        src = try Syscalls.open(file, O_RDONLY)
                        offset = 0
                    case .old(let o, _):
                        guard old >= 0 else { throw SystemError("open", errno: ENOENT, path: s.blobData(c, name)) }
                        src = old
                        offset = o
                    }
                    defer { if src != old { close(src) } }
                    var buf = [UInt8](repeating: 0, count: 1 << 20)
                    var done: Int64 = 0
                    while done < p.size {
                        let want = Int(min(Int64(buf.count), p.size - done))
                        let n = buf.withUnsafeMutableBytes { b in
                            Syscalls.retryingInterrupts { pread(src, b.baseAddress, want, off_t(offset + done)) }
                        }
                        guard n > 0 else { throw SystemError("read", errno: EIO, path: tmp) }
                        try buf.withUnsafeBytes {
                            try Syscalls.pwriteAll(fd, UnsafeRawBufferPointer(rebasing: $0[0..<n]), at: out, path: tmp)
                        }
                        done += Int64(n)
                        out += Int64(n)
                    }
                }
            }
        } catch {
            return .error(500, .internalError, "could not assemble the blob")
        }
        let t = now()
        var b = BlobStore.Blob(
            name: name, size: plan.reduce(0) { $0 + $1.size }, metadata: meta, etag: etag(),
            created: existing?.created ?? t, modified: t, blocks: plan.map { [$0.id, String($0.size)] })
        contentHeaders(r, into: &b, fallbackType: nil)
        b.contentMD5 = r.header("x-ms-blob-content-md5").flatMap { $0.isEmpty ? nil : $0 }
        do { try BlobStore.save(b, to: s.blobMeta(c, name)) } catch {
            return .error(500, .internalError, "could not store the blob")
        }
        try? FileManager.default.removeItem(atPath: s.blockDir(c, name))
        return EmulatorResponse(status: 201, headers: writeHeaders(b))
    }

    func getBlockList(_ s: BlobStore, _ c: String, _ name: String, q: [String: String]) -> EmulatorResponse {
        let kind = (q["blocklisttype"] ?? "committed").lowercased()
        guard ["committed", "uncommitted", "all"].contains(kind) else {
            return .error(
                400, .invalidQueryParameterValue,
                "Value for one of the query parameters specified in the request URI is invalid.",
                extra: [("QueryParameterName", "blocklisttype")])
        }
        let b = s.blob(c, name)
        let uncommitted = s.uncommitted(c, name)
        guard b != nil || !uncommitted.isEmpty else { return Self.noBlob }
        func block(_ id: String, _ size: Int64) -> String { "<Block><Name>\(id)</Name><Size>\(size)</Size></Block>" }
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
        if kind != "uncommitted" {
            xml +=
                "<CommittedBlocks>" + (b?.blocks ?? []).map { block($0[0], Int64($0[1]) ?? 0) }.joined()
                + "</CommittedBlocks>"
        }
        if kind != "committed" {
            xml += "<UncommittedBlocks>" + uncommitted.map { block($0.id, $0.size) }.joined() + "</UncommittedBlocks>"
        }
        xml += "</BlockList>"
        var headers = [("Content-Type", "application/xml"), ("x-ms-blob-content-length", String(b?.size ?? 0))]
        if let b { headers += [("ETag", b.etag), ("Last-Modified", rfc1123(b.modified))] }
        return EmulatorResponse(status: 200, headers: headers, body: .bytes(Array(xml.utf8)))
    }

    func blobHeaders(_ b: BlobStore.Blob, _ r: EmulatorRequest) -> [(String, String)] {
        var h: [(String, String)] = [
            ("ETag", b.etag), ("Last-Modified", rfc1123(b.modified)), ("x-ms-creation-time", rfc1123(b.created)),
            ("x-ms-blob-type", "BlockBlob"), ("Accept-Ranges", "bytes"), ("x-ms-lease-status", "unlocked"),
            ("x-ms-lease-state", "available"), ("x-ms-server-encrypted", "true"),
        ]
        let q = r.query
        let content: [(String, String?, String)] = [
            ("Content-Type", b.contentType, "rsct"), ("Content-Encoding", b.contentEncoding, "rsce"),
            ("Content-Language", b.contentLanguage, "rscl"), ("Cache-Control", b.cacheControl, "rscc"),
            ("Content-Disposition", b.contentDisposition, "rscd"),
        ]
        for (header, stored, override) in content {
            if let v = (q["sig"] != nil ? q[override] : nil) ?? stored { h.append((header, v)) }
        }
        return h + metaHeaders(b.metadata)
    }

    func getBlob(_ s: BlobStore, _ c: String, _ name: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let b = s.blob(c, name) else { return Self.noBlob }
        if let im = r.header("if-match"), im != "*", im != b.etag {
            return .error(412, .conditionNotMet, "The condition specified using HTTP conditional header(s) is not met.")
        }
        if let inm = r.header("if-none-match"), inm == "*" || inm == b.etag {
            var resp = EmulatorResponse(
                status: 304, headers: [("ETag", b.etag), ("x-ms-error-code", "ConditionNotMet")])
            resp.body = .bytes([])
            return resp
        }
        var headers = blobHeaders(b, r)
        let rangeText = r.header("x-ms-range") ?? r.header("range")
        if r.method == "HEAD" || rangeText == nil {
            if let md5 = b.contentMD5 { headers.append(("Content-MD5", md5)) }
            headers.append(("Content-Length", String(b.size)))
            if r.method == "HEAD" {
                headers += [("x-ms-access-tier", "Hot"), ("x-ms-access-tier-inferred", "true")]
                return EmulatorResponse(status: 200, headers: headers)
            }
            return openData(s, c, name, offset: 0, length: b.size, status: 200, headers: headers)
        }
        guard let (start, endGiven) = Self.parseRange(rangeText) else {
            return .error(
                400, .invalidHeaderValue, "The range specified is invalid.", extra: [("HeaderName", "x-ms-range")])
        }
        guard start < b.size else {
            var resp = EmulatorResponse.error(
                416, .invalidRange, "The range specified is invalid for the current size of the resource.")
            resp.headers.append(("Content-Range", "bytes */\(b.size)"))
            return resp
        }
        let end = min(endGiven ?? (b.size - 1), b.size - 1)
        let length = end - start + 1
        if let md5 = b.contentMD5 { headers.append(("x-ms-blob-content-md5", md5)) }
        if r.header("x-ms-range-get-content-md5")?.lowercased() == "true" {
            guard length <= 4 << 20 else {
                return .error(400, .outOfRangeInput, "x-ms-range-get-content-md5 is allowed for ranges up to 4 MiB.")
            }
            guard let data = FileManager.default.contents(atPath: s.blobData(c, name)) else {
                return .error(500, .internalError, "could not read the blob")
            }
            headers.append(("Content-MD5", Base64.encode(Crypto.md5(Array(data[Int(start)...Int(end)])))))
        }
        headers += [("Content-Range", "bytes \(start)-\(end)/\(b.size)"), ("Content-Length", String(length))]
        return openData(s, c, name, offset: start, length: length, status: 206, headers: headers)
    }

    func openData(
        _ s: BlobStore, _ c: String, _ name: String, offset: Int64, length: Int64, status: Int,
        headers: [(String, String)]
    )
        -> EmulatorResponse
    {
        let fd = Glibc.open(s.blobData(c, name), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .error(500, .internalError, "could not open the blob") }
        return EmulatorResponse(
            status: status, headers: headers, body: .descriptor(fd: fd, offset: offset, length: length))
    }

    func setBlobProperties(_ s: BlobStore, _ c: String, _ name: String, _ r: EmulatorRequest, metadataOnly: Bool)
        -> EmulatorResponse
    {
        guard var b = s.blob(c, name) else { return Self.noBlob }
        if let im = r.header("if-match"), im != "*", im != b.etag {
            return .error(412, .conditionNotMet, "The condition specified using HTTP conditional header(s) is not met.")
        }
        if metadataOnly {
            let (meta, bad) = metadata(from: r)
            if let bad { return bad }
            b.metadata = meta
        } else {
            let md5 = b.contentMD5
            contentHeaders(r, into: &b, fallbackType: nil)
            if r.header("x-ms-blob-content-type") == nil { b.contentType = nil }
            b.contentMD5 = r.header("x-ms-blob-content-md5") ?? md5
        }
        b.etag = etag()
        b.modified = now()
        do { try BlobStore.save(b, to: s.blobMeta(c, name)) } catch {
            return .error(500, .internalError, "could not store the blob")
        }
        return EmulatorResponse(status: 200, headers: writeHeaders(b))
    }

    func deleteBlob(_ s: BlobStore, _ c: String, _ name: String) -> EmulatorResponse {
        guard s.blob(c, name) != nil else { return Self.noBlob }
        _ = unlink(s.blobMeta(c, name))
        _ = unlink(s.blobData(c, name))
        try? FileManager.default.removeItem(atPath: s.blockDir(c, name))
        return EmulatorResponse(status: 202, headers: [("x-ms-delete-type-permanent", "true")])
    }

    /// List Blobs: names in order; with a delimiter, each prefix they share up to it is one `BlobPrefix`, counted
    /// as one result and emitted once (the next page starts after everything under it).
    func listBlobs(_ s: BlobStore, _ c: String, q: [String: String]) -> EmulatorResponse {
        guard s.container(c) != nil else {
            return .error(404, .containerNotFound, "The specified container does not exist.")
        }
        guard let length = pageLength(q) else { return Self.badMaxResults }
        let prefix = q["prefix"] ?? ""
        let delimiter = q["delimiter"].flatMap { $0.isEmpty ? nil : $0 }
        let include = Set((q["include"] ?? "").split(separator: ",").map { $0.lowercased() })
        var entries: [(key: String, blob: BlobStore.Blob?)] = []
        for b in s.blobs(c) where b.name.hasPrefix(prefix) {
            if let delimiter, let r = b.name.dropFirst(prefix.count).range(of: delimiter) {
                let p = String(b.name[..<r.upperBound])
                if entries.last?.key != p { entries.append((p, nil)) }
            } else {
                entries.append((b.name, b))
            }
        }
        guard let (range, next) = Self.page(entries.map(\.key), marker: q["marker"], length: length) else {
            return Self.badMarker
        }
        var xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://127.0.0.1/\" ContainerName=\"\(XMLElement.escape(c))\">"
        if let p = q["prefix"] { xml += "<Prefix>\(XMLElement.escape(p))</Prefix>" }
        if let m = q["marker"] { xml += "<Marker>\(XMLElement.escape(m))</Marker>" }
        if let m = q["maxresults"] { xml += "<MaxResults>\(XMLElement.escape(m))</MaxResults>" }
        if let d = q["delimiter"] { xml += "<Delimiter>\(XMLElement.escape(d))</Delimiter>" }
        xml += "<Blobs>"
        for e in entries[range] {
            guard let b = e.blob else {
                xml += "<BlobPrefix><Name>\(XMLElement.escape(e.key))</Name></BlobPrefix>"
                continue
            }
            xml +=
                "<Blob><Name>\(XMLElement.escape(b.name))</Name><Properties><Creation-Time>\(rfc1123(b.created))</Creation-Time><Last-Modified>\(rfc1123(b.modified))</Last-Modified><Etag>\(b.etag)</Etag><Content-Length>\(b.size)</Content-Length><Content-Type>\(XMLElement.escape(b.contentType ?? ""))</Content-Type><Content-Encoding>\(XMLElement.escape(b.contentEncoding ?? ""))</Content-Encoding><Content-Language>\(XMLElement.escape(b.contentLanguage ?? ""))</Content-Language><Content-MD5>\(b.contentMD5 ?? "")</Content-MD5><Cache-Control>\(XMLElement.escape(b.cacheControl ?? ""))</Cache-Control><Content-Disposition>\(XMLElement.escape(b.contentDisposition ?? ""))</Content-Disposition><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>"
            if include.contains("metadata") {
                xml += "<Metadata>"
                for m in b.metadata { xml += "<\(m[0])>\(XMLElement.escape(m[1]))</\(m[0])>" }
                xml += "</Metadata>"
            }
            xml += "</Blob>"
        }
        xml += "</Blobs><NextMarker>\(next.map(XMLElement.escape) ?? "")</NextMarker></EnumerationResults>"
        return EmulatorResponse(
            status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }
}
