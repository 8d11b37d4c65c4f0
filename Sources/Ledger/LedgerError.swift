/// Why the ledger could not be used. The file is always left untouched; PusMountCLI maps these to exit 1
/// with the hint.
public struct LedgerError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Not JSON, or no `version`.
        case unparseable
        /// Written by a newer pus-mount.
        case futureVersion(Int)
        /// JSON with a known version whose content does not match the format.
        case malformed
    }

    public let kind: Kind
    public let path: String
    public let detail: String

    public init(_ kind: Kind, path: String, detail: String = "") {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    public var message: String {
        switch kind {
        case .unparseable: return "ledger \(path) does not parse; it was left untouched"
        case .futureVersion(let v):
            return
                "ledger \(path) has format version \(v); this pus-mount understands up to \(Ledger.currentVersion); it was left untouched"
        case .malformed:
            return
                "ledger \(path) does not match its format version\(detail.isEmpty ? "" : ": \(detail)"); it was left untouched"
        }
    }

    public var hint: String {
        switch kind {
        case .futureVersion: return "run the newer pus-mount that wrote it"
        case .unparseable, .malformed:
            return
                "the next attach, detach or reconcile rebuilds it by itself (the file moved aside, sessions from \(path).bak, mounts from the mount table); `pus-mount reconcile` does it now"
        }
    }

    public var description: String { "\(message); hint: \(hint)" }
}
