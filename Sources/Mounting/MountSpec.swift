/// What to mount: a value, so plans can print it and tests can compare it.
public struct MountSpec: Sendable, Equatable, Codable {
    public var source: String
    public var target: String
    public var fstype: String
    public var options: String

    public init(source: String, target: String, fstype: String, options: String) {
        self.source = source
        self.target = target
        self.fstype = fstype
        self.options = options
    }
}

/// The mount seam: the real one is ``LibMountMounter``; tests script one in TestSupport.
public protocol Mounter: AnyObject {
    /// Mounts `spec`, giving up after `deadline` seconds where the implementation can enforce it; throws
    /// ``MountError`` (with `timedOut` when the deadline passed).
    func mount(_ spec: MountSpec, deadline: Double) throws
    /// Unmounts `target` (lazily: MNT_DETACH, which does not wait for the server); throws ``MountError``.
    func unmount(_ target: String, lazy: Bool, deadline: Double) throws
}
