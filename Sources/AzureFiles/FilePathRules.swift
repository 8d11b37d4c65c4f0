/// Azure Files rules for directory and file paths (relative to the share).
public enum FilePathRules {
    /// Why `path` is not a valid share-relative path, or nil. Empty components, `.`/`..`, forbidden characters
    /// (`" \ : | < > * ?` and controls), components over 255 bytes and reserved device names are refused.
    public static func problem(with path: String) -> String? {
        guard !path.isEmpty else { return nil }
        for comp in path.split(separator: "/", omittingEmptySubsequences: false) {
            if comp.isEmpty { return "empty path component (leading, trailing or double '/')" }
            if comp.allSatisfy({ $0 == "." }) { return "a path component may not be '.' or '..'" }
            if comp.utf8.count > 255 { return "a path component is longer than 255 bytes" }
            if comp.unicodeScalars.contains(where: { $0.value < 0x20 || "\"\\:|<>*?".unicodeScalars.contains($0) }) {
                return "the path contains a character Azure Files forbids (\" \\ : | < > * ? or a control character)"
            }
            let upper = comp.uppercased()
            if ["CON", "PRN", "AUX", "NUL", "CLOCK$"].contains(upper)
                || (upper.count == 4 && (upper.hasPrefix("COM") || upper.hasPrefix("LPT")) && upper.last!.isNumber
                    && upper.last != "0")
            {
                return "\(comp) is a reserved name"
            }
        }
        return nil
    }

    /// Removes leading and trailing `/`.
    public static func normalize(_ path: String) -> String {
        var p = Substring(path)
        while p.hasPrefix("/") { p = p.dropFirst() }
        while p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
