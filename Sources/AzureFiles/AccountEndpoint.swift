import SystemSupport

/// Where one storage account's File (or Blob) service answers, and the key that signs for it.
public struct AccountEndpoint: Sendable {
    /// Account name (signs every request).
    public let account: String
    /// `scheme://host[:port]` plus, for path-style endpoints (emulator, private link), `/<account>`.
    public let baseURL: String
    /// The path part of ``baseURL`` ("" for the public host-style endpoint).
    public let basePath: String
    public let key: SharedKey

    /// Host-style public endpoint `https://<account>.<service>.<suffix>` (`file` or `blob`), or an explicit
    /// override URL.
    public init(
        account: String, key: SharedKey, endpointSuffix: String = "core.windows.net", override: String? = nil,
        service: String = "file"
    ) {
        self.account = account
        self.key = key
        var base = override ?? "https://\(account).\(service).\(endpointSuffix)"
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        if let scheme = base.firstRange(of: "://"), let slash = base[scheme.upperBound...].firstIndex(of: "/") {
            basePath = String(base[slash...])
        } else {
            basePath = ""
        }
    }

    /// The host (without port) of the endpoint, for the SMB source when no smb_host is configured.
    public var host: String {
        guard let scheme = baseURL.firstRange(of: "://") else { return baseURL }
        var rest = baseURL[scheme.upperBound...]
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        if let colon = rest.lastIndex(of: ":"), !rest.hasPrefix("[") { rest = rest[..<colon] }
        return String(rest)
    }
}
