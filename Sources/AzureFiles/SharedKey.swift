import SystemSupport

/// Shared Key authorization for the File service: a pure string-to-sign plus HMAC-SHA256.
/// See ../shared/azure-files-protocol.md section 1. Matches the Azure SDK byte for byte, except that a
/// plain `Range` header is never sent (we use `x-ms-range`) and `x-ms-` names are always lower case.
public struct SharedKey: Sendable {
    /// The storage account name.
    public let account: String
    /// The decoded account key.
    private let key: [UInt8]

    /// The eleven standard header lines after the verb, in order.
    static let standardHeaders = [
        "content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
        "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
    ]

    /// Fails when `key` is not valid base64.
    public init?(account: String, key: Secret) {
        let trimmed = key.reveal().trimmingWhitespace()
        guard !trimmed.isEmpty, let bytes = Crypto.base64Decode(trimmed) else { return nil }
        self.account = account
        self.key = bytes
    }

    /// The string-to-sign for `method` on `path` (as sent, percent-encoded) and raw `query` (no `?`).
    public static func stringToSign(
        account: String, method: String, path: String, query: String,
        headers: [(String, String)]
    ) -> String {
        var lower: [String: String] = [:]
        var msHeaders: [(String, String)] = []
        for (name, value) in headers {
            let n = name.lowercased()
            lower[n] = value
            if n.hasPrefix("x-ms-") { msHeaders.append((n, value)) }
        }
        var sts = method.uppercased() + "\n"
        for h in standardHeaders {
            var v = h == "range" ? "" : (lower[h] ?? "")
            if h == "content-length" && v == "0" { v = "" }
            sts += v + "\n"
        }
        for (n, v) in HeaderCollation.sorted(msHeaders) { sts += n + ":" + v + "\n" }
        sts += "/" + account + (path.isEmpty ? "/" : path)
        sts += canonicalQuery(query)
        return sts
    }

    /// `\nname:decoded-value` lines, sorted by original name, last value winning (as the SDK does).
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        var params: [String: String] = [:]
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                params[String(part[..<eq])] = PercentEncoding.decode(String(part[part.index(after: eq)...]))
            } else {
                params[String(part)] = ""
            }
        }
        return params.keys.sorted().map { "\n" + $0.lowercased() + ":" + params[$0]! }.joined()
    }

    /// base64 HMAC-SHA256 of `text` with the account key.
    public func signature(_ text: String) -> String {
        Crypto.base64(Crypto.hmacSHA256(key: key, message: Array(text.utf8)))
    }

    /// The `Authorization` header value for a request.
    public func authorization(method: String, path: String, query: String, headers: [(String, String)]) -> String {
        let sts = Self.stringToSign(account: account, method: method, path: path, query: query, headers: headers)
        return "SharedKey \(account):\(signature(sts))"
    }
}
