extension String {
    /// The string without leading and trailing spaces, tabs, CR and LF (FoundationEssentials has no
    /// `trimmingCharacters`).
    public func trimmingWhitespace() -> String {
        let ws: Set<Character> = [" ", "\t", "\n", "\r"]
        guard let first = firstIndex(where: { !ws.contains($0) }) else { return "" }
        let last = lastIndex(where: { !ws.contains($0) })!
        return String(self[first...last])
    }
}
