import AzureFiles
import SystemSupport

/// A request as the emulator core sees it: raw (still percent-encoded) path and query, headers as received.
public struct EmulatorRequest: Sendable {
    public var method: String
    public var rawPath: String
    public var rawQuery: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var remoteIP: String
    /// True when the request arrived over HTTPS (or the emulator treats loopback HTTP as HTTPS).
    public var isHTTPS: Bool

    public init(
        method: String, rawPath: String, rawQuery: String, headers: [(String, String)], body: [UInt8],
        remoteIP: String, isHTTPS: Bool
    ) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
        self.body = body
        self.remoteIP = remoteIP
        self.isHTTPS = isHTTPS
    }

    /// Header value by case-insensitive name (duplicates joined with ",").
    public func header(_ name: String) -> String? {
        let values = headers.filter { $0.0.lowercased() == name }.map(\.1)
        return values.isEmpty ? nil : values.joined(separator: ",")
    }

    /// Query parameters, percent-decoded; the last value of a repeated name wins.
    public var query: [String: String] {
        var q: [String: String] = [:]
        for part in rawQuery.split(separator: "&") {
            if let eq = part.firstIndex(of: "=") {
                q[String(part[..<eq]).lowercased()] = PercentEncoding.decode(String(part[part.index(after: eq)...]))
            } else {
                q[String(part).lowercased()] = ""
            }
        }
        return q
    }
}

/// A response from the emulator core; a file body is streamed by the HTTP adapter.
public struct EmulatorResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// `length` bytes of an open file from `offset`; the adapter reads it with pread and closes it.
        case descriptor(fd: Int32, offset: Int64, length: Int64)
    }
    public var status: Int
    public var headers: [(String, String)]
    public var body: Body
    /// When true the adapter breaks the connection instead of answering (fault injection).
    public var dropConnection = false

    public init(status: Int, headers: [(String, String)] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// An Azure-style error: XML body plus `x-ms-error-code`.
    public static func error(_ status: Int, _ code: AzureError.Code, _ message: String, extra: [(String, String)] = [])
        -> EmulatorResponse
    {
        var xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>\(code.rawValue)</Code><Message>\(XMLElement.escape(message))\nRequestId:emulator\nTime:\(SAS.timestamp(Clock.unixSeconds()))</Message>"
        for (k, v) in extra { xml += "<\(k)>\(XMLElement.escape(v))</\(k)>" }
        xml += "</Error>"
        return EmulatorResponse(
            status: status, headers: [("x-ms-error-code", code.rawValue), ("Content-Type", "application/xml")],
            body: .bytes(Array(xml.utf8)))
    }
}

/// Faults to inject, parsed from `--fault` specs:
/// `STATUS:PROBABILITY[:retry-after=SECONDS]` (e.g. `503:0.3`), `latency:MILLISECONDS[:PROBABILITY]`, `drop:PROBABILITY`.
public struct FaultPlan: Sendable {
    public struct StatusFault: Sendable {
        public var status: Int
        public var probability: Double
        public var retryAfter: String?
        /// An error code and message of the service's (`503:ServerBusy:P[:ingress|egress|operations]`).
        public var code: String?
        public var message: String?
    }
    public var statuses: [StatusFault] = []
    public var latencyMs: Int = 0
    public var latencyProbability: Double = 0
    public var dropProbability: Double = 0

    public init() {}

    /// Adds one spec; returns an error message for a malformed one.
    public mutating func add(_ spec: String) -> String? {
        let parts = spec.split(separator: ":").map(String.init)
        guard parts.count >= 2 else { return "fault spec \(spec): expected KIND:VALUE" }
        switch parts[0] {
        case "latency":
            guard let ms = Int(parts[1]), ms >= 0 else { return "fault spec \(spec): latency takes milliseconds" }
            latencyMs = ms
            latencyProbability = parts.count > 2 ? (Double(parts[2]) ?? -1) : 1
            guard (0...1).contains(latencyProbability) else { return "fault spec \(spec): probability must be 0..1" }
        case "drop":
            guard let p = Double(parts[1]), (0...1).contains(p) else {
                return "fault spec \(spec): probability must be 0..1"
            }
            dropProbability = p
        default:
            // STATUS:PROB, or STATUS:CODE:PROB with the service's message for the code (ServerBusy names which
            // account limit: ingress, egress or operations per second, the last by default).
            var rest = parts.dropFirst()
            var code: String?
            if let c = rest.first, Double(c) == nil, c.first?.isLetter == true {
                code = c
                rest = rest.dropFirst()
            }
            guard let status = Int(parts[0]), (400...599).contains(status), let p = rest.first.flatMap(Double.init),
                (0...1).contains(p)
            else {
                return
                    "fault spec \(spec): expected STATUS:PROBABILITY or STATUS:CODE:PROBABILITY, e.g. 503:0.3 or 503:ServerBusy:0.3:egress"
            }
            var retryAfter: String? = "1"
            var message: String?
            if code == "ServerBusy" { message = "Operations per second is over the account limit." }
            for extra in rest.dropFirst() {
                if extra.hasPrefix("retry-after=") { retryAfter = String(extra.dropFirst(12)) }
                if extra == "no-retry-after" { retryAfter = nil }
                if extra == "ingress" { message = "Ingress is over the account limit." }
                if extra == "egress" { message = "Egress is over the account limit." }
                if extra == "operations" { message = "Operations per second is over the account limit." }
            }
            statuses.append(
                StatusFault(status: status, probability: p, retryAfter: retryAfter, code: code, message: message))
        }
        return nil
    }
}

/// Server settings that are not part of the data-plane API.
public struct EmulatorSettings: Sendable {
    /// Share soft delete (on the real service a management-plane setting, invisible to Shared Key clients):
    /// a deleted share, its data, metadata and snapshots stay restorable for this many days. nil: off.
    public var softDeleteDays: Int?
    /// The open SMB handles of a share (List Handles): the end-to-end test asks samba, tests inject them.
    public var handles: (@Sendable (_ account: String, _ share: String) -> [OpenHandle])?
    /// Copy File answers `pending` and the copy stays pending for this many seconds (then `success`), so
    /// clients can test their polling and Abort Copy File. nil: copies finish before the answer.
    public var copyPendingSeconds: Int?
    /// Shares an account may hold (Create Share beyond: 409 TotalSharesCountExceedsAccountLimit), by account
    /// name, `*` for every account.
    public var maxShares: [String: Int] = [:]

    public init(
        softDeleteDays: Int? = nil, handles: (@Sendable (String, String) -> [OpenHandle])? = nil,
        copyPendingSeconds: Int? = nil, maxShares: [String: Int] = [:]
    ) {
        self.maxShares = maxShares
        self.softDeleteDays = softDeleteDays
        self.handles = handles
        self.copyPendingSeconds = copyPendingSeconds
    }
}

/// An open SMB handle on a share, as List Handles reports it.
public struct OpenHandle: Sendable {
    public var path: String
    public var clientIP: String
    public var clientName: String
    public var openTime: Int

    public init(path: String, clientIP: String, clientName: String, openTime: Int) {
        self.path = path
        self.clientIP = clientIP
        self.clientName = clientName
        self.openTime = openTime
    }

    /// Parses a handles hook's output: one handle per line, `PATH<TAB>CLIENT_IP<TAB>CLIENT_NAME` (path relative
    /// to the share root; missing fields are empty).
    public static func parse(_ text: String, now: Int) -> [OpenHandle] {
        text.split(separator: "\n").compactMap { line in
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard let p = f.first, !p.isEmpty else { return nil }
            return OpenHandle(
                path: p, clientIP: f.count > 1 ? f[1] : "", clientName: f.count > 2 ? f[2] : "", openTime: now)
        }
    }
}
