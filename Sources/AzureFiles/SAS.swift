import SystemSupport

/// Shared access signatures for the File service (../shared/azure-files-protocol.md section 2) and the Blob
/// service (../shared/azure-blob-protocol.md section 3): one layout per service and `sv`.
public enum SAS {
    /// What a service SAS grants access to.
    public enum Resource: Sendable, Equatable {
        /// The whole share (`sr=s`).
        case share(String)
        /// One file (`sr=f`), path relative to the share, unencoded.
        case file(share: String, path: String)
        /// A Blob container (`sr=c`).
        case container(String)
        /// One blob (`sr=b`), its name unencoded.
        case blob(container: String, name: String)

        /// The `sr` value.
        public var signedResource: String {
            switch self {
            case .share: return "s"
            case .file: return "f"
            case .container: return "c"
            case .blob: return "b"
            }
        }

        /// True for the Blob service's resources.
        public var isBlob: Bool {
            switch self {
            case .container, .blob: return true
            case .share, .file: return false
            }
        }
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
        /// Response-header overrides (`rscc`, `rscd`, `rsce`, `rscl`, `rsct`): on reads made with the SAS the
        /// service answers these Cache-Control, Content-Disposition, Content-Encoding, Content-Language and
        /// Content-Type values instead of the stored ones.
        public var overrides: Overrides
        /// Blob only: the encryption scope (`ses`, in the string-to-sign from 2020-12-06).
        public var encryptionScope: String?

        public init(
            permissions: String, start: String? = nil, expiry: String? = nil, ip: String? = nil,
            protocolName: String? = nil, identifier: String? = nil, version: String = FilesAPI.version,
            overrides: Overrides = Overrides(), encryptionScope: String? = nil
        ) {
            self.encryptionScope = encryptionScope
            self.permissions = permissions
            self.start = start
            self.expiry = expiry
            self.ip = ip
            self.protocolName = protocolName
            self.identifier = identifier
            self.version = version
            self.overrides = overrides
        }
    }

    /// A service SAS's response-header overrides, in string-to-sign order.
    public struct Overrides: Sendable, Equatable {
        public var cacheControl, contentDisposition, contentEncoding, contentLanguage, contentType: String?

        public init(
            cacheControl: String? = nil, contentDisposition: String? = nil, contentEncoding: String? = nil,
            contentLanguage: String? = nil, contentType: String? = nil
        ) {
            self.cacheControl = cacheControl
            self.contentDisposition = contentDisposition
            self.contentEncoding = contentEncoding
            self.contentLanguage = contentLanguage
            self.contentType = contentType
        }

        /// Query name, response header and value of each override given.
        public var given: [(query: String, header: String, value: String)] {
            [
                ("rscc", "Cache-Control", cacheControl), ("rscd", "Content-Disposition", contentDisposition),
                ("rsce", "Content-Encoding", contentEncoding), ("rscl", "Content-Language", contentLanguage),
                ("rsct", "Content-Type", contentType),
            ].compactMap { q, h, v in v.map { (q, h, $0) } }
        }
    }

    /// The letters a resource takes, in canonical order: share `rcwdl`, file `rcwd`, container `racwdl`, blob
    /// `racwd` (the SDKs' order for the letters pus-mount grants).
    public static func permissionLetters(for resource: Resource) -> String {
        switch resource {
        case .share: return "rcwdl"
        case .file: return "rcwd"
        case .container: return "racwdl"
        case .blob: return "racwd"
        }
    }

    /// `letters` in canonical order (``permissionLetters(for:)``); unknown letters are rejected (nil).
    public static func canonicalPermissions(_ letters: String, for resource: Resource) -> String? {
        let order = Array(permissionLetters(for: resource))
        guard !letters.isEmpty, letters.allSatisfy({ order.contains($0) }) else { return nil }
        return String(order.filter { letters.contains($0) })
    }

    /// `/file/<account>/<share>[/<path>]` or `/blob/<account>/<container>[/<blob>]`, raw (not percent-encoded).
    public static func canonicalResource(account: String, resource: Resource) -> String {
        switch resource {
        case .share(let s): return "/file/\(account)/\(s)"
        case .file(let s, let p): return "/file/\(account)/\(s)/\(p)"
        case .container(let c): return "/blob/\(account)/\(c)"
        case .blob(let c, let b): return "/blob/\(account)/\(c)/\(b)"
        }
    }

    /// The service SAS string-to-sign (no trailing newline after `rsct`). File: 13 lines. Blob, by `sv`: the same
    /// 13 before 2018-11-09; `sr` and the snapshot time after `sv` from 2018-11-09; and `ses` from 2020-12-06
    /// (azure-blob-protocol.md 3.1). `snapshotTime` is the `snapshot=` a blob-snapshot SAS is used with.
    public static func serviceStringToSign(
        account: String, resource: Resource, fields f: ServiceFields, signedResource: String? = nil,
        snapshotTime: String? = nil
    ) -> String {
        var lines = [
            f.permissions, f.start ?? "", f.expiry ?? "", canonicalResource(account: account, resource: resource),
            f.identifier ?? "", f.ip ?? "", f.protocolName ?? "", f.version,
        ]
        if resource.isBlob && f.version >= "2018-11-09" {
            lines += [signedResource ?? resource.signedResource, snapshotTime ?? ""]
            if f.version >= "2020-12-06" { lines.append(f.encryptionScope ?? "") }
        }
        lines += [
            f.overrides.cacheControl ?? "", f.overrides.contentDisposition ?? "", f.overrides.contentEncoding ?? "",
            f.overrides.contentLanguage ?? "", f.overrides.contentType ?? "",
        ]
        return lines.joined(separator: "\n")
    }

    /// The service SAS token (no leading `?`), parameters in the SDK's order.
    public static func serviceToken(key: SharedKey, resource: Resource, fields f: ServiceFields) -> String {
        let sig = key.signature(serviceStringToSign(account: key.account, resource: resource, fields: f))
        return query(
            [
                ("st", f.start), ("se", f.expiry), ("sp", f.permissions), ("sip", f.ip),
                ("spr", f.protocolName), ("sv", f.version), ("si", f.identifier), ("sr", resource.signedResource),
                ("ses", f.encryptionScope),
            ]
                + f.overrides.given.map { ($0.query, $0.value) } + [("sig", sig)])
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

        public init(
            permissions: String, services: String = "f", resourceTypes: String, start: String? = nil,
            expiry: String, ip: String? = nil, protocolName: String? = nil, version: String = FilesAPI.version
        ) {
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

    /// The account SAS string-to-sign; from sv 2020-12-06 with the (empty) encryption-scope line.
    public static func accountStringToSign(account: String, fields f: AccountFields) -> String {
        var lines = [
            account, f.permissions, f.services, f.resourceTypes, f.start ?? "", f.expiry, f.ip ?? "",
            f.protocolName ?? "", f.version,
        ]
        if f.version >= "2020-12-06" { lines.append("") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The account SAS token (no leading `?`).
    public static func accountToken(key: SharedKey, fields f: AccountFields) -> String {
        let sig = key.signature(accountStringToSign(account: key.account, fields: f))
        return query([
            ("st", f.start), ("se", f.expiry), ("sp", f.permissions), ("sip", f.ip),
            ("spr", f.protocolName), ("sv", f.version), ("ss", f.services), ("srt", f.resourceTypes),
            ("sig", sig),
        ])
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

    /// Parses the ISO 8601 UTC forms the service accepts for `st`/`se` into Unix seconds (fractions dropped):
    /// `YYYY-MM-DD`, `YYYY-MM-DDThh:mm<TZ>`, `YYYY-MM-DDThh:mm:ss[.f{1,7}]<TZ>`, where `<TZ>` is `Z` or `±hh:mm`
    /// up to 23:59.
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
        guard b.count >= 10, let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10),
            b[4] == 45, b[7] == 45, (1...12).contains(mo), (1...31).contains(d)
        else { return nil }
        let day = CivilTime.unixSeconds(year: y, month: mo, day: d)
        if b.count == 10 { return day }
        guard b[10] == 84, b.count >= 17, let hh = num(11..<13), b[13] == 58, let mm = num(14..<16), hh < 24, mm < 60
        else { return nil }
        var i = 16
        var s = 0
        if b[i] == 58 {
            guard let ss = num(17..<19), ss < 61 else { return nil }
            s = ss
            i = 19
            if i < b.count, b[i] == 46 {
                var digits = 0
                i += 1
                while i < b.count, b[i] >= 48 && b[i] <= 57 {
                    i += 1
                    digits += 1
                }
                guard (1...7).contains(digits) else { return nil }
            }
        }
        var offset = 0
        guard i < b.count else { return nil }
        if b[i] == 90 {
            guard i + 1 == b.count else { return nil }
        } else {
            guard b[i] == 43 || b[i] == 45, b.count == i + 6, b[i + 3] == 58, let oh = num(i + 1..<i + 3),
                let om = num(i + 4..<i + 6), oh < 24, om < 60
            else { return nil }
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
        }
        return day + hh * 3600 + mm * 60 + s - offset
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
        return
            "\(days[weekday]), \(SAS.pad(day)) \(months[month - 1]) \(SAS.pad(year, 4)) \(SAS.pad(hour)):\(SAS.pad(minute)):\(SAS.pad(second)) GMT"
    }

    /// Parses an RFC 1123 date back to Unix seconds (nil when malformed). Every field is bounded (a day of one or
    /// two digits up to 31, a four-digit year, two-digit hours < 24, minutes < 60, seconds < 61), so a date from
    /// a request or a response can never overflow the arithmetic.
    public static func parseRFC1123(_ text: String) -> Int? {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func number(_ s: Substring, digits: ClosedRange<Int>, max: Int) -> Int? {
            guard digits.contains(s.utf8.count), s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = Int(s), v <= max
            else { return nil }
            return v
        }
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let m = months.firstIndex(of: String(parts[2])),
            let d = number(parts[1], digits: 1...2, max: 31), d >= 1, let y = number(parts[3], digits: 4...4, max: 9999)
        else { return nil }
        let hms = parts[4].split(separator: ":", omittingEmptySubsequences: false)
        guard hms.count == 3, let h = number(hms[0], digits: 2...2, max: 23),
            let mi = number(hms[1], digits: 2...2, max: 59),
            let s = number(hms[2], digits: 2...2, max: 60)
        else { return nil }
        return unixSeconds(year: y, month: m + 1, day: d) + h * 3600 + mi * 60 + s
    }
}

/// The pinned REST API version, used for `x-ms-version` and SAS `sv`.
public enum FilesAPI {
    public static let version = "2026-10-06"
}
