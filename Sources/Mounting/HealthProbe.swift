import Glibc
import SystemSupport

/// Whether a mount answers: `stat` plus a one-entry `readdir`, run in a child process with a deadline so
/// a dead server cannot hang the caller.
public enum Health: String, Sendable, Codable {
    case ok, stale, auth, hung, missing, error

    /// True for everything but `ok`.
    public var isBad: Bool { self != .ok }
}

/// Runs probe children (`<executable> __probe <path>`, or `<executable> __probe-many` for many paths at
/// once) and classifies what they report. A probe never holds its caller past the deadline.
public struct HealthProbe: Sendable {
    public let executable: String
    public let deadline: Double

    public init(executable: String, deadline: Double = 5) {
        self.executable = executable
        self.deadline = deadline
    }

    /// One path, one child: its exit status is 0 or the errno of the failing call.
    public func check(_ path: String) -> Health {
        guard let status = ChildProcess.run(executable, [ChildCommand.probe.rawValue, path], deadline: deadline) else {
            return .hung
        }
        return Self.classify(exitStatus: status)
    }

    /// Many paths, one child probing them concurrently (a thread each, at most ``ManyProbe/concurrency`` at a
    /// time), reporting each result as it completes. Paths not reported when the deadline passes are `hung`;
    /// the child is then killed and not waited for. A child that cannot start reports every path as `error`.
    public func checkMany(_ paths: [String]) -> [Health] {
        guard !paths.isEmpty else { return [] }
        guard
            let child = try? ChildProcess.spawn(
                executable, [ChildCommand.probeMany.rawValue], pipeStdin: true, pipeStdout: true)
        else {
            return paths.map { _ in .error }
        }
        let end = Clock.monotonicSeconds() + deadline
        var input: [UInt8] = []
        for p in paths { input += Array(p.utf8) + [0] }
        _ = try? input.withUnsafeBytes { try Syscalls.writeAll(child.stdinFD, $0) }
        close(child.stdinFD)
        var results = [Health?](repeating: nil, count: paths.count)
        var reported = 0
        // Lines "INDEX STATUS" as probes complete; stop reading once every path has reported.
        _ = ChildProcess.collectOutput(child.stdoutFD, until: end) { pending in
            while let nl = pending.firstIndex(of: 10) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                let parts = line.split(separator: " ")
                guard parts.count == 2, let i = Int(parts[0]), let code = Int32(parts[1]), results.indices.contains(i),
                    results[i] == nil
                else { continue }
                results[i] = Self.classify(exitStatus: code)
                reported += 1
            }
            return reported < paths.count
        }
        _ = ChildProcess.wait(child.pid, until: reported == paths.count ? Clock.monotonicSeconds() + 1 : 0)
        return results.map { $0 ?? .hung }
    }

    /// In-process probe for mounts that cannot hang (bind mounts of a local file system): stat(2) alone. A local
    /// file system that answers stat answers readdir; and opendir costs a 32 KiB buffer per mount, which a pass
    /// over 10,000 bind mounts pays in page faults.
    public static func checkInProcess(_ path: String) -> Health {
        var st = stat()
        return stat(path, &st) == 0 ? .ok : classify(exitStatus: min(errno, 255))
    }

    /// The probe child's exit status: 0 ok, else the errno of the failing call (capped at 255).
    public static func classify(exitStatus: Int32) -> Health {
        switch exitStatus {
        case 0: return .ok
        case ENOTCONN, ESTALE, EIO, EHOSTDOWN, ECONNABORTED, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH:
            return .stale
        case EACCES, EPERM, EKEYEXPIRED, EKEYREJECTED: return .auth
        case ENOENT: return .missing
        default: return .error
        }
    }

    /// The child's side: stat and read one directory entry; exit with 0 or the errno.
    public static func runChild(path: String) -> Int32 {
        var st = stat()
        if stat(path, &st) != 0 { return min(errno, 255) }
        guard let d = opendir(path) else { return min(errno, 255) }
        defer { closedir(d) }
        errno = 0
        if readdir(d) == nil && errno != 0 { return min(errno, 255) }
        return 0
    }
}

/// The child side of ``HealthProbe/checkMany(_:)``: NUL-separated paths on stdin; one line `INDEX ERRNO` on
/// stdout per path as soon as its probe returns. A probe stuck on a dead server holds only its own thread.
public enum ManyProbe {
    /// Probes running at once; more wait for a free slot.
    public static let concurrency: UInt32 = 64

    /// Reads the paths from fd 0, probes them, and returns when every probe has reported.
    public static func run() -> Int32 {
        let input = Syscalls.readToEnd(0, limit: 1 << 24)
        let paths = input.split(separator: 0, omittingEmptySubsequences: false).dropLast(input.last == 0 ? 1 : 0)
            .map { String(decoding: $0, as: UTF8.self) }
        let slots = Semaphore(concurrency)
        let done = Semaphore(0)
        for (i, path) in paths.enumerated() {
            slots.wait()
            let started = Threads.detach(stackSize: 64 << 10) {
                let code = HealthProbe.runChild(path: path)
                let line = Array("\(i) \(code)\n".utf8)
                _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                slots.signal()
                done.signal()
            }
            if !started {
                let line = Array("\(i) \(EAGAIN)\n".utf8)
                _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
                slots.signal()
                done.signal()
            }
        }
        for _ in paths { done.wait() }
        return 0
    }
}
