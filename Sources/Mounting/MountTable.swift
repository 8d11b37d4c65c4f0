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

    public init(
        id: Int, parentID: Int, source: String, target: String, fstype: String, vfsOptions: String, fsOptions: String,
        root: String,
        device: UInt64 = 0
    ) {
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
        for o in fsOptions.split(separator: ",") where o.hasPrefix(name + "=") {
            return String(o.dropFirst(name.count + 1))
        }
        return nil
    }
}

/// Reads a mount table in mountinfo format (proc(5)) from any path (`/proc/self/mountinfo`,
/// `/proc/PID/mountinfo`, or a test fixture): a direct parser over the bytes, decoding the kernel's octal
/// escapes (`\040` for a space). libmount's parser (``readWithLibMount(path:)``) gives the same entries and is
/// the oracle in the tests; this one is about six times faster on a 10,000-mount table, which reconcile reads
/// on every pass. Malformed lines are skipped, as libmount skips them.
public enum MountTable {
    public static let processTable = "/proc/self/mountinfo"

    /// Every entry, in table order (later entries are mounted on top of earlier ones).
    public static func read(path: String = processTable) throws -> [MountEntry] {
        parse(try Syscalls.readFile(path))
    }

    /// Parses mountinfo text.
    public static func parse(_ bytes: [UInt8]) -> [MountEntry] {
        var out: [MountEntry] = []
        bytes.withUnsafeBufferPointer { b in
            var start = 0
            while start < b.count {
                let end = b[start...].firstIndex(of: 10) ?? b.count
                if let e = parseLine(UnsafeBufferPointer(rebasing: b[start..<end])) { out.append(e) }
                start = end + 1
            }
        }
        return out
    }

    /// One line: `ID PARENT MAJ:MIN ROOT MOUNTPOINT VFSOPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS`.
    static func parseLine(_ line: UnsafeBufferPointer<UInt8>) -> MountEntry? {
        var fields: [Range<Int>] = []
        fields.reserveCapacity(12)
        var i = 0
        while i < line.count {
            while i < line.count && line[i] == 32 { i += 1 }
            if i >= line.count { break }
            let s = i
            while i < line.count && line[i] != 32 { i += 1 }
            fields.append(s..<i)
        }
        guard fields.count >= 10,
            let dash = fields[6...].firstIndex(where: { $0.count == 1 && line[$0.lowerBound] == UInt8(ascii: "-") }),
            fields.count >= dash + 3
        else { return nil }
        /// A decimal number; nil when empty, not digits, or too large (the line is then malformed).
        func int(_ r: Range<Int>) -> Int? {
            guard !r.isEmpty, r.count <= 18 else { return nil }
            var v = 0
            for k in r {
                let c = line[k]
                guard c >= 48 && c <= 57 else { return nil }
                v = v * 10 + Int(c - 48)
            }
            return v
        }
        let devField = fields[2]
        guard let id = int(fields[0]), let parent = int(fields[1]),
            let colon = line[devField].firstIndex(of: UInt8(ascii: ":")),
            let major = int(devField.lowerBound..<colon), let minor = int((colon + 1)..<devField.upperBound),
            major <= 0xffff_ffff, minor <= 0xffff_ffff
        else { return nil }
        func isOctal(_ c: UInt8) -> Bool { c >= 48 && c <= 55 }
        func text(_ r: Range<Int>) -> String {
            let raw = UnsafeBufferPointer(rebasing: line[r])
            guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
            var out: [UInt8] = []
            out.reserveCapacity(raw.count)
            var k = 0
            while k < raw.count {
                if raw[k] == UInt8(ascii: "\\"), k + 3 < raw.count, isOctal(raw[k + 1]), isOctal(raw[k + 2]),
                    isOctal(raw[k + 3])
                {
                    out.append((raw[k + 1] - 48) &* 64 &+ (raw[k + 2] - 48) &* 8 &+ (raw[k + 3] - 48))
                    k += 4
                } else {
                    out.append(raw[k])
                    k += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
        let superopts = dash + 3 < fields.count ? text(fields[dash + 3]) : ""
        return MountEntry(
            id: id, parentID: parent, source: text(fields[dash + 2]), target: text(fields[4]),
            fstype: text(fields[dash + 1]),
            vfsOptions: text(fields[5]), fsOptions: superopts, root: text(fields[3]),
            device: makeDevice(major: UInt64(major), minor: UInt64(minor)))
    }

    /// glibc's makedev(3), as libmount's mnt_fs_get_devno gives it.
    public static func makeDevice(major: UInt64, minor: UInt64) -> UInt64 {
        ((major & 0xffff_f000) << 32) | ((major & 0xfff) << 8) | ((minor & 0xffff_ff00) << 12) | (minor & 0xff)
    }

    /// libmount's parse (mnt_table_parse_file), kept as the reference the direct parser is tested against.
    public static func readWithLibMount(path: String) throws -> [MountEntry] {
        try MountContext.loadLibrary()
        guard let tb = pus_mnt_new_table() else { throw SystemError("mnt_new_table", errno: ENOMEM) }
        defer { pus_mnt_unref_table(tb) }
        let rc = pus_mnt_table_parse_file(tb, path)
        if rc != 0 { throw SystemError("mnt_table_parse_file", errno: rc < 0 ? -rc : EINVAL, path: path) }
        guard let it = pus_mnt_new_iter(Int32(MNT_ITER_FORWARD)) else {
            throw SystemError("mnt_new_iter", errno: ENOMEM)
        }
        defer { pus_mnt_free_iter(it) }
        var out: [MountEntry] = []
        var fs: OpaquePointer?
        while pus_mnt_table_next_fs(tb, it, &fs) == 0, let f = fs {
            func s(_ p: UnsafePointer<CChar>?) -> String { p.map { String(cString: $0) } ?? "" }
            out.append(
                MountEntry(
                    id: Int(pus_mnt_fs_get_id(f)), parentID: Int(pus_mnt_fs_get_parent_id(f)),
                    source: s(pus_mnt_fs_get_source(f)),
                    target: s(pus_mnt_fs_get_target(f)), fstype: s(pus_mnt_fs_get_fstype(f)),
                    vfsOptions: s(pus_mnt_fs_get_vfs_options(f)), fsOptions: s(pus_mnt_fs_get_fs_options(f)),
                    root: s(pus_mnt_fs_get_root(f)), device: UInt64(pus_mnt_fs_get_devno(f))))
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

/// A mount table indexed by mount point, for passes that look up thousands of mountpoints (a linear scan per
/// lookup made reconcile quadratic in the number of mounts).
public struct MountIndex: Sendable {
    public let entries: [MountEntry]
    private let byTarget: [String: [Int]]

    public init(_ entries: [MountEntry]) {
        self.entries = entries
        var map: [String: [Int]] = [:]
        map.reserveCapacity(entries.count)
        for (i, e) in entries.enumerated() { map[e.target, default: []].append(i) }
        byTarget = map
    }

    /// The topmost mount at exactly `target`.
    public func top(at target: String) -> MountEntry? { byTarget[target]?.last.map { entries[$0] } }

    /// How many mounts sit at `target` (more than one: something was stacked).
    public func count(at target: String) -> Int { byTarget[target]?.count ?? 0 }

    /// Every mount at `target`, bottom first.
    public func all(at target: String) -> [MountEntry] { (byTarget[target] ?? []).map { entries[$0] } }
}
