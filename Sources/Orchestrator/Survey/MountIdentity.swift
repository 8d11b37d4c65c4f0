import Glibc
import Ledger
import Mounting

/// How pus-mount recognises a mount as its own: by what the ledger recorded (backend, source, mountpoint),
/// never by today's configuration, so a configuration change never makes it disown or stack on its mounts.
public struct MountRecord: Sendable, Equatable {
    public var backend: Backend
    public var source: String
    public var mountpoint: String

    public init(backend: Backend, source: String, mountpoint: String) {
        self.backend = backend
        self.source = source
        self.mountpoint = mountpoint
    }
}

/// What sits at a recorded mountpoint, before any health probe.
public enum MountPresence: Sendable, Equatable {
    case absent
    case ours(MountEntry)
    case foreign(MountEntry)
}

/// The identity rules.
public enum MountIdentity {
    /// Whether two paths are the same directory (st_dev and st_ino); the real one stats both.
    public typealias SameDirectory = @Sendable (String, String) -> Bool

    /// stat(2) both paths and compare device and inode.
    public static let statBoth: SameDirectory = { a, b in
        var x = stat()
        var y = stat()
        return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev && x.st_ino == y.st_ino
    }

    /// File systems whose mounts may hang on a server: never stat'ed in-process, probed in a child.
    public static func isNetwork(_ fstype: String) -> Bool {
        ["cifs", "smb3", "nfs", "nfs4", "ceph", "glusterfs", "9p", "afs"].contains(fstype) || fstype.hasPrefix("fuse")
    }

    /// `//host/share` and `\\host\share` compare equal, case-insensitively (SMB names are).
    public static func sameSource(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        func norm(_ s: String) -> String { s.replacingOccurrences(of: "\\", with: "/").lowercased() }
        return norm(a) == norm(b)
    }

    /// The topmost mount at `record.mountpoint`, judged against the record by the provider of its backend (a
    /// cifs mount is ours when its source is the recorded one; a bind mount when it shows the recorded
    /// directory). A backend this pus-mount does not know owns nothing.
    public static func presence(
        of record: MountRecord, top: MountEntry?, index: MountIndex? = nil, cache: inout [String: MountEntry?],
        sameDirectory: SameDirectory
    ) -> MountPresence {
        guard let m = top else { return .absent }
        guard let kind = Providers.kind(record.backend) else { return .foreign(m) }
        return kind.presence(of: record, top: m, index: index, cache: &cache, sameDirectory: sameDirectory)
    }
}

extension MountIdentity {
    /// Where a directory lives: the mount holding it (its closest mounted ancestor) and its path inside
    /// that file system.
    struct Location: Equatable {
        var device: UInt64
        var inside: String
    }

    /// The location of `directory` from the mount table alone. Directories under one parent (local.root)
    /// share the parent's lookup through `cache`.
    static func locate(
        _ directory: String, index: MountIndex, excluding target: String, cache: inout [String: MountEntry?]
    ) -> Location? {
        guard directory.hasPrefix("/") else { return nil }
        func resolve(_ path: String) -> (MountEntry, String)? {
            var ancestor = Substring(path)
            while true {
                let p = ancestor.isEmpty ? "/" : String(ancestor)
                if let fs = index.top(at: p), fs.target != target { return (fs, p) }
                if ancestor.isEmpty { return nil }
                guard let slash = ancestor.lastIndex(of: "/") else { return nil }
                ancestor = ancestor[..<slash]
            }
        }
        var holder: (MountEntry, String)?
        if let own = index.top(at: directory), own.target != target {
            holder = (own, directory)
        } else {
            let parent = directory.lastIndex(of: "/").map { String(directory[..<$0]) } ?? ""
            let key = parent.isEmpty ? "/" : parent
            if let cached = cache[key] {
                holder = cached.map { ($0, $0.target) }
            } else {
                holder = resolve(key)
                cache[key] = .some(holder?.0)
            }
        }
        guard let (fs, at) = holder else { return nil }
        let rest = directory.dropFirst(at == "/" ? 0 : at.count)
        let inside = fs.root == "/" ? String(rest) : fs.root + rest
        return Location(device: fs.device, inside: inside.isEmpty ? "/" : inside)
    }

    /// Whether bind mount `m` binds `directory`, read from the mount table alone: the file system holding
    /// `directory` has `m`'s device and `m`'s root is the directory's path inside it. No syscall, so a pass
    /// over 10,000 bind mounts stats nothing; a mismatch (symlinks, odd layouts) falls back to stat.
    static func bindShows(_ m: MountEntry, directory: String, index: MountIndex, cache: inout [String: MountEntry?])
        -> Bool
    {
        guard let loc = locate(directory, index: index, excluding: m.target, cache: &cache) else { return false }
        return loc.device == m.device && loc.inside == m.root
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation).
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
