/// Where the live mount table comes from: the kernel's mountinfo for real runs, a scripted table in tests.
public protocol MountTableReader: AnyObject, Sendable {
    /// Every entry, in table order (later entries are mounted on top of earlier ones).
    func read() throws -> [MountEntry]
}

/// A mountinfo file: `/proc/self/mountinfo`, or any other path (`PUS_MOUNT_MOUNTINFO`, fixtures).
public final class MountinfoFile: MountTableReader, @unchecked Sendable {
    public let path: String

    public init(path: String = MountTable.processTable) { self.path = path }

    public func read() throws -> [MountEntry] { try MountTable.read(path: path) }
}
