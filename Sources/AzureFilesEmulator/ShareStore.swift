import Foundation
import Glibc
import SystemSupport

/// Where one share lives on disk and its properties file.
struct ShareStore {
    let account: String
    let share: String
    let accountDir: String
    /// A share snapshot's timestamp: the store then reads the snapshot's copy.
    var snapshot: String?
    /// The share's content directory (exported over SMB in the end-to-end test), or the snapshot's.
    var dir: String { snapshot.map { "\(snapshotDir)/\($0)" } ?? "\(accountDir)/\(share)" }
    var metaFile: String { "\(accountDir)/.emulator/shares/\(share).json" }
    var snapshotDir: String { "\(accountDir)/.emulator/snapshots/\(share)" }
    /// A snapshot's own metadata (given with Snapshot Share), beside the snapshots, not among them.
    func snapshotMetaFile(_ ts: String) -> String { "\(accountDir)/.emulator/snapshot-meta/\(share)/\(ts).json" }

    /// Whether `name` is one of this share's snapshots: a plain name (no "/", not "." or "..") that exists.
    /// Every reader of `sharesnapshot=` (a GET, a copy source) asks this before using it in a path.
    func hasSnapshot(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && name != "." && name != ".."
            && FileManager.default.fileExists(atPath: "\(snapshotDir)/\(name)")
    }

    init(root: String, account: String, share: String) {
        self.account = account
        self.share = share
        accountDir = "\(root)/\(account)"
    }

    /// Properties kept beside the share.
    struct Meta: Codable {
        var quota: Int
        var metadata: [[String]]
        var etag: String
        var lastModified: Int
    }

    var exists: Bool { FileManager.default.fileExists(atPath: metaFile) }

    func load() -> Meta? {
        guard let d = FileManager.default.contents(atPath: metaFile) else { return nil }
        return try? JSONDecoder().decode(Meta.self, from: d)
    }

    func save(_ m: Meta) throws {
        try FileManager.default.createDirectory(
            atPath: (metaFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let data = try JSONEncoder().encode(m)
        let tmp = metaFile + ".tmp"
        FileManager.default.createFile(atPath: tmp, contents: data)
        _ = rename(tmp, metaFile)
    }

    func file(_ path: String) -> String { path.isEmpty ? dir : "\(dir)/\(path)" }

    // MARK: confined access

    /// What a share-relative path names, found without following any symlink.
    enum Kind { case directory, file, other }

    /// The share's directory, opened without following a symlink; nil when the share has no directory.
    func openRoot() -> Int32? {
        let fd = Glibc.open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }

    /// Opens `path` (share-relative) beneath the share's directory: no `..`, no symlink on the way or at the end
    /// (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS). A symlink in a share is, to the REST API, nothing.
    func open(_ path: String, _ flags: Int32, mode: mode_t = 0) throws -> Int32 {
        guard let root = openRoot() else { throw SystemError("open", errno: ENOENT, path: dir) }
        defer { close(root) }
        return try Syscalls.openBeneath(root, path, flags | O_NOFOLLOW, mode: mode)
    }

    /// The kind of `path`, or nil when nothing (or a symlink) is there.
    func kind(_ path: String) -> Kind? {
        guard let fd = try? open(path, Syscalls.pathOnly) else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        switch st.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        default: return .other
        }
    }

    /// The parent directory of `path`, opened beneath the share (nil when missing or not a directory), and the
    /// last component.
    func openParent(_ path: String) -> (fd: Int32, name: String)? {
        let parts = path.split(separator: "/")
        guard let last = parts.last else { return nil }
        let parent = parts.dropLast().joined(separator: "/")
        guard let fd = try? open(parent, O_RDONLY | O_DIRECTORY) else { return nil }
        return (fd, String(last))
    }
}
