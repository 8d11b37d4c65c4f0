import SystemSupport

/// Shared access signatures for the File service, laid out as in ../shared/azure-files-protocol.md section 2.
public enum SAS {
    /// What a service SAS grants access to.
    public enum Resource: Sendable, Equatable {
        /// The whole share (`sr=s`).
        case share(String)
        /// One file (`sr=f`), path relative to the share, unencoded.
        case file(share: String, path: String)
    }

    /// The fields of a service SAS. Times are `YYYY-MM-DDTHH:MM:SSZ` strings.
    public struct ServiceFields: Sendable {
        public var permissions: String
        public var start: String?
        public var expiry: String?
        public var ip: String?
        public var protocolName: String?
        public var identifier: String?
        public var version: String

        public init(permissions: String, start: String? = nil, expiry: String? = nil, ip: String? = nil,
                    protocolName: String? = nil, identifier: String? = nil, version: String = FilesAPI.version) {
            self.permissions = permissions
            self.start = start
            self.expiry = expiry
            self.ip = ip
            self.protocolName = protocolName
            self.identifier = identifier
            self.version = version
        }
    }

    /// Canonical permission order: share `rcwdl`, file `rcwd`. Unknown letters are rejected (nil).
    public static func canonicalPermissions(_ letters: String, for resource: Resource) -> String? {
        let order: [Character]
        switch resource {
        case .share: order = ["r", "c", "w", "d", "l"]
        case .file: order = ["r", "c", "w", "d"]
        }
        guard !letters.isEmpty, letters.allSatisfy({ order.contains($0) }) else { return nil }
        return String(order.filter { letters.contains($0) })
    }

    /// `/file/<account>/<share>[/<path>]`, raw (not percent-encoded).
    public static func canonicalResource(account: String, resource: Resource) -> String {
        switch resource {
        case .share(let s): return "/file/\(account)/\(s)"
        case .file(let s, let p): return "/file/\(account)/\(s)/\(p)"
        }
    }

    /// The 13-line service SAS string-to-sign (no trailing newline after `rsct`).
    public static func serviceStringToSign(account: String, resource: Resource, fields f: ServiceFields) -> String {
        [f.permissions, f.start ?? "", f.expiry ?? "", canonicalResource(account: account, resource: resource),
         f.identifier ?? "", f.ip ?? "", f.protocolName ?? "", f.version, "", "", "", "", ""].joined(separator: "\n")
    }

    /// The service SAS token (no leading `?`), parameters in the SDK's order.
    public static func serviceToken(key: SharedKey, resource: Resource, fields f: ServiceFields) -> String {
        let sig = key.signature(serviceStringToSign(account: key.account, resource: resource, fields: f))
        let sr: String
        switch resource {
        case .share: sr = "s"
        case .file: sr = "f"
        }
        return query([("st", f.start), ("se", f.expiry), ("sp", f.permissions), ("sip", f.ip),
                      ("spr", f.protocolName), ("sv", f.version), ("si", f.identifier), ("sr", sr), ("sig", sig)])
    }

    /// The fields of an account SAS.
    public struct AccountFields: Sendable {
        public var permissions: String
        public var services: String
        public var resourceTypes: String
        public var start: String?
        public var expiry: String
        public var ip: String?
        public var protocolName: String?
        public var version: String

        public init(permissions: String, services: String = "f", resourceTypes: String, start: String? = nil,
                    expiry: String, ip: String? = nil, protocolName: String? = nil, version: String = FilesAPI.version) {
            self.permissions = permissions
            self.services = services
            self.resourceTypes = resourceTypes
            self.start = start
            self.expiry = expiry
            self.ip = ip
            self.protocolName = protocolName
            self.version = version
        }
    }

    /// The account SAS string-to-sign (form for sv >= 2020-12-06, with the empty encryption-scope line).
    public static func accountStringToSign(account: String, fields f: AccountFields) -> String {
        [account, f.permissions, f.services, f.resourceTypes, f.start ?? "", f.expiry, f.ip ?? "",
         f.protocolName ?? "", f.version, ""].joined(separator: "\n") + "\n"
    }

    /// The account SAS token (no leading `?`).
    public static func accountToken(key: SharedKey, fields f: AccountFields) -> String {
        let sig = key.signature(accountStringToSign(account: key.account, fields: f))
        return query([("st", f.start), ("se", f.expiry), ("sp", f.permissions), ("sip", f.ip),
                      ("spr", f.protocolName), ("sv", f.version), ("ss", f.services), ("srt", f.resourceTypes),
                      ("sig", sig)])
    }

    static func query(_ items: [(String, String?)]) -> String {
        items.compactMap { name, value in
            guard let value, !value.isEmpty else { return nil }
            return name + "=" + PercentEncoding.encode(value, safe: "/")
        }.joined(separator: "&")
    }

    /// Formats a Unix time as `YYYY-MM-DDTHH:MM:SSZ`.
    public static func timestamp(_ unixSeconds: Int) -> String {
        let c = CivilTime(unixSeconds: unixSeconds)
        return "\(pad(c.year, 4))-\(pad(c.month))-\(pad(c.day))T\(pad(c.hour)):\(pad(c.minute)):\(pad(c.second))Z"
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` or `YYYY-MM-DD` into Unix seconds.
    public static func parseTimestamp(_ text: String) -> Int? {
        let b = Array(text.utf8)
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= b.count else { return nil }
            var v = 0
            for i in r {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard b.count == 10 || b.count == 20, let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10),
              b[4] == 45, b[7] == 45, (1...12).contains(mo), (1...31).contains(d) else { return nil }
        var h = 0, mi = 0, s = 0
        if b.count == 20 {
            guard b[10] == 84, b[19] == 90, b[13] == 58, b[16] == 58, let hh = num(11..<13), let mm = num(14..<16),
                  let ss = num(17..<19), hh < 24, mm < 60, ss < 61 else { return nil }
            h = hh; mi = mm; s = ss
        }
        return CivilTime.unixSeconds(year: y, month: mo, day: d) + h * 3600 + mi * 60 + s
    }

    static func pad(_ v: Int, _ width: Int = 2) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
}

/// UTC calendar arithmetic without Foundation's Calendar (days-from-civil, Howard Hinnant's algorithm).
public struct CivilTime: Sendable {
    public let year, month, day, hour, minute, second, weekday: Int

    public init(unixSeconds t: Int) {
        let days = Int((Double(t) / 86400).rounded(.down))
        let secs = t - days * 86400
        hour = secs / 3600
        minute = secs % 3600 / 60
        second = secs % 60
        weekday = ((days % 7) + 11) % 7  // 0 = Sunday; 1970-01-01 was a Thursday
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Unix seconds at 00:00:00 UTC of the given date.
    public static func unixSeconds(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return (era * 146097 + doe - 719468) * 86400
    }

    /// RFC 1123 date as used in `x-ms-date`: `Tue, 01 Dec 2026 12:00:00 GMT`.
    public var rfc1123: String {
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(days[weekday]), \(SAS.pad(day)) \(months[month - 1]) \(SAS.pad(year, 4)) \(SAS.pad(hour)):\(SAS.pad(minute)):\(SAS.pad(second)) GMT"
    }

    /// Parses an RFC 1123 date back to Unix seconds (nil when malformed).
    public static func parseRFC1123(_ text: String) -> Int? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let d = Int(parts[1]), let m = months.firstIndex(of: String(parts[2])),
              let y = Int(parts[3]) else { return nil }
        let hms = parts[4].split(separator: ":").compactMap { Int($0) }
        guard hms.count == 3 else { return nil }
        return unixSeconds(year: y, month: m + 1, day: d) + hms[0] * 3600 + hms[1] * 60 + hms[2]
    }
}

/// The pinned REST API version, used for `x-ms-version` and SAS `sv`.
public enum FilesAPI {
    public static let version = "2026-10-06"
}
