import AzureFiles
import AzureFilesEmulator
import Foundation
import Glibc
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
        "xml": xml, "mountinfo": mountinfo, "config": config, "names": names, "sas": sas, "json": json,
        "ledger": ledger, "emulator": { emulator($0) }, "blob": blob,
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
            _ = try? CIFSOptions.build(
                vers: "3.0", credentialsPath: "/c/\(share).cred", uid: 1, gid: 1, fileMode: "0600", dirMode: "0700",
                extra: [n])
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
        if let t = CivilTime.parseRFC1123(s) {
            precondition(CivilTime.parseRFC1123(CivilTime(unixSeconds: t).rfc1123) == t)
        }
        _ = FilePathRules.problem(with: FilePathRules.normalize(s))
    }

    /// Any JSON: parse, and what parses serialises and parses back equal.
    static func json(_ b: [UInt8]) {
        guard let v = try? JSONParser.parse(b) else { return }
        precondition((try? JSONParser.parse(v.serialized())) == v)
        precondition((try? JSONParser.parse(v.serialized(pretty: true))) == v)
    }

    /// The emulator's request handling, behind its HTTP server: any method, path, query, headers and body from a
    /// client. Input: one flags byte, then up to 8 requests separated by a `---` line, each `METHOD PATH[?QUERY]`,
    /// header lines `Name: value`, an empty line and the body. Flag bit 0 signs the requests with the account's
    /// key as a client would (so they reach the operations, not only authentication), bit 1 picks a core whose
    /// copies stay pending, bit 2 adds x-ms-version. Every input starts from an empty account. Never a trap or a
    /// 5xx, and nothing written next to the data directory.
    static func emulator(_ b: [UInt8], blob: Bool = false) {
        guard let flags = b.first else { return }
        let env = EmulatorFuzzEnvironment.shared
        env.reset()
        for chunk in String(decoding: b.dropFirst(), as: UTF8.self).split(
            separator: "\n---\n", omittingEmptySubsequences: false
        ).prefix(8) {
            emulatorRequest(String(chunk), flags: flags, env, blob: blob)
        }
    }

    /// The emulator's Blob service, the same way (`/acct/<container>/<blob>`).
    static func blob(_ b: [UInt8]) { emulator(b, blob: true) }

    static func emulatorRequest(_ text: String, flags: UInt8, _ env: EmulatorFuzzEnvironment, blob: Bool) {
        let (head, body) =
            text.firstRange(of: "\n\n").map { (String(text[..<$0.lowerBound]), Array(text[$0.upperBound...].utf8)) }
            ?? (text, [])
        var lines = head.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let first = lines.isEmpty ? "" : lines.removeFirst()
        let space = first.firstIndex(of: " ") ?? first.endIndex
        let method = String(first[..<space])
        let target = space < first.endIndex ? String(first[first.index(after: space)...]) : "/"
        let q = target.firstIndex(of: "?")
        let path = String(target[..<(q ?? target.endIndex)])
        let query = q.map { String(target[target.index(after: $0)...]) } ?? ""
        var headers: [(String, String)] = lines.compactMap { l in
            guard let c = l.firstIndex(of: ":") else { return nil }
            return (String(l[..<c]), String(l[l.index(after: c)...].drop { $0 == " " }))
        }
        if flags & 4 != 0 { headers.append(("x-ms-version", FilesAPI.version)) }
        if flags & 1 != 0 {
            headers.append(("x-ms-date", CivilTime(unixSeconds: env.now).rfc1123))
            if !body.isEmpty { headers.append(("Content-Length", String(body.count))) }
            headers.append(
                ("Authorization", env.key.authorization(method: method, path: path, query: query, headers: headers)))
        }
        let r = EmulatorRequest(
            method: method, rawPath: path, rawQuery: query, headers: headers, body: body, remoteIP: "127.0.0.1",
            isHTTPS: true)
        let core = flags & 2 != 0 ? env.pendingCore : env.core
        let out = blob ? core.handleBlob(r) : core.handle(r)
        if case .descriptor(let fd, _, _) = out.body { close(fd) }
        if env.verbose {
            print(
                blob ? EmulatorCore.blobOperationName(r) : EmulatorCore.operationName(r), method, path, query, "->",
                out.status,
                out.headers.first { $0.0 == "x-ms-error-code" }?.1 ?? "")
        }
        precondition((200..<500).contains(out.status), "status \(out.status) for \(method) \(path)?\(query)")
        precondition(
            env.onlyDataBesideIt(), "something was written next to the data directory by \(method) \(path)?\(query)")
    }

    /// The ledger reader: whatever it accepts, it writes back and reads back equal.
    static func ledger(_ b: [UInt8]) {
        guard let l = try? JSONParser.read(b, maxDepth: 16, { try Ledger(reading: &$0) }) else { return }
        let again = try? JSONParser.read(LedgerStore.encode(l), maxDepth: 16, { try Ledger(reading: &$0) })
        precondition(again == l, "ledger round trip")
    }
}

/// One emulator data directory for the whole fuzzing run (under TMPDIR, which scripts/fuzz.sh removes), with
/// soft delete on and open handles on every share so those operations are reached too.
final class EmulatorFuzzEnvironment: Sendable {
    static let shared = EmulatorFuzzEnvironment()
    let key = SharedKey(
        account: "acct",
        key: Secret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="))!
    let now = 1_796_126_400
    let parent: String
    /// PUS_FUZZ_VERBOSE=1: one line per request (operation, status, error code), to see what a corpus reaches.
    let verbose = getenv("PUS_FUZZ_VERBOSE") != nil
    let core: EmulatorCore
    let pendingCore: EmulatorCore

    init() {
        var template = Array(
            ((getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/pus-fuzz-emulator.XXXXXX").utf8CString)
        parent = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
        let data = parent + "/data"
        let handles: @Sendable (String, String) -> [OpenHandle] = { _, _ in
            [
                OpenHandle(path: "d/f", clientIP: "10.0.0.1", clientName: "node1", openTime: 1_796_000_000),
                OpenHandle(path: "f", clientIP: "10.0.0.2", clientName: "node2", openTime: 1_796_000_000),
            ]
        }
        // Gone with the process (libFuzzer ends with exit()), wherever TMPDIR points.
        atexit { try? FileManager.default.removeItem(atPath: EmulatorFuzzEnvironment.shared.parent) }
        let fixed = now
        core = EmulatorCore(
            dataDir: data, accounts: ["acct": [key]], pageSize: 3, now: { fixed },
            settings: EmulatorSettings(softDeleteDays: 7, handles: handles))
        pendingCore = EmulatorCore(
            dataDir: data, accounts: ["acct": [key]], pageSize: 3, now: { fixed },
            settings: EmulatorSettings(softDeleteDays: 7, handles: handles, copyPendingSeconds: 5))
    }

    /// Every input starts with an empty data directory (so a crash reproduces from its input alone).
    func reset() {
        try? FileManager.default.removeItem(atPath: parent + "/data")
        mkdir(parent + "/data", 0o700)
    }

    /// The data directory is the only entry of its parent.
    func onlyDataBesideIt() -> Bool { (try? Syscalls.directoryEntries(parent)) == ["data"] }
}
