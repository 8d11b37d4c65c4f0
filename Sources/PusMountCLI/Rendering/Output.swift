import Glibc
import Logging
import SystemSupport

/// A swift-log handler that writes one redacted line per message to stderr.
struct StderrLogHandler: LogHandler {
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = "pus-mount: \(event.level): \(event.message)"
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        if !all.isEmpty {
            line += " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        Output.stderr(Redaction.redact(line))
    }
}

/// Writes to the standard streams without Foundation.
enum Output {
    static func stdout(_ text: String) { write(1, text + "\n") }
    static func stderr(_ text: String) { write(2, text + "\n") }

    static func write(_ fd: Int32, _ text: String) {
        _ = try? Array(text.utf8).withUnsafeBytes { try Syscalls.writeAll(fd, $0) }
    }

    /// Left-aligned columns for human output.
    static func table(_ rows: [[String]]) -> [String] {
        guard let width = rows.map(\.count).max() else { return [] }
        var widths = [Int](repeating: 0, count: width)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        return rows.map { r in
            r.enumerated().map { i, c in i == r.count - 1 ? c : c + String(repeating: " ", count: widths[i] - c.count) }
                .joined(separator: "  ")
        }
    }
}
