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
    /// ``MountError`` (with `timedOut` when the deadline passed). `holding` are lock descriptors that whatever
    /// performs the mount keeps held until it ends: a mount that outlives its caller (killed, or given up on)
    /// still holds the user's lock, so no other pus-mount mounts on top of it meanwhile.
    func mount(_ spec: MountSpec, deadline: Double, holding: [Int32]) throws
    /// Unmounts `target` (lazily: MNT_DETACH, which does not wait for the server); throws ``MountError``.
    func unmount(_ target: String, lazy: Bool, deadline: Double, holding: [Int32]) throws
}

/// The hidden commands pus-mount runs itself as (the child side of a deadline): one name for each, used by
/// the parent that spawns it and by the CLI that answers it.
public enum ChildCommand: String, CaseIterable, Sendable {
    /// mount(2) through libmount: `__mount [--fake-mount] -- SOURCE TARGET FSTYPE OPTIONS`.
    case mount = "__mount"
    /// A normal unmount: `__unmount -- TARGET`.
    case unmount = "__unmount"
    /// The health probe of one path: `__probe PATH`.
    case probe = "__probe"
    /// Probes of the NUL-separated paths on stdin: `__probe-many`.
    case probeMany = "__probe-many"
    /// rotate-key's remount with password2 read from stdin: `__set-password2 -- TARGET FLAGS`.
    case setPassword2 = "__set-password2"
    /// The start-up hygiene as JSON (tests): `__hygiene`.
    case hygiene = "__hygiene"
}
