import Glibc

/// Facts about the running system that leases and surveys depend on.
public enum Host {
    /// This boot's id (`/proc/sys/kernel/random/boot_id`): a lease made in another boot is dead.
    /// "unknown" when the file cannot be read (a lease then never looks like it came from this boot).
    public static func bootID() -> String {
        guard let bytes = try? Syscalls.readFile("/proc/sys/kernel/random/boot_id") else { return "unknown" }
        return String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
    }

    /// Seconds since boot (`/proc/uptime`), nil when unreadable.
    public static func uptimeSeconds() -> Double? {
        guard let bytes = try? Syscalls.readFile("/proc/uptime") else { return nil }
        return String(decoding: bytes, as: UTF8.self).split(separator: " ").first.flatMap { Double($0) }
    }

    /// The soft limit on open files (RLIMIT_NOFILE), for code that holds many descriptors at once.
    public static func openFileLimit() -> Int {
        var rl = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &rl) == 0 else { return 1024 }
        return rl.rlim_cur == rlim_t.max ? 1 << 20 : Int(rl.rlim_cur)
    }
}
