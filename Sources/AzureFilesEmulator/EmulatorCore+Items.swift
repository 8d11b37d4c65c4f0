import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// Directories and files: create, properties, metadata, listing, ranges, rename and copy
/// (azure-files-protocol.md part 1 and part 2 sections 1-6 and 12).
extension EmulatorCore {
    static let notFound = EmulatorResponse.error(404, .resourceNotFound, "The specified resource does not exist.")
    static let shareNotFound = EmulatorResponse.error(404, .shareNotFound, "The specified share does not exist.")
    static let parentNotFound = EmulatorResponse.error(
        404, .parentNotFound, "The specified parent path does not exist.")

    /// A directory or regular file beneath the share: its stat and its parent's (nil at the share root).
    struct Item {
        var st: stat
        /// Birth time (ns), where the file system records one: tells a properties record's object from a later
        /// one with the same inode number.
        var birth: Int?
        var parent: stat?
        var isDirectory: Bool { (st.st_mode & S_IFMT) == S_IFDIR }
    }

    func item(_ s: ShareStore, _ path: String) -> Item? {
        func statOf(_ p: String) -> (stat, Int?)? {
            guard let fd = try? s.open(p, Syscalls.pathOnly) else { return nil }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { return nil }
            let type = st.st_mode & S_IFMT
            return type == S_IFDIR || type == S_IFREG ? (st, Syscalls.birthTime(fd)) : nil
        }
        guard let (st, birth) = statOf(path) else { return nil }
        let parentPath = path.split(separator: "/").dropLast().joined(separator: "/")
        return Item(st: st, birth: birth, parent: path.isEmpty ? nil : statOf(parentPath)?.0)
    }

    /// Properties response headers of an item: version, metadata, SMB properties.
    func itemHeaders(_ it: Item, _ p: ItemProps) -> [(String, String)] {
        var h = versionHeaders(it.st, p)
        for kv in p.metadata { h.append(("x-ms-meta-" + kv[0], kv[1])) }
        h.append(("x-ms-server-encrypted", "true"))
        return h + smbHeaders(it.st, p, parent: it.parent)
    }

    // MARK: directories

    func createDirectory(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        let (meta, badMeta) = metadata(from: r)
        if let badMeta { return badMeta }
        guard let (parent, name) = s.openParent(path) else { return Self.parentNotFound }
        defer { close(parent) }
        guard mkdirat(parent, name, 0o755) == 0 else {
            return errno == EEXIST
                ? .error(409, .resourceAlreadyExists, "The specified resource already exists.")
                : .error(500, .internalError, "mkdir failed: errno \(errno)")
        }
        return finishCreate(s, path: path, r, metadata: meta, status: 201, flags: O_RDONLY | O_DIRECTORY)
    }

    /// Stores the new item's properties from the request and answers with them.
    func finishCreate(
        _ s: ShareStore, path: String, _ r: EmulatorRequest, metadata meta: [[String]], status: Int,
        flags: Int32, configure: (inout ItemProps) -> Void = { _ in }
    ) -> EmulatorResponse {
        guard let fd = try? s.open(path, flags) else { return .error(500, .internalError, "reopen failed") }
        defer { close(fd) }
        var p = ItemProps()
        p.metadata = meta
        p.creationTime = SMBTime.format(unixSeconds: now())
        configure(&p)
        return store(s, p, fd: fd, parent: item(s, path)?.parent, r, status: status)
    }

    /// Applies the request's SMB property headers to `p`, stores it for the item open as `fd` and answers
    /// `status` with the item's version and SMB headers (create, set properties, rename).
    func store(_ s: ShareStore, _ props: ItemProps, fd: Int32, parent: stat?, _ r: EmulatorRequest, status: Int)
        -> EmulatorResponse
    {
        var p = props
        if let bad = applySMBHeaders(r, to: &p, fd: fd) { return bad }
        touched(&p)
        var st = stat()
        fstat(fd, &st)
        do { try s.saveProps(p, st, birth: Syscalls.birthTime(fd)) } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        return EmulatorResponse(
            status: status,
            headers: versionHeaders(st, p) + [("x-ms-request-server-encrypted", "true")]
                + smbHeaders(st, p, parent: parent))
    }

    func directoryProperties(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard let it = item(s, path), it.isDirectory else { return Self.notFound }
        return EmulatorResponse(status: 200, headers: itemHeaders(it, s.props(it.st, birth: it.birth)))
    }

    func deleteDirectory(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard let it = item(s, path), it.isDirectory, let (parent, name) = s.openParent(path) else {
            return Self.notFound
        }
        defer { close(parent) }
        if unlinkat(parent, name, AT_REMOVEDIR) != 0 {
            return errno == ENOTEMPTY
                ? .error(409, .directoryNotEmpty, "The specified directory is not empty.")
                : .error(500, .internalError, "rmdir failed: errno \(errno)")
        }
        s.removeProps(it.st)
        return EmulatorResponse(status: 202)
    }

    // MARK: properties and metadata of files and directories

    /// Set File Properties (`comp=properties`) and Set Directory Properties (`restype=directory&comp=properties`).
    /// Content properties not sent are cleared; the size changes only with `x-ms-content-length`.
    func setProperties(_ s: ShareStore, path: String, directory: Bool, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard let it = item(s, path), it.isDirectory == directory else { return Self.notFound }
        guard let fd = try? s.open(path, directory ? O_RDONLY | O_DIRECTORY : O_WRONLY) else { return Self.notFound }
        defer { close(fd) }
        var p = s.props(it.st, birth: it.birth)
        if !directory {
            if let lenText = r.header("x-ms-content-length") {
                guard let len = Int64(lenText), (0...Self.maxFileSize).contains(len) else {
                    return Self.badHeader("x-ms-content-length", lenText)
                }
                guard ftruncate(fd, off_t(len)) == 0 else {
                    return .error(500, .internalError, "ftruncate failed: errno \(errno)")
                }
            }
            for h in ItemProps.contentHeaders { p[keyPath: h.key] = r.header(h.request) }
        }
        return store(s, p, fd: fd, parent: it.parent, r, status: 200)
    }

    /// Set File/Directory Metadata: the whole set replaced (none sent: cleared).
    func setItemMetadata(_ s: ShareStore, path: String, directory: Bool, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        guard let it = item(s, path), it.isDirectory == directory else { return Self.notFound }
        var p = s.props(it.st, birth: it.birth)
        p.metadata = meta
        touched(&p)
        do { try s.saveProps(p, it.st, birth: it.birth) } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        return EmulatorResponse(
            status: 200, headers: versionHeaders(it.st, p) + [("x-ms-request-server-encrypted", "true")])
    }

    /// Get File/Directory Metadata (`comp=metadata`): the metadata, ETag and Last-Modified.
    func getItemMetadata(_ s: ShareStore, path: String, directory: Bool) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard let it = item(s, path), it.isDirectory == directory else { return Self.notFound }
        let p = s.props(it.st, birth: it.birth)
        return EmulatorResponse(
            status: 200, headers: versionHeaders(it.st, p) + p.metadata.map { ("x-ms-meta-" + $0[0], $0[1]) })
    }

    // MARK: listing

    func listDirectory(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        let q = r.query
        guard s.exists else { return Self.shareNotFound }
        guard let dirItem = item(s, path), dirItem.isDirectory, let dfd = try? s.open(path, O_RDONLY | O_DIRECTORY)
        else { return Self.notFound }
        let prefix = q["prefix"] ?? ""
        guard let maxResults = pageLength(q) else {
            close(dfd)
            return .error(400, .outOfRangeQueryParameterValue, "maxresults must be positive.")
        }
        // Any case, any order (the SDK passes the caller's strings through).
        let include = Set(
            (q["include"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        for i in include where !["timestamps", "etag", "attributes", "permissionkey"].contains(i) {
            close(dfd)
            return .error(
                400, .invalidQueryParameterValue,
                "Value for one of the query parameters specified in the request URI is invalid.",
                extra: [("QueryParameterName", "include"), ("QueryParameterValue", i)])
        }
        // Names and kinds through the opened directory: no path is resolved again (nothing can be swapped in).
        let wantsProps = !include.isEmpty
        var entries: [(name: String, st: stat, birth: Int?)] = []
        if let d = fdopendir(dfd) {
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) {
                    String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard name != ".", name != "..", name.hasPrefix(prefix) else { continue }
                var st = stat()
                guard fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let type = st.st_mode & S_IFMT
                if type == S_IFDIR || type == S_IFREG {
                    entries.append((name, st, wantsProps ? Syscalls.birthTime(dirfd(d), name) : nil))
                }
            }
        } else {
            close(dfd)
        }
        entries.sort { $0.name < $1.name }
        if let marker = q["marker"], !marker.isEmpty {
            guard let start = Crypto.base64Decode(marker).map({ String(decoding: $0, as: UTF8.self) }) else {
                return .error(400, .invalidQueryParameterValue, "The marker is not valid.")
            }
            entries = entries.filter { $0.name >= start }
        }
        let page = entries.prefix(maxResults)
        // Opaque marker, like the service's (base64 may contain '/', '+' and '=': clients must encode it).
        let next = entries.count > maxResults ? Crypto.base64(Array(entries[maxResults].name.utf8)) : ""
        var xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://emulator/\(s.account)/\" ShareName=\"\(XMLElement.escape(s.share))\""
        if let snap = s.snapshot { xml += " ShareSnapshot=\"\(XMLElement.escape(snap))\"" }
        xml += " DirectoryPath=\"\(XMLElement.escape(path))\">"
        if !prefix.isEmpty { xml += "<Prefix>\(XMLElement.escape(prefix))</Prefix>" }
        if let m = q["marker"] { xml += "<Marker>\(XMLElement.escape(m))</Marker>" }
        if q["maxresults"] != nil { xml += "<MaxResults>\(maxResults)</MaxResults>" }
        xml += "<DirectoryId>\(dirItem.st.st_ino)</DirectoryId><Entries>"
        for (name, st, birth) in page {
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            let p = wantsProps ? s.props(st, birth: birth) : ItemProps()
            var props = isDir ? "" : "<Content-Length>\(st.st_size)</Content-Length>"
            if include.contains("timestamps") {
                props +=
                    "<CreationTime>\(p.creationTime ?? SMBTime.format(st.st_mtim))</CreationTime><LastAccessTime>\(SMBTime.format(st.st_atim))</LastAccessTime>"
                    + "<LastWriteTime>\(SMBTime.format(st.st_mtim))</LastWriteTime><ChangeTime>\(p.changeTime ?? SMBTime.format(st.st_ctim))</ChangeTime>"
            }
            if include.contains("etag") {
                props +=
                    "<Last-Modified>\(CivilTime(unixSeconds: Self.lastModified(st, p)).rfc1123)</Last-Modified><Etag>\(XMLElement.escape(Self.etag(st, p)))</Etag>"
            }
            let tag = isDir ? "Directory" : "File"
            xml += "<\(tag)><Name>\(XMLElement.escape(name))</Name><FileId>\(st.st_ino)</FileId>"
            xml += props.isEmpty ? "<Properties />" : "<Properties>\(props)</Properties>"
            if include.contains("attributes") {
                xml += "<Attributes>\(isDir ? "Directory" : (p.attributes ?? "Archive"))</Attributes>"
            }
            if include.contains("permissionkey") {
                xml += "<PermissionKey>\(Self.defaultPermissionKey)</PermissionKey>"
            }
            xml += "</\(tag)>"
        }
        xml += "</Entries><NextMarker>\(XMLElement.escape(next))</NextMarker></EnumerationResults>"
        return EmulatorResponse(
            status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }

    // MARK: files

    func createFile(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard r.header("x-ms-type")?.lowercased() == "file", let lenText = r.header("x-ms-content-length"),
            let len = Int64(lenText), len >= 0,
            len <= Self.maxFileSize
        else {
            return .error(
                400, .missingRequiredHeader, "x-ms-type: file and x-ms-content-length (0 to 4 TiB) are required.")
        }
        let (meta, badMeta) = metadata(from: r)
        if let badMeta { return badMeta }
        guard let (parent, name) = s.openParent(path) else { return Self.parentNotFound }
        defer { close(parent) }
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            return .error(409, .resourceTypeMismatch, "A directory (or something else) of that name exists.")
        }
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .error(500, .internalError, "open failed: errno \(errno)") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(len)) == 0 else {
            return .error(500, .internalError, "ftruncate failed: errno \(errno)")
        }
        return finishCreate(s, path: path, r, metadata: meta, status: 201, flags: O_WRONLY) { p in
            for h in ItemProps.contentHeaders { p[keyPath: h.key] = r.header(h.request) }
        }
    }

    /// The service's largest file: 4 TiB.
    static let maxFileSize: Int64 = 4 << 40

    /// `bytes=a-b` or `bytes=a-` (end nil).
    static func parseRange(_ text: String?) -> (Int64, Int64?)? {
        guard let t = text, t.hasPrefix("bytes=") else { return nil }
        let parts = t.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int64(parts[0]), a >= 0 else { return nil }
        if parts[1].isEmpty { return (a, nil) }
        guard let b = Int64(parts[1]), b >= a else { return nil }
        return (a, b)
    }

    func putRange(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard let (a, bOpt) = Self.parseRange(r.header("x-ms-range") ?? r.header("range")), let b = bOpt else {
            return .error(
                400, .invalidHeaderValue, "x-ms-range is missing or malformed.", extra: [("HeaderName", "x-ms-range")])
        }
        guard s.kind(path) == .file, let fd = try? s.open(path, O_WRONLY) else { return Self.notFound }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        guard b < Int64(st.st_size) else {
            return .error(416, .invalidRange, "The range specified is invalid for the current size of the resource.")
        }
        let write = r.header("x-ms-write") ?? ""
        let preserveMtime = r.header("x-ms-file-last-write-time")?.lowercased() == "preserve"
        if write == "update" {
            guard r.body.count == Int(b - a + 1), r.body.count <= Self.maxRange else {
                return .error(
                    400, .invalidHeaderValue, "Content-Length must equal the range size and be at most 4 MiB.",
                    extra: [("HeaderName", "Content-Length")])
            }
            let n = r.body.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(a)) }
            guard n == r.body.count else { return .error(500, .internalError, "pwrite failed") }
        } else if write == "clear" {
            // A hole, not a buffer the size of the range (which may be terabytes).
            do { try Syscalls.zeroRange(fd, offset: a, length: b - a + 1) } catch {
                return .error(500, .internalError, "clear failed: \(error)")
            }
        } else {
            return .error(
                400, .invalidHeaderValue, "x-ms-write must be update or clear.", extra: [("HeaderName", "x-ms-write")])
        }
        if preserveMtime {
            var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), st.st_mtim]
            futimens(fd, &times)
        }
        var after = stat()
        fstat(fd, &after)
        let p = s.props(after, birth: Syscalls.birthTime(fd))
        return EmulatorResponse(
            status: 201,
            headers: versionHeaders(after, p) + [
                ("x-ms-request-server-encrypted", "true"),
                ("x-ms-file-last-write-time", SMBTime.format(after.st_mtim)),
            ])
    }

    func getFile(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        // Opened once, beneath the share: what is sized is what is sent (a symlink is not followed anywhere).
        guard let it = item(s, path), !it.isDirectory, let fd = try? s.open(path, O_RDONLY) else {
            return r.method == "HEAD"
                ? EmulatorResponse(
                    status: 404, headers: [("x-ms-error-code", AzureError.Code.resourceNotFound.rawValue)])
                : Self.notFound
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return Self.notFound
        }
        let p = s.props(st, birth: Syscalls.birthTime(fd))
        let size = Int64(st.st_size)
        var headers = itemHeaders(Item(st: st, parent: it.parent), p)
        headers += [
            ("x-ms-type", "File"), ("Content-Type", p.contentType ?? "application/octet-stream"),
            ("x-ms-lease-state", "available"), ("x-ms-lease-status", "unlocked"),
        ]
        for h in ItemProps.contentHeaders where h.response != "Content-Type" {
            if let v = p[keyPath: h.key] { headers.append((h.response, v)) }
        }
        if let c = p.copy?.at(now(), size: size) {
            headers += [
                ("x-ms-copy-id", c.id), ("x-ms-copy-status", c.status), ("x-ms-copy-source", c.source),
                ("x-ms-copy-progress", c.progress),
            ]
            if c.status == "pending" {
                headers.append(("x-ms-copy-status-description", "pending (azfiles-emulator --copy-pending)"))
            } else {
                headers.append(("x-ms-copy-completion-time", CivilTime(unixSeconds: c.completionTime).rfc1123))
            }
        }
        // A SAS's response-header overrides replace the stored values (the signature covered them).
        if r.query["sig"] != nil {
            for (q, h) in [
                ("rscc", "Cache-Control"), ("rscd", "Content-Disposition"), ("rsce", "Content-Encoding"),
                ("rscl", "Content-Language"), ("rsct", "Content-Type"),
            ] {
                guard let v = r.query[q] else { continue }
                headers.removeAll { $0.0 == h }
                headers.append((h, v))
            }
        }
        if r.method == "HEAD" {
            close(fd)
            headers.append(("Content-Length", String(size)))
            return EmulatorResponse(status: 200, headers: headers)
        }
        if let rangeText = r.header("x-ms-range") ?? r.header("range") {
            // Any range of an empty file, or one starting at or past the end: 416 (protocol-2 section 12).
            guard let (a, b0) = Self.parseRange(rangeText), a < size else {
                close(fd)
                var e = EmulatorResponse.error(
                    416, .invalidRange, "The range specified is invalid for the current size of the resource.")
                e.headers.append(("Content-Range", "bytes */\(size)"))
                return e
            }
            let b = min(b0 ?? (size - 1), size - 1)
            if r.header("x-ms-range-get-content-md5") == "true" {
                guard b - a + 1 <= Int64(Self.maxRange) else {
                    close(fd)
                    return .error(400, .outOfRangeInput, "x-ms-range-get-content-md5 needs a range of at most 4 MiB.")
                }
                var buf = [UInt8](repeating: 0, count: Int(b - a + 1))
                let n = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(a)) }
                close(fd)
                guard n == buf.count else { return .error(500, .internalError, "short read") }
                headers.removeAll { $0.0 == "Content-MD5" }
                headers.append(("Content-MD5", Crypto.base64(Crypto.md5(buf))))
                headers.append(("Content-Range", "bytes \(a)-\(b)/\(size)"))
                return EmulatorResponse(status: 206, headers: headers, body: .bytes(buf))
            }
            headers.append(("Content-Range", "bytes \(a)-\(b)/\(size)"))
            return EmulatorResponse(
                status: 206, headers: headers, body: .descriptor(fd: fd, offset: a, length: b - a + 1))
        }
        headers.append(("Accept-Ranges", "bytes"))
        return EmulatorResponse(status: 200, headers: headers, body: .descriptor(fd: fd, offset: 0, length: size))
    }

    /// List Ranges (`comp=rangelist`): the file's data ranges as the file system knows them (SEEK_DATA and
    /// SEEK_HOLE, so a cleared range is a hole), within an optional `x-ms-range`.
    func listRanges(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard let it = item(s, path), !it.isDirectory, let fd = try? s.open(path, O_RDONLY) else {
            return Self.notFound
        }
        defer { close(fd) }
        let size = Int64(it.st.st_size)
        var lo: Int64 = 0
        var hi = size - 1
        if let text = r.header("x-ms-range") ?? r.header("range") {
            guard let (a, b) = Self.parseRange(text) else { return Self.badHeader("x-ms-range", text) }
            lo = a
            hi = min(b ?? hi, hi)
        }
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Ranges>"
        var at = lo
        while at <= hi {
            let start = lseek(fd, off_t(at), 3)  // SEEK_DATA
            guard start >= 0, Int64(start) <= hi else { break }
            let end = min(Int64(lseek(fd, start, 4)), hi + 1)  // SEEK_HOLE
            xml += "<Range><Start>\(start)</Start><End>\(end - 1)</End></Range>"
            at = end
        }
        xml += "</Ranges>"
        let p = s.props(it.st, birth: it.birth)
        return EmulatorResponse(
            status: 200,
            headers: versionHeaders(it.st, p) + [
                ("x-ms-content-length", String(size)), ("Content-Type", "application/xml"),
            ],
            body: .bytes(Array(xml.utf8)))
    }

    func deleteFile(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard let it = item(s, path), !it.isDirectory, let (parent, name) = s.openParent(path) else {
            return Self.notFound
        }
        defer { close(parent) }
        guard unlinkat(parent, name, 0) == 0 else {
            return .error(500, .internalError, "unlink failed: errno \(errno)")
        }
        s.removeProps(it.st)
        return EmulatorResponse(status: 202)
    }

    // MARK: rename and copy

    /// The share and share-relative path a rename or copy source URL names, in `account`: a full URL (scheme,
    /// host and any query ignored) or a bare path; `/account/share/path` when the request itself came
    /// path-style, `/share/path` when it came host-style.
    func sourcePath(_ url: String, account: String, _ r: EmulatorRequest) -> (share: String, path: String)? {
        var rest = Substring(url)
        if let scheme = rest.range(of: "://") {
            rest = rest[scheme.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { return nil }
            rest = rest[slash...]
        }
        if let q = rest.firstIndex(of: "?") { rest = rest[..<q] }
        var segments = rest.split(separator: "/").map { PercentEncoding.decode(String($0)) }
        let pathStyle = r.rawPath.split(separator: "/").first.map(String.init) == account
        if pathStyle, segments.count > 1, segments[0] == account { segments.removeFirst() }
        guard let share = segments.first, ShareName.isValid(share) else { return nil }
        let path = segments.dropFirst().joined(separator: "/")
        guard FilePathRules.problem(with: path) == nil else { return nil }
        return (share, path)
    }

    static func flag(_ r: EmulatorRequest, _ name: String) -> Bool { r.header(name)?.lowercased() == "true" }

    /// Rename File and Rename Directory: the URL names the destination, `x-ms-file-rename-source` the source.
    func rename(_ s: ShareStore, path: String, directory: Bool, account: String, _ r: EmulatorRequest)
        -> EmulatorResponse
    {
        guard s.exists else { return Self.shareNotFound }
        guard let sourceURL = r.header("x-ms-file-rename-source") else {
            return .error(
                400, .missingRequiredHeader, "An HTTP header that's mandatory for this request is not specified.",
                extra: [("HeaderName", "x-ms-file-rename-source")])
        }
        guard let (srcShare, srcPath) = sourcePath(sourceURL, account: account, r), !srcPath.isEmpty else {
            return Self.badHeader("x-ms-file-rename-source", Redaction.redact(sourceURL))
        }
        guard srcShare == s.share else {
            return .error(400, .invalidInput, "The source and the destination of a rename must be in the same share.")
        }
        let (meta, badMeta) = metadata(from: r)
        if let badMeta { return badMeta }
        guard let src = item(s, srcPath), src.isDirectory == directory else { return Self.notFound }
        if srcPath == path { return renamed(s, path: path, r, metadata: meta) }
        if directory, path.hasPrefix(srcPath + "/") {
            return .error(400, .invalidInput, "A directory cannot be renamed into itself.")
        }
        let replace = Self.flag(r, "x-ms-file-rename-replace-if-exists")
        if let dst = item(s, path) {
            if dst.isDirectory || directory {
                return .error(409, .resourceAlreadyExists, "The specified resource already exists.")
            }
            guard replace else { return .error(409, .resourceAlreadyExists, "The specified resource already exists.") }
            if (s.props(dst.st, birth: dst.birth).attributes ?? "").contains("ReadOnly")
                && !Self.flag(r, "x-ms-file-rename-ignore-readonly")
            {
                return .error(
                    409, .readOnlyAttribute, "The specified resource is read-only and cannot be modified at this time.")
            }
            s.removeProps(dst.st)
        }
        guard let (from, fromName) = s.openParent(srcPath) else { return Self.notFound }
        defer { close(from) }
        guard let (to, toName) = s.openParent(path) else { return Self.parentNotFound }
        defer { close(to) }
        guard renameat(from, fromName, to, toName) == 0 else {
            return .error(500, .internalError, "rename failed: errno \(errno)")
        }
        return renamed(s, path: path, r, metadata: meta)
    }

    /// Applies a rename's optional new properties to the destination and answers 200.
    func renamed(_ s: ShareStore, path: String, _ r: EmulatorRequest, metadata meta: [[String]]) -> EmulatorResponse {
        guard let it = item(s, path), let fd = try? s.open(path, it.isDirectory ? O_RDONLY | O_DIRECTORY : O_RDONLY)
        else { return Self.notFound }
        defer { close(fd) }
        var p = s.props(it.st, birth: it.birth)
        if r.headers.contains(where: { $0.0.lowercased().hasPrefix("x-ms-meta-") }) { p.metadata = meta }
        if !it.isDirectory, let ct = r.header("x-ms-content-type") { p.contentType = ct }
        return store(s, p, fd: fd, parent: it.parent, r, status: 200)
    }

    /// Copy File from a file of the same account, completed before the answer (`x-ms-copy-status: success`).
    /// The source is authorized as the service does: a request signed with the account's Shared Key may copy
    /// any file of the account; otherwise the source URL must carry a SAS of its own that allows reading it
    /// (a destination SAS says nothing about the source). A `sharesnapshot=` of the source is checked as a GET's.
    func copyFile(_ s: ShareStore, path: String, account: String, _ r: EmulatorRequest, auth: Authenticator)
        -> EmulatorResponse
    {
        guard s.exists else { return Self.shareNotFound }
        let sourceURL = r.header("x-ms-copy-source") ?? ""
        guard let (srcShare, srcPath) = sourcePath(sourceURL, account: account, r), !srcPath.isEmpty else {
            return .error(
                400, .invalidHeaderValue, "x-ms-copy-source must be the URL of a file in this account.",
                extra: [("HeaderName", "x-ms-copy-source"), ("HeaderValue", Redaction.redact(sourceURL))])
        }
        let srcQueryText = sourceURL.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        if r.query["sig"] != nil {
            let srcRawPath = String(sourceURL.split(separator: "?", maxSplits: 1).first ?? "")
            let probe = EmulatorRequest(
                method: "GET", rawPath: srcRawPath, rawQuery: srcQueryText, headers: [], body: [],
                remoteIP: r.remoteIP, isHTTPS: r.isHTTPS)
            if auth.check(probe, share: srcShare, path: srcPath, op: Operation(anyOf: "r", scope: .object)) != nil {
                return .error(
                    403, .cannotVerifyCopySource, "This request is not authorized to read the copy source.",
                    extra: [
                        ("CopySourceStatusCode", "403"),
                        ("CopySourceErrorCode", AzureError.Code.authenticationFailed.rawValue),
                    ])
            }
        }
        var srcStore = ShareStore(root: dataDir, account: account, share: srcShare)
        if let snap = srcQueryText.split(separator: "&").first(where: { $0.hasPrefix("sharesnapshot=") }) {
            let name = PercentEncoding.decode(String(snap.dropFirst(14)))
            guard srcStore.hasSnapshot(name) else {
                return .error(
                    404, .cannotVerifyCopySource, "The specified share snapshot does not exist.",
                    extra: [("CopySourceStatusCode", "404")])
            }
            srcStore.snapshot = name
        }
        guard srcStore.exists else {
            return .error(
                404, .cannotVerifyCopySource, "The specified share does not exist.",
                extra: [("CopySourceStatusCode", "404")])
        }
        guard let src = item(srcStore, srcPath), !src.isDirectory, let sfd = try? srcStore.open(srcPath, O_RDONLY)
        else {
            return .error(
                404, .cannotVerifyCopySource, "The specified resource does not exist.",
                extra: [("CopySourceStatusCode", "404")])
        }
        defer { close(sfd) }
        let (meta, badMeta) = metadata(from: r)
        if let badMeta { return badMeta }
        if let dst = item(s, path) {
            if dst.isDirectory { return .error(409, .resourceTypeMismatch, "A directory of that name exists.") }
            if (s.props(dst.st, birth: dst.birth).attributes ?? "").contains("ReadOnly")
                && !Self.flag(r, "x-ms-file-copy-ignore-readonly")
            {
                return .error(
                    409, .readOnlyAttribute, "The specified resource is read-only and cannot be modified at this time.")
            }
        }
        guard let (parent, name) = s.openParent(path) else { return Self.parentNotFound }
        defer { close(parent) }
        if srcStore.share == s.share && srcStore.snapshot == nil && srcPath == path {
            return .error(400, .invalidInput, "The source and the destination of a copy are the same file.")
        }
        let dfd = openat(parent, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard dfd >= 0 else { return .error(500, .internalError, "open failed: errno \(errno)") }
        defer { close(dfd) }
        var total: Int64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buf.withUnsafeMutableBytes { b in
                Syscalls.retryingInterrupts { pread(sfd, b.baseAddress, b.count, off_t(total)) }
            }
            guard n >= 0 else { return .error(500, .internalError, "read failed: errno \(errno)") }
            if n == 0 { break }
            do {
                try buf.withUnsafeBytes { try Syscalls.writeAll(dfd, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            } catch {
                return .error(500, .internalError, "write failed: \(error)")
            }
            total += Int64(n)
        }
        let sp = srcStore.props(src.st, birth: src.birth)
        var p = ItemProps()
        for h in ItemProps.contentHeaders { p[keyPath: h.key] = sp[keyPath: h.key] }
        p.metadata = r.headers.contains(where: { $0.0.lowercased().hasPrefix("x-ms-meta-") }) ? meta : sp.metadata
        let copyAll = { (name: String) in r.header(name)?.lowercased() == "source" }
        p.attributes = copyAll("x-ms-file-attributes") ? sp.attributes : nil
        p.creationTime =
            copyAll("x-ms-file-creation-time")
            ? (sp.creationTime ?? SMBTime.format(src.st.st_mtim)) : SMBTime.format(unixSeconds: now())
        if copyAll("x-ms-file-last-write-time") {
            var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), src.st.st_mtim]
            futimens(dfd, &times)
        }
        if let bad = applySMBHeaders(r, to: &p, fd: dfd) { return bad }
        if Self.flag(r, "x-ms-file-copy-set-archive") && !(p.attributes ?? "Archive").contains("Archive") {
            p.attributes = (p.attributes.map { $0 + "|" } ?? "") + "Archive"
        }
        let copyID = UUID().uuidString.lowercased()
        let pending = settings.copyPendingSeconds
        p.copy = ItemProps.CopyState(
            id: copyID, status: pending == nil ? "success" : "pending", source: Redaction.redact(sourceURL),
            progress: pending == nil ? "\(total)/\(total)" : "0/\(total)", completionTime: now(),
            completesAt: pending.map { now() + $0 })
        touched(&p)
        var st = stat()
        fstat(dfd, &st)
        do { try s.saveProps(p, st, birth: Syscalls.birthTime(dfd)) } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        return EmulatorResponse(
            status: 202,
            headers: versionHeaders(st, p) + [("x-ms-copy-id", copyID), ("x-ms-copy-status", p.copy!.status)])
    }

    /// Abort Copy File: a pending copy (`--copy-pending`) is aborted, leaving the destination empty with its
    /// metadata; otherwise copies finish before Copy File answers and there is none to abort.
    func abortCopy(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return Self.shareNotFound }
        guard r.header("x-ms-copy-action")?.lowercased() == "abort" else {
            return .error(
                400, .missingRequiredHeader, "x-ms-copy-action: abort is required.",
                extra: [("HeaderName", "x-ms-copy-action")])
        }
        guard let it = item(s, path), !it.isDirectory else { return Self.notFound }
        var p = s.props(it.st, birth: it.birth)
        guard let c = p.copy?.at(now(), size: Int64(it.st.st_size)), c.id == r.query["copyid"] else {
            return .error(409, .noPendingCopyOperation, "There is currently no pending copy operation.")
        }
        guard c.status == "pending" else {
            return .error(
                409, .noPendingCopyOperation,
                "There is currently no pending copy operation (copy \(c.id) is \(c.status)).")
        }
        guard let fd = try? s.open(path, O_WRONLY) else { return Self.notFound }
        defer { close(fd) }
        guard ftruncate(fd, 0) == 0 else { return .error(500, .internalError, "ftruncate failed: errno \(errno)") }
        p.copy = ItemProps.CopyState(
            id: c.id, status: "aborted", source: c.source, progress: "0/0", completionTime: now(), completesAt: nil)
        touched(&p)
        var st = stat()
        fstat(fd, &st)
        do { try s.saveProps(p, st, birth: Syscalls.birthTime(fd)) } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        return EmulatorResponse(status: 204)
    }
}
