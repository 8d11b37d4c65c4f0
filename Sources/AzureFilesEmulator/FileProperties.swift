import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// The REST-visible properties of a file or directory that the file system does not hold: content headers,
/// SMB attributes, creation and change times, metadata and copy state (azure-files-protocol-2.md sections 1, 2,
/// 4 and 5). Kept beside the share as `<account>/.emulator/props/<share>/<inode>.json`, so a rename (same inode)
/// keeps them; a record whose inode now names another kind of object, or an object born at another time (the
/// file was deleted over SMB and its inode number reused), is ignored. The last write time is the file's own
/// mtime, so writes over SMB show too.
struct ItemProps: Codable, Equatable {
    var contentType: String?
    var contentEncoding: String?
    var contentLanguage: String?
    var cacheControl: String?
    var contentMD5: String?
    var contentDisposition: String?
    var attributes: String?
    var creationTime: String?
    var changeTime: String?
    var metadata: [[String]] = []
    var copy: CopyState?
    /// Bumped on every change of these properties (part of the ETag).
    var generation = 0
    /// Unix seconds of the last change of these properties (Last-Modified is the later of this and the ctime).
    var modified = 0
    var isDirectory = false
    /// The birth time (ns) of the object the record was written for, where the file system records one.
    var birth: Int?

    struct CopyState: Codable, Equatable {
        var id: String
        var status: String
        var source: String
        var progress: String
        var completionTime: Int
        /// A pending copy (the emulator's `--copy-pending`) completes at this time; nil once final.
        var completesAt: Int?

        /// The state as of `now`: a pending copy whose time has come reads as a success.
        func at(_ now: Int, size: Int64) -> CopyState {
            guard let t = completesAt, status == "pending" else { return self }
            if now < t {
                return CopyState(
                    id: id, status: "pending", source: source, progress: "0/\(size)", completionTime: completionTime,
                    completesAt: t)
            }
            return CopyState(
                id: id, status: "success", source: source, progress: "\(size)/\(size)", completionTime: t,
                completesAt: nil)
        }
    }

    /// The content headers as the request names them (`x-ms-content-type`...) and as responses name them.
    static var contentHeaders: [(request: String, response: String, key: WritableKeyPath<ItemProps, String?>)] {
        [
            ("x-ms-content-type", "Content-Type", \.contentType),
            ("x-ms-content-encoding", "Content-Encoding", \.contentEncoding),
            ("x-ms-content-language", "Content-Language", \.contentLanguage),
            ("x-ms-cache-control", "Cache-Control", \.cacheControl),
            ("x-ms-content-md5", "Content-MD5", \.contentMD5),
            ("x-ms-content-disposition", "Content-Disposition", \.contentDisposition),
        ]
    }
}

/// The SMB attributes the service knows; `None` clears them all.
enum FileAttributes {
    static let names = [
        "ReadOnly", "Hidden", "System", "None", "Directory", "Archive", "Temporary", "Offline",
        "NotContentIndexed", "NoScrubData",
    ]

    /// `A|B` normalised to the service's spelling; nil when a name is unknown.
    static func parse(_ text: String) -> String? {
        var out: [String] = []
        for part in text.split(separator: "|") {
            let p = part.trimmingCharacters(in: .whitespaces)
            guard let name = names.first(where: { $0.lowercased() == p.lowercased() }) else { return nil }
            if !out.contains(name) { out.append(name) }
        }
        return out.isEmpty ? nil : out.joined(separator: "|")
    }
}

/// utimensat(2)'s "leave this time alone" (UTIME_OMIT, not imported from glibc's macro).
let utimeOmit = (1 << 30) - 2

/// ISO 8601 times with 7 fractional digits, as the service writes SMB times.
enum SMBTime {
    static func format(_ ts: timespec) -> String {
        let base = SAS.timestamp(Int(ts.tv_sec)).dropLast()
        let frac = String(ts.tv_nsec / 100)
        return base + "." + String(repeating: "0", count: 7 - frac.count) + frac + "Z"
    }

    static func format(unixSeconds: Int) -> String { format(timespec(tv_sec: unixSeconds, tv_nsec: 0)) }

    /// Parses `YYYY-MM-DDThh:mm:ss[.f{0,7}]Z` (or any form SAS times take) to a timespec.
    static func parse(_ text: String) -> timespec? {
        guard let secs = SAS.parseTimestamp(text) else { return nil }
        var nsec = 0
        if let dot = text.firstIndex(of: ".") {
            let digits = text[text.index(after: dot)...].prefix { $0.isNumber }
            let padded = (digits + String(repeating: "0", count: 9)).prefix(9)
            nsec = Int(padded) ?? 0
        }
        return timespec(tv_sec: secs, tv_nsec: nsec)
    }
}

extension ShareStore {
    var propsDir: String { "\(accountDir)/.emulator/props/\(share)" }

    func propsFile(_ ino: UInt64) -> String { "\(propsDir)/\(ino).json" }

    /// The stored properties of the object whose stat is `st` and birth time `birth` (defaults when none are
    /// stored, or the record was written for an earlier object with the same inode number).
    func props(_ st: stat, birth: Int?) -> ItemProps {
        let isDir = (st.st_mode & S_IFMT) == S_IFDIR
        if let d = FileManager.default.contents(atPath: propsFile(UInt64(st.st_ino))),
            let p = try? JSONDecoder().decode(ItemProps.self, from: d), p.isDirectory == isDir,
            p.birth == nil || birth == nil || p.birth == birth
        {
            return p
        }
        var p = ItemProps()
        p.isDirectory = isDir
        return p
    }

    func saveProps(_ p: ItemProps, _ st: stat, birth: Int?) throws {
        var p = p
        p.isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        p.birth = birth
        try FileManager.default.createDirectory(atPath: propsDir, withIntermediateDirectories: true)
        let file = propsFile(UInt64(st.st_ino))
        let tmp = file + ".tmp"
        guard FileManager.default.createFile(atPath: tmp, contents: try JSONEncoder().encode(p)) else {
            throw SystemError("write", errno: EIO, path: tmp)
        }
        try Syscalls.rename(tmp, file)
    }

    func removeProps(_ st: stat) { _ = unlink(propsFile(UInt64(st.st_ino))) }
}

extension EmulatorCore {
    static let defaultPermissionKey = "4066528134148476695*1"

    /// A stable ETag: the same bytes and properties give the same tag, any change a new one.
    static func etag(_ st: stat, _ p: ItemProps) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in [
            UInt64(st.st_ino), UInt64(bitPattern: Int64(st.st_size)), UInt64(bitPattern: Int64(st.st_mtim.tv_sec)),
            UInt64(st.st_mtim.tv_nsec), UInt64(bitPattern: Int64(st.st_ctim.tv_sec)), UInt64(st.st_ctim.tv_nsec),
            UInt64(p.generation),
        ] {
            for i in 0..<8 {
                h ^= (v >> (8 * UInt64(i))) & 0xff
                h = h &* 0x100_0000_01b3
            }
        }
        return "\"0x8DE\(String(h >> 4, radix: 16, uppercase: true))\""
    }

    static func lastModified(_ st: stat, _ p: ItemProps) -> Int { max(Int(st.st_ctim.tv_sec), p.modified) }

    /// The SMB property headers and ids every properties response carries.
    func smbHeaders(_ st: stat, _ p: ItemProps, parent: stat?) -> [(String, String)] {
        let isDir = (st.st_mode & S_IFMT) == S_IFDIR
        return [
            ("x-ms-file-attributes", isDir ? "Directory" : (p.attributes ?? "Archive")),
            ("x-ms-file-creation-time", p.creationTime ?? SMBTime.format(st.st_mtim)),
            ("x-ms-file-last-write-time", SMBTime.format(st.st_mtim)),
            ("x-ms-file-change-time", p.changeTime ?? SMBTime.format(st.st_ctim)),
            ("x-ms-file-permission-key", Self.defaultPermissionKey),
            ("x-ms-file-id", String(st.st_ino)), ("x-ms-file-parent-id", parent.map { String($0.st_ino) } ?? "0"),
        ]
    }

    /// ETag and Last-Modified.
    func versionHeaders(_ st: stat, _ p: ItemProps) -> [(String, String)] {
        [("ETag", Self.etag(st, p)), ("Last-Modified", CivilTime(unixSeconds: Self.lastModified(st, p)).rfc1123)]
    }

    /// Applies the SMB property headers of a create/set/rename request to `p` and the file behind `fd`
    /// (last write time as the file's mtime). Returns a 400 for a malformed value.
    func applySMBHeaders(_ r: EmulatorRequest, to p: inout ItemProps, fd: Int32) -> EmulatorResponse? {
        if let a = r.header("x-ms-file-attributes"), a.lowercased() != "preserve", a.lowercased() != "source" {
            guard let parsed = FileAttributes.parse(a) else { return Self.badHeader("x-ms-file-attributes", a) }
            p.attributes = parsed.replacingOccurrences(of: "Directory|", with: "").replacingOccurrences(
                of: "|Directory", with: "")
        }
        for (name, key) in [
            ("x-ms-file-creation-time", \ItemProps.creationTime), ("x-ms-file-change-time", \ItemProps.changeTime),
        ] {
            guard let v = r.header(name), v.lowercased() != "preserve", v.lowercased() != "source" else { continue }
            if v.lowercased() == "now" {
                p[keyPath: key] = SMBTime.format(unixSeconds: now())
                continue
            }
            guard let t = SMBTime.parse(v) else { return Self.badHeader(name, v) }
            p[keyPath: key] = SMBTime.format(t)
        }
        if let v = r.header("x-ms-file-last-write-time"), !["preserve", "source", "now"].contains(v.lowercased()) {
            guard let t = SMBTime.parse(v) else { return Self.badHeader("x-ms-file-last-write-time", v) }
            var times = [timespec(tv_sec: 0, tv_nsec: utimeOmit), t]
            guard futimens(fd, &times) == 0 else {
                return .error(500, .internalError, "futimens failed: errno \(errno)")
            }
        }
        return nil
    }

    static func badHeader(_ name: String, _ value: String) -> EmulatorResponse {
        .error(
            400, .invalidHeaderValue, "The value for one of the HTTP headers is not in the correct format.",
            extra: [("HeaderName", name), ("HeaderValue", value)])
    }

    /// Marks a change of the stored properties.
    func touched(_ p: inout ItemProps) {
        p.generation += 1
        p.modified = now()
    }
}
