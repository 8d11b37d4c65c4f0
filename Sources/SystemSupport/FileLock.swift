import Glibc

/// An exclusive flock(2) on a lock file, released when the value is dropped (or the process dies).
/// Waiting is bounded: ``acquire(path:timeout:)`` throws ``LockTimeout`` so callers map it to exit 75.
public final class FileLock {
    private let fd: Int32
    /// The locked descriptor: a child that must keep the lock held while it runs (a mount in flight) inherits it.
    public var descriptor: Int32 { fd }
    /// The lock file path.
    public let path: String

    /// The lock stayed busy for the whole timeout.
    public struct LockTimeout: Error, CustomStringConvertible {
        public let path: String
        public let seconds: Double
        public var description: String { "lock \(path) still busy after \(seconds) s" }
    }

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Opens (creating, mode 0600) `path` and takes LOCK_EX, polling with LOCK_NB until `timeout` seconds pass.
    public static func acquire(path: String, timeout: Double) throws -> FileLock {
        let fd = try Syscalls.open(path, O_RDWR | O_CREAT, mode: 0o600)
        let deadline = Clock.monotonicSeconds() + timeout
        var pause: UInt32 = 1_000
        while Syscalls.retryingInterrupts({ flock(fd, LOCK_EX | LOCK_NB) }) != 0 {
            let err = errno
            guard err == EWOULDBLOCK else {
                close(fd)
                throw SystemError("flock", errno: err, path: path)
            }
            if Clock.monotonicSeconds() >= deadline {
                close(fd)
                throw LockTimeout(path: path, seconds: timeout)
            }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
        return FileLock(fd: fd, path: path)
    }

    /// Takes LOCK_EX only if it is free right now: nil when another process holds it (never waits).
    public static func attempt(path: String) throws -> FileLock? {
        let fd = try Syscalls.open(path, O_RDWR | O_CREAT, mode: 0o600)
        if Syscalls.retryingInterrupts({ flock(fd, LOCK_EX | LOCK_NB) }) != 0 {
            let err = errno
            close(fd)
            if err == EWOULDBLOCK { return nil }
            throw SystemError("flock", errno: err, path: path)
        }
        return FileLock(fd: fd, path: path)
    }

    deinit {
        flock(fd, LOCK_UN)
        close(fd)
    }
}

/// Monotonic and wall clock readings without Foundation.
public enum Clock {
    /// CLOCK_MONOTONIC in seconds.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Seconds since the epoch (CLOCK_REALTIME).
    public static func unixSeconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec)
    }
}
