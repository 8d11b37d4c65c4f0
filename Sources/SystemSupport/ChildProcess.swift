import CSupport
import Glibc

/// Runs children with posix_spawn: a clean signal state (empty mask, default dispositions), a minimal
/// environment, stdin from /dev/null unless given, and a deadline; a child that overruns is killed (SIGKILL)
/// and not waited for (it may be stuck in uninterruptible sleep on a dead server).
public enum ChildProcess {
    /// The environment helpers and our own children get: a fixed PATH and nothing inherited.
    public static let minimalEnvironment = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"]

    /// A started child with optional pipes to its stdin and from its stdout (both close-on-exec here).
    public struct Spawned: Sendable {
        public let pid: pid_t
        /// Write end of the child's stdin, or -1.
        public let stdinFD: Int32
        /// Read end of the child's stdout, or -1.
        public let stdoutFD: Int32
    }

    /// Starts `executable args`. With `pipeStdin`/`pipeStdout` the caller gets the other ends; otherwise
    /// stdin is /dev/null and (when `quiet`) stdout/stderr go to /dev/null. ETXTBSY (an executable just
    /// written by a process that forked meanwhile) is retried for up to a second.
    /// `inherit` descriptors reach the child as 3, 4, ... (a lock it must keep held); nothing else above 2 does.
    public static func spawn(
        _ executable: String, _ args: [String], pipeStdin: Bool = false, pipeStdout: Bool = false,
        quiet: Bool = true, environment: [String] = minimalEnvironment, inherit: [Int32] = []
    ) throws -> Spawned {
        var inPipe: [Int32] = [-1, -1]
        var outPipe: [Int32] = [-1, -1]
        // pipe2 is not imported (a GNU extension): pipe, then FD_CLOEXEC on both ends at once.
        if pipeStdin, !Self.cloexecPipe(&inPipe) { throw SystemError("pipe") }
        if pipeStdout, !Self.cloexecPipe(&outPipe) {
            let e = SystemError("pipe")
            for fd in inPipe where fd >= 0 { close(fd) }
            throw e
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if pipeStdin {
            posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if pipeStdout {
            posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        } else if quiet {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        }
        if quiet { posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0) }
        for (k, fd) in inherit.enumerated() { posix_spawn_file_actions_adddup2(&actions, fd, Int32(3 + k)) }
        // Nothing else reaches the child, whoever forgot O_CLOEXEC (libcurl's sockets among them).
        _ = pus_spawn_closefrom(&actions, Int32(3 + inherit.count))
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        var all = sigset_t()
        sigemptyset(&empty)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attr, &empty)
        posix_spawnattr_setsigdefault(&attr, &all)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        var rc: Int32 = 0
        for attempt in 0..<50 {
            rc = posix_spawn(&pid, executable, &actions, &attr, argv, envp)
            guard rc == ETXTBSY, attempt < 49 else { break }
            usleep(20_000)
        }
        if pipeStdin { close(inPipe[0]) }
        if pipeStdout { close(outPipe[1]) }
        guard rc == 0 else {
            if pipeStdin { close(inPipe[1]) }
            if pipeStdout { close(outPipe[0]) }
            throw SystemError("posix_spawn", errno: rc, path: executable)
        }
        return Spawned(pid: pid, stdinFD: pipeStdin ? inPipe[1] : -1, stdoutFD: pipeStdout ? outPipe[0] : -1)
    }

    /// Reads a child's output from `fd` until it closes it, `onData` says to stop (given everything read so
    /// far), or the monotonic clock passes `end`: one poll-with-deadline loop for every child whose output
    /// matters (mount, unmount and remount children, the probe). Keeps at most `limit` bytes. Closes `fd`.
    public static func collectOutput(
        _ fd: Int32, until end: Double, limit: Int = 65536, onData: ((inout [UInt8]) -> Bool)? = nil
    ) -> [UInt8] {
        defer { close(fd) }
        var output: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = end - Clock.monotonicSeconds()
            if left <= 0 { break }
            let r = Syscalls.retryingInterrupts { poll(&pfd, 1, Int32(max(1, min(left * 1000, 1000)))) }
            if r < 0 { break }
            if r == 0 { continue }
            let n = buf.withUnsafeMutableBytes { b in Syscalls.retryingInterrupts { read(fd, b.baseAddress, b.count) } }
            if n <= 0 { break }
            if output.count < limit { output += buf[0..<min(n, limit - output.count)] }
            if let onData, !onData(&output) { break }
        }
        return output
    }

    /// pipe(2) with FD_CLOEXEC on both ends (pipe2 is a GNU extension Swift's Glibc does not export).
    public static func cloexecPipe(_ fds: inout [Int32]) -> Bool {
        guard pipe(&fds) == 0 else { return false }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return true
    }

    /// Waits for `pid` until `deadline` (CLOCK_MONOTONIC seconds). The exit status, or nil when it died from a
    /// signal or overran (then it was sent SIGKILL and is not waited for).
    public static func wait(_ pid: pid_t, until deadline: Double) -> Int32? {
        var status: Int32 = 0
        var pause: UInt32 = 200
        while true {
            let r = Syscalls.retryingInterrupts { waitpid(pid, &status, WNOHANG) }
            if r == pid { break }
            if r < 0 { return nil }
            if Clock.monotonicSeconds() > deadline {
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

    /// Runs a child to completion with a deadline. The exit status, or nil when it could not start, overran
    /// the deadline or died from a signal.
    public static func run(_ executable: String, _ args: [String], deadline seconds: Double, quiet: Bool = true)
        -> Int32?
    {
        guard let child = try? spawn(executable, args, quiet: quiet) else { return nil }
        return wait(child.pid, until: Clock.monotonicSeconds() + seconds)
    }

    /// This executable's path (readlink /proc/self/exe).
    public static var selfExecutable: String {
        var buf = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, buf.count - 1)
        return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "/usr/sbin/pus-mount"
    }

    /// The start time of `pid` in clock ticks since boot (field 22 of /proc/PID/stat); nil when it does not exist
    /// or has exited (a zombie, state Z or X, that its parent has not reaped yet). One open, one read into a
    /// stack buffer, one close: reconcile checks a lease per user.
    public static func startTime(of pid: Int32) -> UInt64? {
        guard pid > 0 else { return nil }
        let fd = Glibc.open("/proc/\(pid)/stat", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1024) { buf -> UInt64? in
            let n = Syscalls.retryingInterrupts { read(fd, buf.baseAddress, buf.count) }
            guard n > 0 else { return nil }
            return parseStartTime(UnsafeBufferPointer(rebasing: buf[..<n]))
        }
    }

    /// Field 22 of a /proc/PID/stat line; nil for a zombie or a malformed line.
    static func parseStartTime(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        // The command name (field 2) may contain spaces and ')': split after the last ')'.
        guard let close = bytes.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        var field = 2
        var value: UInt64 = 0
        var inField = false
        for b in bytes[(close + 1)...] {
            if b == UInt8(ascii: " ") || b == 10 {
                if inField {
                    if field == 22 { return value }
                    inField = false
                }
                continue
            }
            if !inField {
                inField = true
                field += 1
                value = 0
            }
            if field == 3 && (b == UInt8(ascii: "Z") || b == UInt8(ascii: "X")) { return nil }
            if field == 22 {
                guard b >= 48 && b <= 57 else { return nil }
                value = value &* 10 &+ UInt64(b - 48)
            }
        }
        return inField && field == 22 ? value : nil
    }
}
