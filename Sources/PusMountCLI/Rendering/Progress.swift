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

    /// `done` of `total` items.
    func count(_ done: Int, _ total: Int, unit: String) { show("\(done)/\(total) \(unit)", force: done == total) }

    /// Clears the line.
    func finish() {
        guard enabled, shown else { return }
        Output.write(2, "\r\u{1B}[K")
        shown = false
    }
}
