import SystemSupport

/// A local user pus-mount may serve: resolved through NSS and allowed by the `[users]` policy.
public struct ResolvedUser: Sendable, Equatable {
    public let name: String
    public let uid: UInt32
    public let gid: UInt32

    public init(name: String, uid: UInt32, gid: UInt32) {
        self.name = name
        self.uid = uid
        self.gid = gid
    }
}

/// User name checks, applied before any file, mount or REST call.
public enum UserPolicy {
    /// Refuses names that could inject into option strings or paths (65), then resolves through NSS
    /// (67 when unknown) and applies `min_uid` and `deny` (67). The user is the name NSS returns (`pw_name`),
    /// not the name as typed: with a case-insensitive NSS (sssd, AD) `ALICE` is `alice`, with alice's share,
    /// mountpoint and ledger entry, and `users.deny` is checked against both.
    public static func resolve(_ name: String, config: Config, lookup: (String) throws -> PasswdEntry? = Passwd.lookup)
        throws -> ResolvedUser
    {
        if let problem = problem(with: name) {
            throw OrchestratorError(
                .invalidArgument, "invalid user name \(quoted(name)): \(problem)",
                hint:
                    "user names must be plain login names (letters, digits, '.', '_', '-', '@', '$'; not starting with '-' or '.')"
            )
        }
        guard let entry = try lookup(name) else {
            throw OrchestratorError(
                .unknownUser, "unknown user \(name)", hint: "the name must resolve through NSS (getent passwd \(name))")
        }
        let canonical = entry.name
        if let problem = problem(with: canonical) {
            throw OrchestratorError(
                .invalidArgument,
                "NSS returns \(quoted(canonical)) for \(quoted(name)), which is not a usable user name: \(problem)")
        }
        if config.denyUsers.contains(canonical) || config.denyUsers.contains(name) {
            throw OrchestratorError(.unknownUser, "user \(canonical) is refused by policy (listed in users.deny)")
        }
        if entry.uid < UInt32(max(0, config.minUID)) || entry.uid == 0 {
            throw OrchestratorError(
                .unknownUser, "user \(name) has uid \(entry.uid), below users.min_uid = \(config.minUID)",
                hint: "only regular users get per-user storage; lower users.min_uid only if this is intended")
        }
        return ResolvedUser(name: canonical, uid: entry.uid, gid: entry.gid)
    }

    /// Why `name` is not acceptable, or nil.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "empty" }
        if name.utf8.count > 64 { return "longer than 64 bytes" }
        if name.hasPrefix("-") || name.hasPrefix(".") { return "starts with '-' or '.'" }
        for s in name.unicodeScalars {
            if s.value < 0x20 || s.value == 0x7f { return "contains a control character" }
            if s == " " || s == "\t" { return "contains whitespace" }
            if "/,=:;\\\"'`*?[]{}()<>|&!#%^~+".unicodeScalars.contains(s) { return "contains '\(s)'" }
            if !s.isASCII { return "contains a non-ASCII character" }
        }
        return nil
    }

    /// The name as it may be shown: control characters escaped, cut at 80 characters.
    public static func quoted(_ name: String) -> String {
        var out = ""
        for s in name.unicodeScalars.prefix(80) {
            out += s.value < 0x20 || s.value == 0x7f ? s.escaped(asASCII: true) : String(s)
        }
        return "'" + out + (name.unicodeScalars.count > 80 ? "…" : "") + "'"
    }
}
