import Foundation
import Glibc

/// A fresh directory under /tmp, removed when the value is dropped.
public final class TempDir: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "pus-test") {
        var template = Array("/tmp/\(label)-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        path = String(cString: p!)
        chmod(path, 0o755)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Writes `text` to `name` with `mode`, through a close-on-exec descriptor: tests run in parallel, and a
    /// write descriptor inherited by another test's child keeps the file "busy" (ETXTBSY), so a script
    /// written here could not be executed for as long as that child lives.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let p = file(name)
        let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode)
        precondition(fd >= 0, "TempDir.write \(p): \(String(cString: strerror(errno)))")
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                preconditionFailure("TempDir.write \(p): \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
        close(fd)
        chmod(p, mode)
        return p
    }

    deinit {
        // Unmount anything a test left below (tests run in private namespaces, this is belt and braces).
        try? FileManager.default.removeItem(atPath: path)
    }
}
