import Foundation

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

    /// Writes `text` to `name` with `mode`.
    @discardableResult
    public func write(_ name: String, _ text: String, mode: mode_t = 0o644) -> String {
        let p = file(name)
        FileManager.default.createFile(atPath: p, contents: Data(text.utf8))
        chmod(p, mode)
        return p
    }

    deinit {
        // Unmount anything a test left below (tests run in private namespaces, this is belt and braces).
        try? FileManager.default.removeItem(atPath: path)
    }
}
