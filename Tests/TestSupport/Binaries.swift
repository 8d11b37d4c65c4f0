import CSupport
import Foundation
import SystemSupport

/// Paths of the package's built executables (next to the test bundle in .build/<triple>/debug).
public enum Binaries {
    public static var directory: String {
        if let d = ProcessInfo.processInfo.environment["PUS_BIN_DIR"] { return d }
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }
    public static var pusMount: String { "\(directory)/pus-mount" }
    public static var emulator: String { "\(directory)/azfiles-emulator" }
}

/// The outcome of a child process.
public struct RunResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs executables and collects their output. Children are spawned with posix_spawn and a clean
/// signal state (empty mask, default dispositions): Foundation's Process hands its children a mask with
/// SIGCHLD blocked, which makes a shell's `wait` hang forever.
public enum Run {
    /// Runs `path args` with extra environment, waits, and returns status and output.
    @discardableResult
    public static func run(_ path: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil) throws
        -> RunResult
    {
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        // Close-on-exec pipes, and a child that inherits nothing but 0-2: tests run in parallel, and a
        // descriptor of one test leaking into another's child (a pipe, a file being written) made helpers see
        // strange descriptors and scripts fail to exec (ETXTBSY).
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        var inPipe: [Int32] = [0, 0]
        guard ChildProcess.cloexecPipe(&outPipe), ChildProcess.cloexecPipe(&errPipe), ChildProcess.cloexecPipe(&inPipe)
        else {
            throw POSIXError(.EMFILE)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        pus_spawn_closefrom(&actions, 3)
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
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attr, argv, envp)
        close(inPipe[0])
        close(outPipe[1])
        close(errPipe[1])
        if let stdin {
            _ = stdin.utf8CString.withUnsafeBufferPointer { write(inPipe[1], $0.baseAddress, $0.count - 1) }
        }
        close(inPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .ENOENT)
        }
        var out = Data()
        var err = Data()
        var fds = [
            pollfd(fd: outPipe[0], events: Int16(POLLIN), revents: 0),
            pollfd(fd: errPipe[0], events: Int16(POLLIN), revents: 0),
        ]
        var open = 2
        var buf = [UInt8](repeating: 0, count: 65536)
        while open > 0 {
            if poll(&fds, 2, -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for i in 0..<2 where fds[i].fd >= 0 && fds[i].revents != 0 {
                let n = read(fds[i].fd, &buf, buf.count)
                if n > 0 {
                    if i == 0 { out.append(contentsOf: buf[0..<n]) } else { err.append(contentsOf: buf[0..<n]) }
                } else if n == 0 || errno != EINTR {
                    close(fds[i].fd)
                    fds[i].fd = -1
                    open -= 1
                }
            }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return RunResult(
            status: code, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
    }

    /// Runs a shell command line.
    @discardableResult
    public static func sh(_ command: String, env: [String: String] = [:]) throws -> RunResult {
        try run("/bin/sh", ["-c", command], env: env)
    }
}
