extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF (FoundationEssentials has no
    /// `trimmingCharacters`). Works on scalars: "\r\n" is one Character in Swift.
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        let isWS: (Unicode.Scalar) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = scalars.firstIndex(where: { !isWS($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isWS($0) })!
        return String(scalars[first...last])
    }

    /// The string with every control character (C0, DEL, C1: ESC, BEL, CR, LF, ...) written as `\xHH`, and cut
    /// to `limit` characters (with "..."): text from outside (a server's error code and message, a request id)
    /// can then neither move a terminal's cursor, set its title, nor split a log line.
    public func escapingControls(limit: Int = 4096) -> String {
        var out = ""
        var n = 0
        for u in unicodeScalars {
            if n >= limit {
                out += "..."
                break
            }
            if u.value < 0x20 || u.value == 0x7f || (0x80..<0xa0).contains(u.value) {
                let hex = String(u.value, radix: 16)
                out += "\\x" + (hex.count < 2 ? "0" + hex : hex)
            } else {
                out.unicodeScalars.append(u)
            }
            n += 1
        }
        return out
    }
}
