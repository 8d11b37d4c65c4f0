import AzureFiles
import Ledger
import Mounting
import Orchestrator
import PusMountCLI
import SystemSupport
import TOML

/// The parsers pus-mount feeds with untrusted or hand-edited bytes. Each target must never crash, hang or
/// trap, whatever the input; where it accepts, the result must survive a round trip.
enum FuzzTargets {
    static let all: [String: @Sendable ([UInt8]) -> Void] = [
        "xml": xml, "mountinfo": mountinfo, "config": config, "names": names, "sas": sas, "json": json, "ledger": ledger,
    ]

    /// Error and listing bodies from an endpoint.
    static func xml(_ b: [UInt8]) {
        guard let root = XMLElement.parse(b) else { return }
        _ = root.text(of: "Code")
        _ = AzureError.from(HTTPResponse(status: 500, headers: [:], body: b), operation: "fuzz", clientRequestID: nil)
    }

    /// /proc/self/mountinfo (and any file pointed at with PUS_MOUNT_MOUNTINFO).
    static func mountinfo(_ b: [UInt8]) {
        let entries = MountTable.parse(b)
        let index = MountIndex(entries)
        for e in entries { precondition(index.top(at: e.target) != nil) }
    }

    /// pus-mount.toml.
    static func config(_ b: [UInt8]) {
        _ = try? ConfigLoader.parse(bytes: b, source: "fuzz.toml")
        // The TOML parser on its own as well (the loader stops at the first key it does not know).
        _ = try? TOML.parse(bytes: b)
    }

    /// User names: the policy, the share name and the option string built from them.
    static func names(_ b: [UInt8]) {
        let n = String(decoding: b, as: UTF8.self)
        if UserPolicy.problem(with: n) == nil {
            let share = ShareName.forUser(n, prefix: "pus")
            precondition(ShareName.isValid(share), "share name \(share) for \(n.debugDescription)")
            _ = try? CIFSOptions.build(vers: "3.0", credentialsPath: "/c/\(share).cred", uid: 1, gid: 1, fileMode: "0600", dirMode: "0700", extra: [n])
        }
        _ = UserPolicy.quoted(n)
        _ = Redaction.redact(n)
    }

    /// SAS times and tokens, query strings, percent-encoding.
    static func sas(_ b: [UInt8]) {
        let s = String(decoding: b, as: UTF8.self)
        // Whatever parses and lies in years 1970-9999 formats back to a time that parses to itself.
        if let t = SAS.parseTimestamp(s), (0...253_402_300_799).contains(t) {
            precondition(SAS.parseTimestamp(SAS.timestamp(t)) == t)
        }
        _ = SharedKey.stringToSign(account: "a", method: "GET", path: "/a/" + s, query: s, headers: [("x-ms-" + s, s)])
        let decoded = PercentEncoding.decode(s)
        precondition(PercentEncoding.decode(PercentEncoding.encode(decoded)) == decoded)
        // An x-ms-date (the emulator reads it from every request): whatever parses formats back to itself.
        if let t = CivilTime.parseRFC1123(s) { precondition(CivilTime.parseRFC1123(CivilTime(unixSeconds: t).rfc1123) == t) }
        _ = FilePathRules.problem(with: FilePathRules.normalize(s))
    }

    /// Any JSON: parse, and what parses serialises and parses back equal.
    static func json(_ b: [UInt8]) {
        guard let v = try? JSONParser.parse(b) else { return }
        precondition((try? JSONParser.parse(v.serialized())) == v)
        precondition((try? JSONParser.parse(v.serialized(pretty: true))) == v)
    }

    /// The ledger reader: whatever it accepts, it writes back and reads back equal.
    static func ledger(_ b: [UInt8]) {
        guard let l = try? JSONParser.read(b, maxDepth: 16, { try Ledger(reading: &$0) }) else { return }
        let again = try? JSONParser.read(LedgerStore.encode(l), maxDepth: 16, { try Ledger(reading: &$0) })
        precondition(again == l, "ledger round trip")
    }
}
