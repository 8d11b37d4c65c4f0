import SystemSupport

/// The cifs credentials file read by mount.cifs (`credentials=`): `username=`, optional `password2=` (the
/// account's second key, for rotation), `password=`. No spaces around `=`.
///
/// `password2=` comes before `password=` on purpose: mount.cifs before cifs-utils 7.2 (Debian 12 has 7.0)
/// matches credential lines by prefix, reads `password2=` as `password=`, and keeps the last one. Written in
/// this order, old helpers use key1 and new ones (7.2+, which know password2) use both.
public struct CredentialsFile: Sendable, Equatable {
    public var username: String
    public var password: Secret
    public var password2: Secret?

    public init(username: String, password: Secret, password2: Secret? = nil) {
        self.username = username
        self.password = password
        self.password2 = password2
    }

    /// The file's bytes. Refuses values with a newline (they would inject another line).
    public func render() throws -> [UInt8] {
        for v in [username, password.reveal(), password2?.reveal() ?? ""] where v.contains("\n") || v.contains("\r") {
            throw CredentialsError(
                .badValue, "a credential value contains a line break", hint: "check the key file for stray characters")
        }
        var text = "username=\(username)\n"
        if let p2 = password2 { text += "password2=\(p2.reveal())\n" }
        text += "password=\(password.reveal())\n"
        return Array(text.utf8)
    }

    /// Parses the format back (for drift checks); nil when `username=` or `password=` is missing.
    public static func parse(_ bytes: [UInt8]) -> CredentialsFile? {
        var user: String?
        var pass: String?
        var pass2: String?
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            let k = line[..<eq]
            let v = String(line[line.index(after: eq)...])
            switch k {
            case "username", "user": user = v
            case "password", "pass": pass = v
            case "password2": pass2 = v
            default: continue
            }
        }
        guard let user, let pass else { return nil }
        return CredentialsFile(username: user, password: Secret(pass), password2: pass2.map(Secret.init))
    }
}
