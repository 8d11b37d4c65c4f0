import CLibMount
import Glibc
import SystemSupport

/// One line of a mount table (mountinfo), with every string copied out of libmount.
public struct MountEntry: Sendable, Equatable {
    public var id: Int
    public var parentID: Int
    public var source: String
    public var target: String
    public var fstype: String
    /// Per-mount (VFS) options, e.g. `rw,nosuid,nodev`.
    public var vfsOptions: String
    /// Filesystem (superblock) options, e.g. `vers=3.0,sec=ntlmssp,uid=1000,...`.
    public var fsOptions: String
    /// The root of the mount within its filesystem (bind mounts of a subdirectory show it here).
    public var root: String
    /// The filesystem's device number (st_dev of what is mounted).
    public var device: UInt64

    public init(id: Int, parentID: Int, source: String, target: String, fstype: String, vfsOptions: String, fsOptions: String, root: String,
                device: UInt64 = 0) {
        self.id = id
        self.parentID = parentID
        self.source = source
        self.target = target
        self.fstype = fstype
        self.vfsOptions = vfsOptions
        self.fsOptions = fsOptions
        self.root = root
        self.device = device
    }

    /// Value of `name=` in the fs options, if present.
    public func fsOption(_ name: String) -> String? {
        for o in fsOptions.split(separator: ",") where o.hasPrefix(name + "=") { return String(o.dropFirst(name.count + 1)) }
        return nil
    }
}

/// Reads a mount table in mountinfo format from any path (`/proc/self/mountinfo`, `/proc/PID/mountinfo`,
/// or a test fixture) with libmount's parser (mnt_table_parse_file), which decodes `\040` escapes.
public enum MountTable {
    public static let processTable = "/proc/self/mountinfo"

    /// Every entry, in table order (later entries are mounted on top of earlier ones).
    public static func read(path: String = processTable) throws -> [MountEntry] {
        guard let tb = mnt_new_table() else { throw SystemError("mnt_new_table", errno: ENOMEM) }
        defer { mnt_unref_table(tb) }
        let rc = mnt_table_parse_file(tb, path)
        if rc != 0 { throw SystemError("mnt_table_parse_file", errno: rc < 0 ? -rc : EINVAL, path: path) }
        guard let it = mnt_new_iter(Int32(MNT_ITER_FORWARD)) else { throw SystemError("mnt_new_iter", errno: ENOMEM) }
        defer { mnt_free_iter(it) }
        var out: [MountEntry] = []
        var fs: OpaquePointer?
        while mnt_table_next_fs(tb, it, &fs) == 0, let f = fs {
            func s(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
            out.append(MountEntry(id: Int(mnt_fs_get_id(f)), parentID: Int(mnt_fs_get_parent_id(f)), source: s(mnt_fs_get_source(f)),
                                  target: s(mnt_fs_get_target(f)), fstype: s(mnt_fs_get_fstype(f)),
                                  vfsOptions: s(mnt_fs_get_vfs_options(f)), fsOptions: s(mnt_fs_get_fs_options(f)),
                                  root: s(mnt_fs_get_root(f)), device: UInt64(mnt_fs_get_devno(f))))
        }
        return out
    }

    /// The topmost mount at exactly `target`, if any.
    public static func mount(at target: String, in entries: [MountEntry]) -> MountEntry? {
        entries.last { $0.target == target }
    }

    /// Every mount at `target` (more than one means something was stacked).
    public static func mounts(at target: String, in entries: [MountEntry]) -> [MountEntry] {
        entries.filter { $0.target == target }
    }

    /// Mounts whose target lies directly below `root` (one level: `<root>/<name>`).
    public static func children(of root: String, in entries: [MountEntry]) -> [MountEntry] {
        entries.filter { e in
            guard e.target.hasPrefix(root + "/") else { return false }
            return !e.target.dropFirst(root.count + 1).contains("/")
        }
    }
}
