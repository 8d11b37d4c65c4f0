import Glibc
import SystemSupport

/// Progress on stderr for people at a terminal: one line rewritten in place, at most five times a second, and
/// nothing at all when stderr is not a TTY or the output is `--json` (pipes and logs stay clean).
final class Progress {
    let label: String
    let enabled: Bool
    private var last = 0.0
    private var shown = false

    init(label: String, json: Bool) {
        self.label = label
        enabled = !json && isatty(2) == 1
    }

    /// Shows `text` (throttled unless `force`).
    func show(_ text: String, force: Bool = false) {
        guard enabled else { return }
        let now = Clock.monotonicSeconds()
        guard force || now - last >= 0.2 else { return }
        last = now
        shown = true
        Output.write(2, "\r\u{1B}[K\(label): \(text)")
    }

    /// Bytes moved: amount, percentage, rate and time left.
    func bytes(_ done: Int64, _ total: Int64) {
        guard enabled else { return }
        if started == nil { started = Clock.monotonicSeconds() }
        let secs = max(0.001, Clock.monotonicSeconds() - started!)
        let rate = Double(done) / secs
        let pct = total > 0 ? Int(Double(done) * 100 / Double(total)) : 100
        let eta = rate > 0 && total > done ? " ETA \(Self.duration(Double(total - done) / rate))" : ""
        show(
            "\(Self.size(done)) of \(Self.size(total)) (\(pct)%), \(Self.size(Int64(rate)))/s\(eta)",
            force: done == total)
    }

    private var started: Double?

    static func size(_ n: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var v = Double(n)
        var i = 0
        while v >= 1024 && i < units.count - 1 {
            v /= 1024
            i += 1
        }
        return i == 0 ? "\(n) B" : String(Int(v * 10) / 10) + "." + String(Int(v * 10) % 10) + " " + units[i]
    }

    static func duration(_ s: Double) -> String {
        let t = Int(s.rounded(.up))
        return t >= 3600 ? "\(t / 3600)h\(t % 3600 / 60)m" : t >= 60 ? "\(t / 60)m\(t % 60)s" : "\(t)s"
    }

    /// `done` of `total` items.
    func count(_ done: Int, _ total: Int, unit: String) { show("\(done)/\(total) \(unit)", force: done == total) }

    /// Clears the line.
    func finish() {
        guard enabled, shown else { return }
        Output.write(2, "\r\u{1B}[K")
        shown = false
    }
}
