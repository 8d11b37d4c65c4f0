/// The cifs option string, a pure function of configuration and user (table-tested).
/// `vers=<v>,sec=ntlmssp,credentials=<file>,uid=<uid>,gid=<gid>,file_mode=<m>,dir_mode=<m>,` + extras.
public enum CIFSOptions {
    /// A value that would inject another option.
    public struct Invalid: Error, Sendable, CustomStringConvertible {
        public let name: String
        public let value: String
        public var description: String { "mount option \(name) value \"\(value)\" contains ',' or '=' (or a space or newline)" }
    }

    public static func build(vers: String, credentialsPath: String, uid: UInt32, gid: UInt32, fileMode: String, dirMode: String,
                             extra: [String]) throws -> String {
        let fixed: [(String, String)] = [("vers", vers), ("sec", "ntlmssp"), ("credentials", credentialsPath),
                                         ("uid", String(uid)), ("gid", String(gid)), ("file_mode", fileMode), ("dir_mode", dirMode)]
        for (k, v) in fixed where !isSafe(v) { throw Invalid(name: k, value: v) }
        var parts = fixed.map { "\($0.0)=\($0.1)" }
        for o in extra {
            let kv = o.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard !o.isEmpty, isSafe(String(kv[0])), kv.count == 1 || isSafe(String(kv[1])) else {
                throw Invalid(name: String(kv[0]), value: kv.count > 1 ? String(kv[1]) : "")
            }
            let key = String(kv[0])
            guard !["credentials", "password", "password2", "pass", "username", "user", "uid", "gid", "sec", "vers", "file_mode", "dir_mode"].contains(key) else {
                throw Invalid(name: key, value: "(set by pus-mount)")
            }
            parts.append(o)
        }
        return parts.joined(separator: ",")
    }

    static func isSafe(_ v: String) -> Bool {
        !v.isEmpty && !v.contains(where: { $0 == "," || $0 == "=" || $0.isWhitespace || $0.isNewline || $0 == "\0" })
    }
}
