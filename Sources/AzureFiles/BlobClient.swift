import Glibc
import Logging
import SystemSupport

/// The Azure Blob REST client (block blobs; ../shared/azure-blob-protocol.md): one account's Blob endpoint.
/// Every request goes through the same signed, retried, logged `perform` as the File service's (a
/// ``FilesClient`` on the Blob endpoint: one Shared Key signer, one transport, one retry policy, one error type).
public final class BlobClient {
    /// The request engine, pointed at the Blob endpoint.
    public let rest: FilesClient
    public var endpoint: AccountEndpoint { rest.endpoint }

    /// Uploads up to this size are one Put Blob; larger ones go in blocks of this size (8 MiB: 50,000 blocks
    /// hold 390 GiB, and one block in memory at a time keeps an upload's footprint flat).
    public static let blockSize = 8 << 20
    /// Downloads read ranges of this size.
    public static let rangeSize = 8 << 20

    public init(rest: FilesClient) { self.rest = rest }

    public convenience init(
        endpoint: AccountEndpoint, transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(), logger: Logger
    ) {
        self.init(rest: FilesClient(endpoint: endpoint, transport: transport, retry: retry, logger: logger))
    }

    static func path(_ container: String, _ name: String = "") -> String {
        "/" + container + (name.isEmpty ? "" : "/" + PercentEncoding.encodePath(name))
    }

    // MARK: containers

    /// Create Container, private (no public access header), with metadata in the same request. 409
    /// ContainerAlreadyExists is reported, not thrown.
    public func createContainer(_ container: String, metadata: [(String, String)]) throws -> FilesClient.CreateOutcome {
        do {
            try rest.perform(
                "create container \(container)", method: "PUT", path: Self.path(container),
                query: [("restype", "container")], headers: metadata.map { ("x-ms-meta-" + $0.0, $0.1) },
                expect: [201])
            return .created
        } catch let e as AzureError where e.status == 409 && e.code == .containerAlreadyExists {
            return .alreadyExists
        }
    }

    /// A container's metadata (names lower-cased) and ETag.
    public struct ContainerProperties: Sendable {
        public var metadata: [String: String]
        public var etag: String?
        public var lastModified: String?
    }

    /// Get Container Properties.
    public func getContainerProperties(_ container: String) throws -> ContainerProperties {
        let r = try rest.perform(
            "get container properties \(container)", method: "GET", path: Self.path(container),
            query: [("restype", "container")], expect: [200])
        var meta: [String: String] = [:]
        for (k, v) in r.headers where k.hasPrefix("x-ms-meta-") { meta[String(k.dropFirst(10))] = v }
        return ContainerProperties(metadata: meta, etag: r.headers["etag"], lastModified: r.headers["last-modified"])
    }

    /// Set Container Metadata (replaces all metadata).
    public func setContainerMetadata(_ container: String, metadata: [(String, String)]) throws {
        try rest.perform(
            "set metadata of container \(container)", method: "PUT", path: Self.path(container),
            query: [("restype", "container"), ("comp", "metadata")],
            headers: metadata.map { ("x-ms-meta-" + $0.0, $0.1) }, expect: [200])
    }

    /// Delete Container (asynchronous on the service: 202).
    public func deleteContainer(_ container: String) throws {
        try rest.perform(
            "delete container \(container)", method: "DELETE", path: Self.path(container),
            query: [("restype", "container")], expect: [202])
    }

    /// Restore Container: brings a soft-deleted container version back under its own name.
    public func restoreContainer(_ container: String, version: String) throws {
        try rest.perform(
            "restore container \(container)", method: "PUT", path: Self.path(container),
            query: [("restype", "container"), ("comp", "undelete")],
            headers: [("x-ms-deleted-container-name", container), ("x-ms-deleted-container-version", version)],
            expect: [201])
    }

    /// One container in a listing (`include=metadata,deleted`).
    public struct ContainerItem: Sendable {
        public var name: String
        public var metadata: [String: String]
        public var deleted: Bool
        public var version: String?
        public var deletedTime: String?
        public var remainingRetentionDays: Int?
    }

    /// One page of List Containers with metadata and deleted versions.
    public func listContainers(prefix: String?, marker: String? = nil, maxResults: Int? = nil) throws -> (
        containers: [ContainerItem], nextMarker: String?
    ) {
        var q: [(String, String)] = [("comp", "list")]
        if let prefix { q.append(("prefix", prefix)) }
        if let marker { q.append(("marker", marker)) }
        if let maxResults { q.append(("maxresults", String(maxResults))) }
        q.append(("include", "metadata,deleted"))
        let r = try rest.perform("list containers", method: "GET", path: "/", query: q, expect: [200])
        guard let root = XMLElement.parse(r.body) else {
            throw AzureError(
                status: r.status, code: .none, message: "unreadable List Containers body", operation: "list containers")
        }
        let items = (root.child("Containers")?.all("Container") ?? []).map { c in
            let props = c.child("Properties")
            return ContainerItem(
                name: c.text(of: "Name") ?? "",
                metadata: Dictionary(
                    (c.child("Metadata")?.children ?? []).map { ($0.name.lowercased(), $0.text) },
                    uniquingKeysWith: { a, _ in a }),
                deleted: c.text(of: "Deleted") == "true", version: c.text(of: "Version"),
                deletedTime: props?.text(of: "DeletedTime"),
                remainingRetentionDays: props?.text(of: "RemainingRetentionDays").flatMap { Int($0) })
        }
        return (items, root.text(of: "NextMarker").flatMap { $0.isEmpty ? nil : $0 })
    }

    /// One authenticated request (List Containers, maxresults=1) for preflight checks.
    public func probe() throws {
        try rest.perform(
            "list containers (probe)", method: "GET", path: "/", query: [("comp", "list"), ("maxresults", "1")],
            expect: [200])
    }

    /// Every page of List Containers (a repeated marker is refused: ``ListingPages``).
    public func listAllContainers(prefix: String?) throws -> [ContainerItem] {
        var all: [ContainerItem] = []
        var marker: String?
        var pages = ListingPages(operation: "list containers")
        repeat {
            let page = try listContainers(prefix: prefix, marker: marker)
            all += page.containers
            marker = try pages.next(page.nextMarker)
        } while marker != nil
        return all
    }

    // MARK: blobs

    /// A blob's size and content headers (Get Blob Properties).
    public struct BlobProperties: Sendable {
        public var size: Int64
        public var contentType: String?
        /// The stored Content-MD5, base64, when the blob has one.
        public var contentMD5: String?
        public var etag: String?
        public var lastModified: String?
    }

    /// Get Blob Properties (HEAD).
    public func getBlobProperties(container: String, name: String) throws -> BlobProperties {
        let r = try rest.perform(
            "get properties of blob \(name)", method: "HEAD", path: Self.path(container, name), expect: [200])
        return BlobProperties(
            size: Int64(r.headers["content-length"] ?? "") ?? 0, contentType: r.headers["content-type"],
            contentMD5: r.headers["content-md5"], etag: r.headers["etag"], lastModified: r.headers["last-modified"])
    }

    /// Put Blob (block blob, one request). `overwrite: false` sends `If-None-Match: *` (409 BlobAlreadyExists).
    public func putBlob(
        container: String, name: String, body: HTTPBody, contentType: String, contentMD5: [UInt8]?, overwrite: Bool
    ) throws {
        var headers: [(String, String)] = [("x-ms-blob-type", "BlockBlob"), ("x-ms-blob-content-type", contentType)]
        if let contentMD5 { headers.append(("x-ms-blob-content-md5", Crypto.base64(contentMD5))) }
        if !overwrite { headers.append(("If-None-Match", "*")) }
        try rest.perform(
            "put blob \(name)", method: "PUT", path: Self.path(container, name), headers: headers, body: body,
            timeout: 0, expect: [201])
    }

    /// The block id of block `index` of one upload: fixed width (every id of a blob must have the same length).
    public static func blockID(_ index: Int) -> String {
        let digits = String(index)
        return Crypto.base64(Array(("pus-" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits).utf8))
    }

    /// Put Block with the block's Content-MD5 (the service checks it).
    public func putBlock(container: String, name: String, id: String, body: [UInt8]) throws {
        try rest.perform(
            "put block of \(name)", method: "PUT", path: Self.path(container, name),
            query: [("comp", "block"), ("blockid", id)],
            headers: [("Content-MD5", Crypto.base64(Crypto.md5(body)))], body: .bytes(body), timeout: 0,
            expect: [201])
    }

    /// Put Block List of `ids` (each `<Latest>`), storing the content type and the whole blob's MD5.
    public func putBlockList(
        container: String, name: String, ids: [String], contentType: String, contentMD5: [UInt8]?, overwrite: Bool
    ) throws {
        let xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>"
            + ids.map { "<Latest>\($0)</Latest>" }.joined() + "</BlockList>"
        var headers: [(String, String)] = [
            ("Content-Type", "application/xml"), ("x-ms-blob-content-type", contentType),
        ]
        if let contentMD5 { headers.append(("x-ms-blob-content-md5", Crypto.base64(contentMD5))) }
        if !overwrite { headers.append(("If-None-Match", "*")) }
        try rest.perform(
            "put block list of \(name)", method: "PUT", path: Self.path(container, name),
            query: [("comp", "blocklist")], headers: headers, body: .bytes(Array(xml.utf8)), expect: [201])
    }

    /// Get Blob of the inclusive range, streamed to `sink`; `ifMatch` pins the version read first.
    public func getBlobRange(
        container: String, name: String, from: Int64, to: Int64, ifMatch: String?, sink: @escaping BodySink
    ) throws {
        var headers = [("x-ms-range", "bytes=\(from)-\(to)")]
        if let ifMatch { headers.append(("If-Match", ifMatch)) }
        try rest.perform(
            "get range \(from)-\(to) of blob \(name)", method: "GET", path: Self.path(container, name),
            headers: headers, timeout: 0, expect: [206], sink: sink)
    }

    /// Delete Blob (with its snapshots).
    public func deleteBlob(container: String, name: String) throws {
        try rest.perform(
            "delete blob \(name)", method: "DELETE", path: Self.path(container, name),
            headers: [("x-ms-delete-snapshots", "include")], expect: [202])
    }

    /// One blob in a listing.
    public struct BlobItem: Sendable, Equatable {
        public var name: String
        public var size: Int64
        public var contentType: String?
        public var contentMD5: String?
        public var lastModified: String?
    }

    /// One page of List Blobs: blobs and, with a delimiter, the prefixes they collapse into.
    public func listBlobs(
        container: String, prefix: String?, delimiter: String?, marker: String? = nil, maxResults: Int? = nil
    ) throws -> (blobs: [BlobItem], prefixes: [String], nextMarker: String?) {
        var q: [(String, String)] = [("restype", "container"), ("comp", "list")]
        if let prefix, !prefix.isEmpty { q.append(("prefix", prefix)) }
        if let delimiter { q.append(("delimiter", delimiter)) }
        if let marker { q.append(("marker", marker)) }
        if let maxResults { q.append(("maxresults", String(maxResults))) }
        let r = try rest.perform(
            "list blobs of \(container)", method: "GET", path: Self.path(container), query: q, expect: [200])
        guard let root = XMLElement.parse(r.body) else {
            throw AzureError(
                status: r.status, code: .none, message: "unreadable List Blobs body", operation: "list blobs")
        }
        func name(_ e: XMLElement) -> String {
            let n = e.child("Name")
            let text = n?.text ?? ""
            return n?.attributes["Encoded"] == "true" ? PercentEncoding.decode(text) : text
        }
        let entries = root.child("Blobs")?.children ?? []
        let blobs = entries.filter { $0.name == "Blob" }.map { b in
            let p = b.child("Properties")
            return BlobItem(
                name: name(b), size: p?.text(of: "Content-Length").flatMap { Int64($0) } ?? 0,
                contentType: p?.text(of: "Content-Type"),
                contentMD5: p?.text(of: "Content-MD5").flatMap {
                    $0.isEmpty ? nil : $0
                }, lastModified: p?.text(of: "Last-Modified"))
        }
        let prefixes = entries.filter { $0.name == "BlobPrefix" }.map(name)
        return (blobs, prefixes, root.text(of: "NextMarker").flatMap { $0.isEmpty ? nil : $0 })
    }

    // MARK: streaming transfers

    /// Uploads the regular file open at `fd` (`size` bytes) as blob `name`: one Put Blob up to ``blockSize``,
    /// else Put Block per ``blockSize`` (each with its MD5) and one Put Block List, which alone makes the blob
    /// visible (a failure before it commits nothing). The whole file's MD5 is stored as the blob's Content-MD5.
    /// One block in memory at a time. `progress` hears (bytes done, total).
    public func upload(
        fd: Int32, size: Int64, container: String, name: String, contentType: String, overwrite: Bool,
        progress: ((Int64, Int64) -> Void)? = nil
    ) throws {
        if rest.dryRunRecorder != nil {
            // A dry run records the same requests without reading the file (a plan, not a copy of the data).
            guard size > Int64(Self.blockSize) else {
                try putBlob(
                    container: container, name: name, body: .file(fd: fd, offset: 0, length: Int(size)),
                    contentType: contentType, contentMD5: nil, overwrite: overwrite)
                return
            }
            var ids: [String] = []
            var offset: Int64 = 0
            while offset < size {
                let n = Int(min(Int64(Self.blockSize), size - offset))
                ids.append(Self.blockID(ids.count))
                try rest.perform(
                    "put block of \(name)", method: "PUT", path: Self.path(container, name),
                    query: [("comp", "block"), ("blockid", ids[ids.count - 1])],
                    body: .file(fd: fd, offset: offset, length: n), expect: [201])
                offset += Int64(n)
            }
            try putBlockList(
                container: container, name: name, ids: ids, contentType: contentType, contentMD5: nil,
                overwrite: overwrite)
            return
        }
        let md5 = Crypto.MD5Stream()
        if size <= Int64(Self.blockSize) {
            let body = try Self.read(fd, offset: 0, count: Int(size))
            body.withUnsafeBytes { md5.update($0) }
            try putBlob(
                container: container, name: name, body: .bytes(body), contentType: contentType,
                contentMD5: md5.finish(), overwrite: overwrite)
            progress?(size, size)
            return
        }
        var ids: [String] = []
        var offset: Int64 = 0
        while offset < size {
            let n = Int(min(Int64(Self.blockSize), size - offset))
            let body = try Self.read(fd, offset: offset, count: n)
            body.withUnsafeBytes { md5.update($0) }
            let id = Self.blockID(ids.count)
            try putBlock(container: container, name: name, id: id, body: body)
            ids.append(id)
            offset += Int64(n)
            progress?(offset, size)
        }
        try putBlockList(
            container: container, name: name, ids: ids, contentType: contentType, contentMD5: md5.finish(),
            overwrite: overwrite)
    }

    static func read(_ fd: Int32, offset: Int64, count: Int) throws -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = buf.withUnsafeMutableBytes { b in
                Syscalls.retryingInterrupts {
                    pread(fd, b.baseAddress! + done, count - done, off_t(offset) + off_t(done))
                }
            }
            guard n > 0 else { throw SystemError("read", errno: n == 0 ? EIO : errno, path: "upload source") }
            done += n
        }
        return buf
    }

    /// Downloads blob `name` into `localPath` through a temp file renamed into place (no partial file on any
    /// failure), in ranges pinned to the first answer's ETag (a blob replaced meanwhile fails with 412, not a
    /// mix of two versions); the MD5 is checked when the blob has one. Returns the size.
    @discardableResult
    public func download(
        container: String, name: String, localPath: String, mode: mode_t = 0o644,
        progress: ((Int64, Int64) -> Void)? = nil
    ) throws -> Int64 {
        let props = try getBlobProperties(container: container, name: name)
        let size = props.size
        let md5 = Crypto.MD5Stream()
        try AtomicFile.writeStreaming(to: localPath, mode: mode) { fd, tmp in
            var offset: Int64 = 0
            while offset < size {
                let end = min(offset + Int64(Self.rangeSize), size) - 1
                let base = offset
                var written: Int64 = 0
                var chunk: [UInt8] = []
                chunk.reserveCapacity(Int(end - offset + 1))
                try getBlobRange(container: container, name: name, from: offset, to: end, ifMatch: props.etag) {
                    buf, at in
                    // A retried range starts again at 0: keep only what extends the chunk.
                    if at == 0 { chunk.removeAll(keepingCapacity: true) }
                    chunk.append(contentsOf: buf)
                    written = Int64(at + buf.count)
                    progress?(base + written, size)
                }
                guard written == end - offset + 1 else {
                    throw AzureError(
                        status: 206, code: .none, message: "short range: got \(written) bytes",
                        operation: "get blob \(name)")
                }
                try chunk.withUnsafeBytes { b in
                    md5.update(b)
                    try Syscalls.pwriteAll(fd, b, at: base, path: tmp)
                }
                offset = end + 1
            }
            if let want = props.contentMD5, Crypto.base64Decode(want)?.count == 16 {
                let got = Crypto.base64(md5.finish())
                guard got == want else {
                    throw AzureError(
                        status: 200, code: .none,
                        message: "the downloaded bytes do not match the blob's Content-MD5 (\(want), got \(got))",
                        operation: "get blob \(name)")
                }
            }
        }
        return size
    }
}
