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
}
