import CSupport
import Glibc

/// A process that keeps a mount busy, as `fuser -m` finds it.
public struct MountHolder: Sendable, Equatable, CustomStringConvertible {
    public let pid: Int32
    /// /proc/PID/comm (the kernel's 15-character name), control characters escaped.
    public let command: String

    public init(pid: Int32, command: String) {
        self.pid = pid
        self.command = command
    }

    public var description: String { "\(pid) \(command)" }
}

/// The processes holding mounts: one pass over /proc, each process judged by the mount its working directory,
/// root, executable and open descriptors live on (statx STATX_MNT_ID: exact for bind mounts, which share a
/// device number with their source) and by the files it has mapped (/proc/PID/maps, by path).
public enum MountHolders {
    /// The holders of each mount in `mounts` (mount id -> mountpoint), by mount id; mounts nobody holds are
    /// absent from the result. Processes that vanish meanwhile are skipped.
    public static func scan(_ mounts: [Int: String]) -> [Int: [MountHolder]] {
        guard !mounts.isEmpty, let names = try? Syscalls.directoryEntries("/proc") else { return [:] }
        var out: [Int: [MountHolder]] = [:]
        for name in names {
            guard let pid = Int32(name), pid > 0 else { continue }
            let held = mountsHeld(by: pid, among: mounts)
            guard !held.isEmpty else { continue }
            let holder = MountHolder(pid: pid, command: command(of: pid))
            for id in held.sorted() { out[id, default: []].append(holder) }
        }
        return out
    }

    /// The id of the mount `path` lives on (as /proc/PID/mountinfo numbers it); nil when statx cannot say.
    public static func mountID(of path: String) -> Int? {
        let id = Int(pus_mount_id(path))
        return id == 0 ? nil : id
    }

    /// The mounts of `among` that `pid` holds.
    static func mountsHeld(by pid: Int32, among mounts: [Int: String]) -> Set<Int> {
        var held = Set<Int>()
        let base = "/proc/\(pid)"
        func look(_ path: String) {
            if let id = mountID(of: path), mounts[id] != nil { held.insert(id) }
        }
        for link in ["cwd", "root", "exe"] { look("\(base)/\(link)") }
        if let fds = try? Syscalls.directoryEntries("\(base)/fd") {
            for fd in fds { look("\(base)/fd/\(fd)") }
        }
        if let maps = try? Syscalls.readFile("\(base)/maps") {
            for (id, mp) in mounts where !held.contains(id) && mapsName(maps, under: mp) { held.insert(id) }
        }
        return held
    }

    /// Whether a /proc/PID/maps text maps a file at or below `mountpoint`.
    static func mapsName(_ maps: [UInt8], under mountpoint: String) -> Bool {
        let needle = Array((" " + mountpoint).utf8)
        for line in maps.split(separator: UInt8(ascii: "\n")) {
            // The path is the last field, after the inode; find " /mountpoint" followed by "/" or the line's end.
            guard let r = line.firstRange(of: needle) else { continue }
            let after = line[r.upperBound...]
            if after.isEmpty || after.first == UInt8(ascii: "/") { return true }
        }
        return false
    }

    static func command(of pid: Int32) -> String {
        guard let bytes = try? Syscalls.readFile("/proc/\(pid)/comm") else { return "?" }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace().escapingControls()
    }
}
