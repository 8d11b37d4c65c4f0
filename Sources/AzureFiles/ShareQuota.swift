/// A share's quota in GiB: the one home of the range Azure Files accepts (x-ms-share-quota), used by the
/// config loader, the commands, the orchestrator and the emulator.
public enum ShareQuota {
    public static let range: ClosedRange<Int> = 1...102_400

    /// "1 to 102400 GiB", for messages.
    public static var rangeText: String { "\(range.lowerBound) to \(range.upperBound) GiB" }

    public static func isValid(_ gib: Int) -> Bool { range.contains(gib) }
}
