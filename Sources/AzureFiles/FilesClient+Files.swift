import Glibc
import SystemSupport

/// Directory and file operations, and streaming upload and download.
extension FilesClient {
    /// Largest Put Range body the service accepts.
    public static let maxRange = 4 * 1024 * 1024

    /// Create Directory. Returns false when it already existed.
    @discardableResult
    public func createDirectory(share: String, path: String) throws -> Bool {
        do {
            try perform(
                "create directory \(path)", method: "PUT", path: Self.sharePath(share, path),
                query: [("restype", "directory")], expect: [201])
            return true
        } catch let e as AzureError where e.status == 409 && e.code == .resourceAlreadyExists {
            return false
        }
    }

    /// Creates every missing directory of `path` (a share-relative directory path).
    public func createDirectories(share: String, path: String) throws {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += (prefix.isEmpty ? "" : "/") + part
            try createDirectory(share: share, path: prefix)
        }
    }

    /// Create File: reserves `size` bytes (content follows with Put Range).
    public func createFile(share: String, path: String, size: Int64) throws {
        try perform(
            "create file \(path)", method: "PUT", path: Self.sharePath(share, path),
            headers: [("x-ms-content-length", String(size)), ("x-ms-type", "file")], expect: [201])
    }

    /// Put Range (write) of `body` at `offset`; at most 4 MiB.
    public func putRange(share: String, path: String, offset: Int64, body: HTTPBody) throws {
        precondition(body.count > 0 && body.count <= Self.maxRange, "Put Range takes 1 byte to 4 MiB")
        let end = offset + Int64(body.count) - 1
        try perform(
            "put range \(offset)-\(end) of \(path)", method: "PUT", path: Self.sharePath(share, path),
            query: [("comp", "range")],
            headers: [
                ("Content-Type", "application/octet-stream"), ("x-ms-range", "bytes=\(offset)-\(end)"),
                ("x-ms-write", "update"),
            ],
            body: body, timeout: 0, expect: [201])
    }

    /// Get File Properties (HEAD): the size in bytes.
    public func getFileSize(share: String, path: String) throws -> Int64 {
        let r = try perform(
            "get properties of \(path)", method: "HEAD", path: Self.sharePath(share, path), expect: [200])
        return Int64(r.headers["content-length"] ?? "") ?? 0
    }

    /// Get File of the inclusive byte range, streamed to `sink`.
    public func getRange(share: String, path: String, from: Int64, to: Int64, sink: @escaping BodySink) throws {
        try perform(
            "get range \(from)-\(to) of \(path)", method: "GET", path: Self.sharePath(share, path),
            headers: [("x-ms-range", "bytes=\(from)-\(to)")], timeout: 0, expect: [200, 206], sink: sink)
    }

    /// Delete File.
    public func deleteFile(share: String, path: String) throws {
        try perform("delete file \(path)", method: "DELETE", path: Self.sharePath(share, path), expect: [202])
    }

    /// One entry of a directory listing.
    public struct DirectoryEntry: Sendable, Equatable {
        public var name: String
        public var isDirectory: Bool
        public var size: Int64?
    }

    /// One page of List Directories and Files.
    public func listDirectory(
        share: String, path: String, prefix: String? = nil, maxResults: Int? = nil,
        marker: String? = nil, snapshot: String? = nil
    ) throws -> (entries: [DirectoryEntry], nextMarker: String?) {
        var q: [(String, String)] = [("restype", "directory"), ("comp", "list")]
        if let snapshot { q.append(("sharesnapshot", snapshot)) }
        if let prefix { q.append(("prefix", prefix)) }
        if let marker { q.append(("marker", marker)) }
        if let maxResults { q.append(("maxresults", String(maxResults))) }
        let r = try perform(
            "list \(path.isEmpty ? "/" : path)", method: "GET", path: Self.sharePath(share, path), query: q,
            expect: [200])
        guard let root = XMLElement.parse(r.body) else {
            throw AzureError(
                status: r.status, code: .none, message: "unreadable listing body", operation: "list \(path)")
        }
        let entries = (root.child("Entries")?.children ?? []).map { e -> DirectoryEntry in
            let nameEl = e.child("Name")
            var name = nameEl?.text ?? ""
            if nameEl?.attributes["Encoded"] == "true" { name = PercentEncoding.decode(name) }
            return DirectoryEntry(
                name: name, isDirectory: e.name == "Directory",
                size: e.child("Properties")?.text(of: "Content-Length").flatMap { Int64($0) })
        }
        return (entries, root.text(of: "NextMarker").flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Every entry of a directory (all pages), of the share or of one of its snapshots.
    public func listAll(share: String, path: String, snapshot: String? = nil) throws -> [DirectoryEntry] {
        var all: [DirectoryEntry] = []
        var marker: String?
        var pages = ListingPages(operation: "list /\(path)")
        repeat {
            let page = try listDirectory(share: share, path: path, marker: marker, snapshot: snapshot)
            all += page.entries
            marker = try pages.next(page.nextMarker)
        } while marker != nil
        return all
    }

    /// Whether `path` is a file of the share (or of a snapshot): Get File Properties, 404 is false.
    public func fileExists(share: String, path: String, snapshot: String? = nil) throws -> Bool {
        do {
            try perform(
                "get properties of \(path)", method: "HEAD", path: Self.sharePath(share, path),
                query: snapshot.map { [("sharesnapshot", $0)] } ?? [], expect: [200])
            return true
        } catch let e as AzureError where e.status == 404 {
            return false
        }
    }

    /// Copy File within the account, server-side (no data through this node): `source` is a share-relative
    /// path of `share` or of its snapshot `snapshot`. Waits for a pending copy (Get File Properties,
    /// `x-ms-copy-status`) up to `timeout` seconds.
    public func copyFile(share: String, path: String, from source: String, snapshot: String?, timeout: Double = 300)
        throws
    {
        var url =
            String(endpoint.baseURL.dropLast(endpoint.basePath.count)) + endpoint.basePath
            + Self.sharePath(share, source)
        if let snapshot { url += "?sharesnapshot=" + PercentEncoding.encode(snapshot) }
        let r = try perform(
            "copy \(source) to \(path)", method: "PUT", path: Self.sharePath(share, path),
            headers: [("x-ms-copy-source", url)],
            expect: [202])
        var status = r.headers["x-ms-copy-status"] ?? "success"
        let deadline = Clock.monotonicSeconds() + timeout
        while status == "pending" && Clock.monotonicSeconds() < deadline {
            usleep(500_000)
            let p = try perform(
                "get copy status of \(path)", method: "HEAD", path: Self.sharePath(share, path), expect: [200])
            status = p.headers["x-ms-copy-status"] ?? "success"
        }
        guard status == "success" else {
            throw AzureError(
                status: 202, code: .none, message: "the copy of \(source) ended \(status)", operation: "copy to \(path)"
            )
        }
    }

    /// Uploads the local file at `localPath` to `remotePath`, creating parent directories, in 4 MiB ranges read
    /// straight from the file (memory stays flat). `progress` hears (bytes done, total) after each range.
    /// Returns the byte count.
    @discardableResult
    public func upload(localPath: String, share: String, remotePath: String, progress: ((Int64, Int64) -> Void)? = nil)
        throws -> Int64
    {
        let fd = try Syscalls.open(localPath, O_RDONLY)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SystemError("fstat", path: localPath) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw SystemError("upload", errno: EINVAL, path: localPath) }
        let size = Int64(st.st_size)
        if let slash = remotePath.lastIndex(of: "/") {
            try createDirectories(share: share, path: String(remotePath[..<slash]))
        }
        try createFile(share: share, path: remotePath, size: size)
        var offset: Int64 = 0
        while offset < size {
            let n = Int(min(Int64(Self.maxRange), size - offset))
            try putRange(share: share, path: remotePath, offset: offset, body: .file(fd: fd, offset: offset, length: n))
            offset += Int64(n)
            progress?(offset, size)
        }
        return size
    }

    /// Downloads `remotePath` to `localPath` in 4 MiB ranges, into a temp file renamed into place at the end
    /// (no partial file is left on failure). `progress` hears (bytes done, total) as data arrives. Returns the
    /// byte count.
    @discardableResult
    public func download(
        share: String, remotePath: String, localPath: String, mode: mode_t = 0o644,
        progress: ((Int64, Int64) -> Void)? = nil
    ) throws -> Int64 {
        let size = try getFileSize(share: share, path: remotePath)
        try AtomicFile.writeStreaming(to: localPath, mode: mode) { fd, tmp in
            var offset: Int64 = 0
            while offset < size {
                let end = min(offset + Int64(Self.maxRange), size) - 1
                var written: Int64 = 0
                let base = offset
                // A retried range starts again at its own offset: pwrite makes the repeat harmless.
                try getRange(share: share, path: remotePath, from: offset, to: end) { buf, at in
                    try Syscalls.pwriteAll(fd, UnsafeRawBufferPointer(buf), at: base + Int64(at), path: tmp)
                    written = Int64(at + buf.count)
                    progress?(base + written, size)
                }
                guard written == end - offset + 1 else {
                    throw AzureError(
                        status: 206, code: .none, message: "short range: got \(written) bytes",
                        operation: "get \(remotePath)")
                }
                offset = end + 1
            }
        }
        return size
    }
}
