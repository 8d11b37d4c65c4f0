import AzureFiles
import SystemSupport

/// What a request does, for SAS permission and resource-type checks.
struct Operation {
    /// `share` is a File share or a Blob container.
    enum Scope { case service, share, object }
    /// Permission letters any one of which allows the operation.
    let anyOf: String
    let scope: Scope
    /// Blob: List Blobs, the one container operation a container SAS (`sr=c`) may do.
    var listsBlobs = false
}

/// Which service a listener serves: the SAS layouts and resource letters differ.
enum StorageService { case file, blob }

/// Shared Key and SAS verification, as the service does it (403 AuthenticationFailed / Authorization*).
struct Authenticator {
    let account: String
    let keys: [SharedKey]
    let now: Int
    var service = StorageService.file

    /// Nil when the request may proceed; otherwise the 403 to send.
    func check(_ r: EmulatorRequest, share: String?, path: String, op: Operation) -> EmulatorResponse? {
        let q = r.query
        if q["sig"] != nil { return checkSAS(r, q: q, share: share, path: path, op: op) }
        guard let auth = r.header("authorization") else {
            return .error(
                403, .authenticationFailed,
                "Server failed to authenticate the request. No Authorization header and no SAS.")
        }
        let prefix = "SharedKey \(account):"
        guard auth.hasPrefix(prefix) else {
            return .error(
                403, .authenticationFailed,
                "Server failed to authenticate the request. Unsupported or malformed Authorization header.")
        }
        guard let dateText = r.header("x-ms-date") ?? r.header("date"), let date = CivilTime.parseRFC1123(dateText)
        else {
            return .error(
                403, .authenticationFailed,
                "Server failed to authenticate the request. x-ms-date is missing or malformed.")
        }
        if abs(date - now) > 15 * 60 {
            return .error(
                403, .authenticationFailed,
                "Server failed to authenticate the request. Request date header too old or too far in the future: clock skew."
            )
        }
        let given = String(auth.dropFirst(prefix.count))
        let sts = SharedKey.stringToSign(
            account: account, method: r.method, path: r.rawPath, query: r.rawQuery,
            headers: r.headers.filter { $0.0.lowercased() != "authorization" })
        if keys.contains(where: { $0.signature(sts) == given }) { return nil }
        return .error(
            403, .authenticationFailed,
            "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
            extra: [
                (
                    "AuthenticationErrorDetail",
                    "The MAC signature found in the HTTP request is not the same as any computed signature. Server used following string to sign: '\(sts)'."
                )
            ])
    }

    func checkSAS(_ r: EmulatorRequest, q: [String: String], share: String?, path: String, op: Operation)
        -> EmulatorResponse?
    {
        let fail = { (detail: String) -> EmulatorResponse in
            .error(403, .authenticationFailed, "Server failed to authenticate the request. \(detail)")
        }
        guard let sv = q["sv"], let sig = q["sig"] else { return fail("sv and sig are required.") }
        guard service == .blob ? BlobVersions.accepts(sv) : ServiceVersions.supported.contains(sv) else {
            return fail("sv=\(sv) is not a version of the \(service == .blob ? "Blob" : "File") service.")
        }
        let sp = q["sp"] ?? ""
        let sts: String
        let isAccount = q["ss"] != nil || q["srt"] != nil
        if isAccount {
            guard let ss = q["ss"], let srt = q["srt"], let se = q["se"] else {
                return fail("ss, srt and se are required.")
            }
            sts = SAS.accountStringToSign(
                account: account,
                fields: SAS.AccountFields(
                    permissions: sp, services: ss, resourceTypes: srt, start: q["st"], expiry: se, ip: q["sip"],
                    protocolName: q["spr"], version: sv))
        } else {
            guard let sr = q["sr"], let share else { return fail("sr is required and the URL must name a share.") }
            let resource: SAS.Resource
            switch (service, sr) {
            case (.file, "s"): resource = .share(share)
            case (.file, "f"):
                guard !path.isEmpty else { return fail("a file SAS must address a file.") }
                resource = .file(share: share, path: path)
            case (.blob, "c"): resource = .container(share)
            case (.blob, "b"), (.blob, "bs"):
                guard !path.isEmpty else { return fail("a blob SAS must address a blob.") }
                resource = .blob(container: share, name: path)
            default: return fail("sr=\(sr) is not supported by the \(service == .blob ? "Blob" : "File") service.")
            }
            sts = SAS.serviceStringToSign(
                account: account, resource: resource,
                fields: SAS.ServiceFields(
                    permissions: sp, start: q["st"], expiry: q["se"], ip: q["sip"], protocolName: q["spr"],
                    identifier: q["si"], version: sv,
                    overrides: SAS.Overrides(
                        cacheControl: q["rscc"], contentDisposition: q["rscd"], contentEncoding: q["rsce"],
                        contentLanguage: q["rscl"], contentType: q["rsct"]), encryptionScope: q["ses"]),
                signedResource: sr, snapshotTime: sr == "bs" ? q["snapshot"] : nil)
        }
        guard keys.contains(where: { $0.signature(sts) == sig }) else {
            return .error(
                403, .authenticationFailed, "Server failed to authenticate the request. Signature did not match.",
                extra: [("AuthenticationErrorDetail", "Signature did not match. String to sign used was \(sts)")])
        }
        if let st = q["st"] {
            guard let t = SAS.parseTimestamp(st) else { return fail("st is malformed.") }
            if t > now { return fail("Signature not valid in the specified time frame: start \(st) is in the future.") }
        }
        guard let seText = q["se"], let se = SAS.parseTimestamp(seText) else {
            return fail("se is missing or malformed.")
        }
        if se < now { return fail("Signature not valid in the specified time frame: expired at \(seText).") }
        if let sip = q["sip"], !Self.ipAllowed(r.remoteIP, range: sip) {
            return .error(
                403, .authorizationSourceIPMismatch,
                "This request is not authorized to perform this operation using this source IP \(r.remoteIP).")
        }
        if q["spr"] == "https" && !r.isHTTPS {
            return .error(
                403, .authorizationProtocolMismatch,
                "This request is not authorized to perform this operation using this protocol.")
        }
        if isAccount {
            let ss = q["ss"] ?? ""
            let srt = q["srt"] ?? ""
            let needed: Character
            switch op.scope {
            case .service: needed = "s"
            case .share: needed = "c"
            case .object: needed = "o"
            }
            if service == .blob && !ss.contains("b") {
                return .error(
                    403, .authorizationServiceMismatch,
                    "This request is not authorized to perform this operation using this service.")
            }
            guard service == .blob || ss.contains("f"), srt.contains(needed) else {
                return .error(
                    403, .authorizationResourceTypeMismatch,
                    "This request is not authorized to perform this operation using this resource type.")
            }
        } else {
            let sr = q["sr"] ?? ""
            let allowed: Bool
            switch sr {
            case "s":
                allowed =
                    op.scope == .object || (op.scope == .share && (op.anyOf.contains("r") || op.anyOf.contains("l")))
            case "c": allowed = op.scope == .object || op.listsBlobs
            default: allowed = op.scope == .object
            }
            guard allowed else {
                return .error(
                    403, .authorizationResourceTypeMismatch,
                    "This request is not authorized to perform this operation using this resource type.")
            }
        }
        guard op.anyOf.contains(where: { sp.contains($0) }) else {
            return .error(
                403, .authorizationPermissionMismatch,
                "This request is not authorized to perform this operation using this permission.")
        }
        return nil
    }

    /// True when `ip` (IPv4) lies in `range` (`a.b.c.d` or `a.b.c.d-e.f.g.h`).
    static func ipAllowed(_ ip: String, range: String) -> Bool {
        func value(_ s: Substring) -> UInt32? {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
            guard parts.count == 4 else { return nil }
            return parts.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        }
        let ends = range.split(separator: "-")
        guard let v = value(Substring(ip)), let lo = ends.first.flatMap(value) else { return false }
        let hi = ends.count > 1 ? (value(ends[1]) ?? lo) : lo
        return lo <= v && v <= hi
    }
}
