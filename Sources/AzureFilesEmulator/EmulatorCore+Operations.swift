import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// The operations, each returning the service's status, headers and body.
extension EmulatorCore {
    static let maxRange = 4 * 1024 * 1024

    func etag() -> String { "\"0x\(String(UInt64.random(in: 1...UInt64.max), radix: 16, uppercase: true))\"" }

    func metadata(from r: EmulatorRequest) -> ([[String]], EmulatorResponse?) {
        var out: [[String]] = []
        for (k, v) in r.headers where k.lowercased().hasPrefix("x-ms-meta-") {
            let name = String(k.dropFirst(10))
            guard let first = name.unicodeScalars.first, first == "_" || (first.properties.isAlphabetic && first.isASCII),
                  name.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0)) }) else {
                return ([], .error(400, "InvalidMetadata", "The metadata specified is invalid. It has characters that are not permitted."))
            }
            if out.contains(where: { $0[0].lowercased() == name.lowercased() }) {
                return ([], .error(400, "InvalidMetadata", "Duplicate metadata name \(name)."))
            }
            out.append([name, v])
        }
        return (out, nil)
    }

    func quota(from r: EmulatorRequest, default d: Int?) -> (Int?, EmulatorResponse?) {
        guard let q = r.header("x-ms-share-quota") else { return (d, nil) }
        guard let v = Int(q), (1...102_400).contains(v) else {
            return (nil, .error(400, "InvalidHeaderValue", "The value for one of the HTTP headers is not in the correct format.",
                                extra: [("HeaderName", "x-ms-share-quota"), ("HeaderValue", q)]))
        }
        return (v, nil)
    }

    func createShare(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        if s.exists { return .error(409, "ShareAlreadyExists", "The specified share already exists.") }
        let (meta, badMeta) = metadata(from: r)
        if let badMeta { return badMeta }
        let (quota, badQuota) = quota(from: r, default: 5120)
        if let badQuota { return badQuota }
        let m = ShareStore.Meta(quota: quota!, metadata: meta, etag: etag(), lastModified: now())
        do {
            try FileManager.default.createDirectory(atPath: s.dir, withIntermediateDirectories: true)
            try s.save(m)
        } catch {
            return .error(500, "InternalError", "storage: \(error)")
        }
        onShareChange?(s.account, s.share, true)
        return EmulatorResponse(status: 201, headers: [("ETag", m.etag), ("Last-Modified", CivilTime(unixSeconds: m.lastModified).rfc1123)])
    }

    func getShareProperties(_ s: ShareStore, snapshot: String?) -> EmulatorResponse {
        guard let m = s.load() else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        if let snapshot, !FileManager.default.fileExists(atPath: "\(s.snapshotDir)/\(snapshot)") {
            return .error(404, "ShareNotFound", "The specified share snapshot does not exist.")
        }
        var h: [(String, String)] = [("ETag", m.etag), ("Last-Modified", CivilTime(unixSeconds: m.lastModified).rfc1123),
                                     ("x-ms-share-quota", String(m.quota))]
        for kv in m.metadata { h.append(("x-ms-meta-" + kv[0], kv[1])) }
        return EmulatorResponse(status: 200, headers: h)
    }

    func setShareQuota(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard var m = s.load() else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        let (quota, bad) = quota(from: r, default: nil)
        if let bad { return bad }
        if let quota { m.quota = quota }
        m.etag = etag()
        m.lastModified = now()
        do { try s.save(m) } catch { return .error(500, "InternalError", "storage: \(error)") }
        return EmulatorResponse(status: 200, headers: [("ETag", m.etag)])
    }

    func setShareMetadata(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard var m = s.load() else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        m.metadata = meta
        m.etag = etag()
        do { try s.save(m) } catch { return .error(500, "InternalError", "storage: \(error)") }
        return EmulatorResponse(status: 200, headers: [("ETag", m.etag)])
    }

    func snapshotShare(_ s: ShareStore) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        var ts = SAS.timestamp(now()).dropLast().description + ".0000000Z"
        let fm = FileManager.default
        var n = 0
        while fm.fileExists(atPath: "\(s.snapshotDir)/\(ts)") {
            n += 1
            ts = SAS.timestamp(now()).dropLast().description + String(format: ".%07dZ", n)
        }
        do {
            try fm.createDirectory(atPath: s.snapshotDir, withIntermediateDirectories: true)
            try fm.copyItem(atPath: s.dir, toPath: "\(s.snapshotDir)/\(ts)")
        } catch {
            return .error(500, "InternalError", "storage: \(error)")
        }
        return EmulatorResponse(status: 201, headers: [("x-ms-snapshot", ts), ("ETag", etag())])
    }

    func shareStats(_ s: ShareStore) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        var total: Int64 = 0
        if let e = FileManager.default.enumerator(atPath: s.dir) {
            while let rel = e.nextObject() as? String {
                if let a = try? FileManager.default.attributesOfItem(atPath: s.dir + "/" + rel),
                   a[.type] as? FileAttributeType == .typeRegular, let size = a[.size] as? Int64 {
                    total += size
                }
            }
        }
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><ShareStats><ShareUsageBytes>\(total)</ShareUsageBytes></ShareStats>"
        return EmulatorResponse(status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }

    /// The page length a listing returns: `maxresults` capped at the emulator's page size; nil when invalid.
    func pageLength(_ q: [String: String]) -> Int? {
        guard let m = q["maxresults"] else { return pageSize }
        guard let v = Int(m), v > 0 else { return nil }
        return min(v, pageSize)
    }

    static let notFound = EmulatorResponse.error(404, "ResourceNotFound", "The specified resource does not exist.")

    func createDirectory(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        guard let (parent, name) = s.openParent(path) else { return .error(404, "ParentNotFound", "The specified parent path does not exist.") }
        defer { close(parent) }
        guard mkdirat(parent, name, 0o755) == 0 else {
            return errno == EEXIST ? .error(409, "ResourceAlreadyExists", "The specified resource already exists.")
                : .error(500, "InternalError", "mkdir failed: errno \(errno)")
        }
        return EmulatorResponse(status: 201, headers: [("ETag", etag()), ("Last-Modified", CivilTime(unixSeconds: now()).rfc1123), ("x-ms-file-attributes", "Directory")])
    }

    func directoryProperties(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        guard s.kind(path) == .directory else { return Self.notFound }
        return EmulatorResponse(status: 200, headers: [("x-ms-file-attributes", "Directory")])
    }

    func deleteDirectory(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard s.kind(path) == .directory, let (parent, name) = s.openParent(path) else { return Self.notFound }
        defer { close(parent) }
        if unlinkat(parent, name, AT_REMOVEDIR) != 0 {
            return errno == ENOTEMPTY ? .error(409, "DirectoryNotEmpty", "The specified directory is not empty.")
                : .error(500, "InternalError", "rmdir failed: errno \(errno)")
        }
        return EmulatorResponse(status: 202)
    }

    func listDirectory(_ s: ShareStore, path: String, q: [String: String]) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        guard s.kind(path) == .directory, let dfd = try? s.open(path, O_RDONLY | O_DIRECTORY) else { return Self.notFound }
        let prefix = q["prefix"] ?? ""
        guard let maxResults = pageLength(q) else {
            close(dfd)
            return .error(400, "OutOfRangeQueryParameterValue", "maxresults must be positive.")
        }
        // Names and kinds through the opened directory: no path is resolved again (nothing can be swapped in).
        var entries: [(name: String, st: stat)] = []
        if let d = fdopendir(dfd) {
            defer { closedir(d) }
            while let e = readdir(d) {
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                guard name != ".", name != "..", name.hasPrefix(prefix) else { continue }
                var st = stat()
                guard fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let type = st.st_mode & S_IFMT
                if type == S_IFDIR || type == S_IFREG { entries.append((name, st)) }
            }
        } else {
            close(dfd)
        }
        entries.sort { $0.name < $1.name }
        if let marker = q["marker"], !marker.isEmpty {
            guard let start = Crypto.base64Decode(marker).map({ String(decoding: $0, as: UTF8.self) }) else {
                return .error(400, "InvalidQueryParameterValue", "The marker is not valid.")
            }
            entries = entries.filter { $0.name >= start }
        }
        let page = entries.prefix(maxResults)
        // Opaque marker, like the service's (base64 may contain '/', '+' and '=': clients must encode it).
        let next = entries.count > maxResults ? Crypto.base64(Array(entries[maxResults].name.utf8)) : ""
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://emulator/\(s.account)/\" ShareName=\"\(s.share)\" DirectoryPath=\"\(XMLElement.escape(path))\">"
        if !prefix.isEmpty { xml += "<Prefix>\(XMLElement.escape(prefix))</Prefix>" }
        if let m = q["marker"] { xml += "<Marker>\(XMLElement.escape(m))</Marker>" }
        if q["maxresults"] != nil { xml += "<MaxResults>\(maxResults)</MaxResults>" }
        xml += "<Entries>"
        for (name, st) in page {
            let fileId = String(st.st_ino)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                xml += "<Directory><Name>\(XMLElement.escape(name))</Name><FileId>\(fileId)</FileId><Properties /></Directory>"
            } else {
                xml += "<File><Name>\(XMLElement.escape(name))</Name><FileId>\(fileId)</FileId><Properties><Content-Length>\(st.st_size)</Content-Length></Properties></File>"
            }
        }
        xml += "</Entries><NextMarker>\(XMLElement.escape(next))</NextMarker></EnumerationResults>"
        return EmulatorResponse(status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }

    func createFile(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        guard r.header("x-ms-type") == "file", let lenText = r.header("x-ms-content-length"), let len = Int64(lenText), len >= 0,
              len <= Self.maxFileSize else {
            return .error(400, "MissingRequiredHeader", "x-ms-type: file and x-ms-content-length (0 to 4 TiB) are required.")
        }
        guard let (parent, name) = s.openParent(path) else { return .error(404, "ParentNotFound", "The specified parent path does not exist.") }
        defer { close(parent) }
        var st = stat()
        if fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && (st.st_mode & S_IFMT) != S_IFREG {
            return .error(409, "ResourceTypeMismatch", "A directory (or something else) of that name exists.")
        }
        let fd = openat(parent, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return .error(500, "InternalError", "open failed: errno \(errno)") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(len)) == 0 else { return .error(500, "InternalError", "ftruncate failed: errno \(errno)") }
        return EmulatorResponse(status: 201, headers: [("ETag", etag()), ("Last-Modified", CivilTime(unixSeconds: now()).rfc1123)])
    }

    /// The service's largest file: 4 TiB.
    static let maxFileSize: Int64 = 4 << 40

    static func parseRange(_ text: String?) -> (Int64, Int64)? {
        guard let t = text, t.hasPrefix("bytes=") else { return nil }
        let parts = t.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let a = Int64(parts[0]), let b = Int64(parts[1]), a >= 0, b >= a else { return nil }
        return (a, b)
    }

    func putRange(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        guard let (a, b) = Self.parseRange(r.header("x-ms-range") ?? r.header("range")) else {
            return .error(400, "InvalidHeaderValue", "x-ms-range is missing or malformed.", extra: [("HeaderName", "x-ms-range")])
        }
        guard s.kind(path) == .file, let fd = try? s.open(path, O_WRONLY) else { return Self.notFound }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        guard b < Int64(st.st_size) else { return .error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.") }
        let write = r.header("x-ms-write") ?? ""
        if write == "update" {
            guard r.body.count == Int(b - a + 1), r.body.count <= Self.maxRange else {
                return .error(400, "InvalidHeaderValue", "Content-Length must equal the range size and be at most 4 MiB.", extra: [("HeaderName", "Content-Length")])
            }
            let n = r.body.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(a)) }
            guard n == r.body.count else { return .error(500, "InternalError", "pwrite failed") }
        } else if write == "clear" {
            // A hole, not a buffer the size of the range (which may be terabytes).
            do { try Syscalls.zeroRange(fd, offset: a, length: b - a + 1) } catch {
                return .error(500, "InternalError", "clear failed: \(error)")
            }
        } else {
            return .error(400, "InvalidHeaderValue", "x-ms-write must be update or clear.", extra: [("HeaderName", "x-ms-write")])
        }
        return EmulatorResponse(status: 201, headers: [("ETag", etag()), ("Last-Modified", CivilTime(unixSeconds: now()).rfc1123), ("x-ms-request-server-encrypted", "true")])
    }

    func getFile(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return .error(404, "ShareNotFound", "The specified share does not exist.") }
        // Opened once, beneath the share: what is sized is what is sent (a symlink is not followed anywhere).
        guard s.kind(path) == .file, let fd = try? s.open(path, O_RDONLY) else {
            return r.method == "HEAD" ? EmulatorResponse(status: 404, headers: [("x-ms-error-code", "ResourceNotFound")]) : Self.notFound
        }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            return Self.notFound
        }
        let size = Int64(st.st_size)
        var headers: [(String, String)] = [("Content-Type", "application/octet-stream"), ("x-ms-type", "File"), ("Accept-Ranges", "bytes")]
        if r.method == "HEAD" {
            close(fd)
            headers.append(("Content-Length", String(size)))
            return EmulatorResponse(status: 200, headers: headers)
        }
        if let rangeText = r.header("x-ms-range") ?? r.header("range") {
            guard let (a, b0) = Self.parseRange(rangeText), a < size || (a == 0 && size == 0) else {
                close(fd)
                return .error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.")
            }
            let b = min(b0, max(size - 1, 0))
            headers.append(("Content-Range", "bytes \(a)-\(b)/\(size)"))
            return EmulatorResponse(status: 206, headers: headers, body: .descriptor(fd: fd, offset: a, length: size == 0 ? 0 : b - a + 1))
        }
        return EmulatorResponse(status: 200, headers: headers, body: .descriptor(fd: fd, offset: 0, length: size))
    }

    func deleteFile(_ s: ShareStore, path: String) -> EmulatorResponse {
        guard s.kind(path) == .file, let (parent, name) = s.openParent(path) else { return Self.notFound }
        defer { close(parent) }
        unlinkat(parent, name, 0)
        return EmulatorResponse(status: 202)
    }
}
