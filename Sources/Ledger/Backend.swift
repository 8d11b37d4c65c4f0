/// Which kind of per-user storage a record, a target or the configuration names: one type for all of them,
/// stored in the ledger as the strings it always had ("azure", "local"). A kind this pus-mount does not know
/// (a newer one wrote it) is kept as it is, never refused.
public struct Backend: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }

    /// An Azure Files share per user, mounted with the kernel's cifs client.
    public static let azure = Backend(rawValue: "azure")
    /// A directory per user on this node, bind-mounted.
    public static let local = Backend(rawValue: "local")
    /// The kinds this pus-mount provides, in the order the configuration documents them.
    public static let known: [Backend] = [.azure, .local]
}
