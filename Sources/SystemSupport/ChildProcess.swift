import Glibc

/// Runs a child with posix_spawn and a deadline; a child that overruns is killed (SIGKILL) and not
/// waited for (it may be stuck in uninterruptible sleep on a dead server).
public enum ChildProcess {
    /// The exit status, or nil when the deadline passed (or the child died from a signal).
    public static func run(_ executable: String, _ args: [String], deadline seconds: Double, quiet: Bool = true) -> Int32? {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if quiet {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        guard posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0 else { return nil }
        let end = Clock.monotonicSeconds() + seconds
        var status: Int32 = 0
        var pause: UInt32 = 200
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { break }
            if r < 0 && errno != EINTR { return nil }
            if Clock.monotonicSeconds() > end {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, WNOHANG)
                return nil
            }
            usleep(pause)
            pause = min(pause * 2, 10_000)
        }
        guard (status & 0x7f) == 0 else { return nil }
        return (status >> 8) & 0xff
    }

    /// This executable's path (readlink /proc/self/exe).
    public static var selfExecutable: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/usr/sbin/pus-mount"
    }

    /// The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat); nil when it does not exist.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard let bytes = try? Syscalls.readFile("/proc/\(pid)/stat") else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        // The command name (field 2) may contain spaces and ')': split after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state); field 22 is fields[19].
        guard fields.count > 19 else { return nil }
        return UInt64(fields[19])
    }
}
