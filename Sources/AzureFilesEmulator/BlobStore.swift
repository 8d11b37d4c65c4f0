import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// The Blob service's versions: any well-formed `YYYY-MM-DD` from 2015-02-21 is served and echoed (a strict
/// upper bound is what broke real clients against other emulators: azure-blob-protocol.md section 7.1).
enum BlobVersions {
    static func accepts(_ v: String) -> Bool {
        let b = Array(v.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45 else { return false }
        for i in [0, 1, 2, 3, 5, 6, 8, 9] where !(48...57).contains(b[i]) { return false }
        return v >= "2015-02-21"
    }

    /// Largest Put Blob and Put Block bodies for a version (azure-blob-protocol.md section 1.2).
    static func limits(_ v: String) -> (putBlob: Int64, putBlock: Int64) {
        if v >= "2019-12-12" { return (5000 << 20, 4000 << 20) }
        if v >= "2016-05-31" { return (256 << 20, 100 << 20) }
        return (64 << 20, 4 << 20)
    }
}

/// Where one account's containers live: `<data>/<account>/.blob/` (a share can never be named `.blob`, so
/// containers and shares never mix). A container is a directory holding `container.json`, and per blob (by the
/// SHA-256 of its name, since blob names may hold any character and `a` and `a/b` may both exist)
/// `blobs/<h>.json` (properties) and `blobs/<h>.data`; uncommitted blocks live in `blocks/<h>/<hex id>`.
/// Deleted containers wait in `deleted/<container>/<version>/` with `deleted-at`.
struct BlobStore {
    let root: String

    init(dataDir: String, account: String) { root = "\(dataDir)/\(account)/.blob" }

    func containerDir(_ c: String) -> String { "\(root)/containers/\(c)" }
    func containerFile(_ c: String) -> String { "\(containerDir(c))/container.json" }
    func deletedDir(_ c: String) -> String { "\(root)/deleted/\(c)" }
    static func key(_ name: String) -> String { Crypto.hex(Crypto.sha256(Array(name.utf8))) }
    func blobMeta(_ c: String, _ name: String) -> String { "\(containerDir(c))/blobs/\(Self.key(name)).json" }
    func blobData(_ c: String, _ name: String) -> String { "\(containerDir(c))/blobs/\(Self.key(name)).data" }
    func blockDir(_ c: String, _ name: String) -> String { "\(containerDir(c))/blocks/\(Self.key(name))" }

    struct Container: Codable {
        var metadata: [[String]]
        var etag: String
        var modified: Int
    }

    struct Blob: Codable {
        var name: String
        var size: Int64
        var contentType: String?
        var contentEncoding: String?
        var contentLanguage: String?
        var cacheControl: String?
        var contentDisposition: String?
        /// Base64 of the stored MD5, when the blob has one.
        var contentMD5: String?
        var metadata: [[String]]
        var etag: String
        var created: Int
        var modified: Int
        /// The committed blocks in order (id, size); empty for a blob made by Put Blob.
        var blocks: [[String]]
    }

    func container(_ c: String) -> Container? { Self.load(containerFile(c)) }
    func blob(_ c: String, _ name: String) -> Blob? { Self.load(blobMeta(c, name)) }

    static func load<T: Decodable>(_ path: String) -> T? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(T.self, from: d)
    }

    static func save<T: Encodable>(_ value: T, to path: String) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try AtomicFile.write(Array(try JSONEncoder().encode(value)), to: path, mode: 0o644, durable: false)
    }

    /// Every blob of the container, by name (UTF-8 byte order, as the service lists).
    func blobs(_ c: String) -> [Blob] {
        let dir = "\(containerDir(c))/blobs"
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return files.filter { $0.hasSuffix(".json") }.compactMap { Self.load("\(dir)/\($0)") as Blob? }
            .sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
    }

    /// Uncommitted blocks of a blob: (encoded id, file, size), by id.
    func uncommitted(_ c: String, _ name: String) -> [(id: String, file: String, size: Int64)] {
        let dir = blockDir(c, name)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return files.sorted().compactMap { f in
            guard let raw = Self.unhex(f), let st = try? Syscalls.fileStatus("\(dir)/\(f)") else { return nil }
            return (Base64.encode(raw), "\(dir)/\(f)", Int64(st.st_size))
        }
    }

    static func unhex(_ s: String) -> [UInt8]? {
        let b = Array(s.utf8)
        guard b.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: b.count, by: 2) {
            guard let v = UInt8(String(decoding: b[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
            out.append(v)
        }
        return out
    }
}
