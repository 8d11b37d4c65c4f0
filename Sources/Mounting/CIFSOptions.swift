/// The cifs option string, a pure function of configuration and user (table-tested).
/// `vers=<v>,sec=ntlmssp,credentials=<file>,uid=<uid>,gid=<gid>,file_mode=<m>,dir_mode=<m>,` + extras.
public enum CIFSOptions {
    /// Options pus-mount sets itself or never allows, for the configuration check and the builder alike:
    /// identity and secrets (credentials, user, password*, uid, gid, sec, vers, modes), and what would let one
    /// local user reach another's files or gain privileges (noperm, multiuser, suid, setuids, dev).
    public static let reservedKeys: Set<String> = [
        "credentials", "cred", "password", "password2", "pass", "username", "user", "uid", "gid", "sec", "vers",
        "file_mode", "dir_mode", "noperm", "multiuser", "suid", "setuids", "dev",
    ]

    /// Why `option` (one `mount.options` entry) cannot be used, or nil.
    public static func problem(with option: String) -> String? {
        if option.isEmpty { return "an empty option" }
        let kv = option.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let key = String(kv[0])
        guard isSafe(key), kv.count == 1 || isSafe(String(kv[1])) else {
            return "it contains ',', '=' in a value, a space or a control character"
        }
        if reservedKeys.contains(key.lowercased()) {
            return "\(key) is set by pus-mount or not allowed (it would weaken the per-user isolation)"
        }
        return nil
    }

    /// A value that would inject another option.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let name: String
        public let value: String
        public var why: String = "it contains ',' or '=' (or a space or newline)"
        public var description: String { "mount option \(name)\(value.isEmpty ? "" : "=\(value)"): \(why)" }
    }

    public static func build(
        vers: String, credentialsPath: String, uid: UInt32, gid: UInt32, fileMode: String, dirMode: String,
        extra: [String]
    ) throws -> String {
        let fixed: [(String, String)] = [
            ("vers", vers), ("sec", "ntlmssp"), ("credentials", credentialsPath),
            ("uid", String(uid)), ("gid", String(gid)), ("file_mode", fileMode), ("dir_mode", dirMode),
        ]
        for (k, v) in fixed where !isSafe(v) { throw Invalid(name: k, value: v) }
        var parts = fixed.map { "\($0.0)=\($0.1)" }
        for o in extra {
            if let why = problem(with: o) {
                let kv = o.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                throw Invalid(name: String(kv.first ?? ""), value: kv.count > 1 ? String(kv[1]) : "", why: why)
            }
            parts.append(o)
        }
        // Never a setuid binary or a device node from a share, whatever mount.options says.
        for must in ["nosuid", "nodev"] where !extra.contains(must) { parts.append(must) }
        return parts.joined(separator: ",")
    }

    static func isSafe(_ v: String) -> Bool {
        !v.isEmpty && !v.contains(where: { $0 == "," || $0 == "=" || $0.isWhitespace || $0.isNewline || $0 == "\0" })
    }
}
