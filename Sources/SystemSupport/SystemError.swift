import Glibc

/// A failed system call: which call, on which path, and the errno it returned.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// The C function that failed, for example `openat`.
    public let syscall: String
    /// The errno value.
    public let errno: Int32
    /// The path involved, if any.
    public let path: String?

    public init(_ syscall: String, errno: Int32 = Glibc.errno, path: String? = nil) {
        self.syscall = syscall
        self.errno = errno
        self.path = path
    }

    /// strerror text for ``errno``.
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        if let path { return "\(syscall) \(path): \(reason) (errno \(errno))" }
        return "\(syscall): \(reason) (errno \(errno))"
    }
}
