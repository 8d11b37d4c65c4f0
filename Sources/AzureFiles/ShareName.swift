/// Share names: `<prefix>-<sanitized user>-<first 8 hex of sha256(user)>` within Azure's rules
/// (3-63 characters, lower-case letters, digits, single inner hyphens).
public enum ShareName {
    /// The share name for `user` under `prefix`.
    public static func forUser(_ user: String, prefix: String) -> String {
        let hash = String(Crypto.hex(Crypto.sha256(Array(user.utf8))).prefix(8))
        let budget = 63 - prefix.count - 1 - 1 - hash.count
        var sanitized = String(sanitize(user).prefix(max(0, budget)))
        while sanitized.hasSuffix("-") { sanitized.removeLast() }
        let parts = [prefix, sanitized, hash].filter { !$0.isEmpty }
        return parts.joined(separator: "-")
    }

    /// Lower-cases and turns each run of characters outside `[a-z0-9]` into one `-`, trimmed at both ends.
    public static func sanitize(_ text: String) -> String {
        var out = ""
        var lastHyphen = true
        for ch in text.lowercased().unicodeScalars {
            if (ch >= "a" && ch <= "z") || (ch >= "0" && ch <= "9") {
                out.unicodeScalars.append(ch)
                lastHyphen = false
            } else if !lastHyphen {
                out += "-"
                lastHyphen = true
            }
        }
        while out.hasSuffix("-") { out.removeLast() }
        return out
    }

    /// True when `name` satisfies Azure's share naming rules.
    public static func isValid(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard (3...63).contains(b.count) else { return false }
        var prevHyphen = true
        for c in b {
            let alnum = (c >= 97 && c <= 122) || (c >= 48 && c <= 57)
            if c == 45 {
                if prevHyphen { return false }
                prevHyphen = true
            } else if alnum {
                prevHyphen = false
            } else {
                return false
            }
        }
        return !prevHyphen
    }
}
