import AzureFiles
import Glibc
import Mounting
import Orchestrator

/// A scripted ``Mounter`` that is also the mount table it changes: mounts are entries in memory. Failures are
/// scripted per call: `failMount` (the mount fails before anything is mounted), `mountThenFail` (the mount is
/// made and then the call fails, as when a post-mount check or a deadline goes wrong), `timeOut` (the deadline
/// passes; the mount may appear later), `busyUnmount` (a normal unmount fails with EBUSY).
public final class FakeMounter: Mounter, MountTableReader, @unchecked Sendable {
    public var entries: [MountEntry] = []
    public var calls: [String] = []
    /// Every spec handed to mount(), options included: what would reach mount(2).
    public var specs: [MountSpec] = []
    public var failMount: MountError?
    public var mountThenFail: MountError?
    public var timeOut = false
    public var busyUnmount = false
    private var nextID = 100

    public init() {}

    public func read() throws -> [MountEntry] { entries }

    /// Puts a mount in the table directly (something mounted behind pus-mount's back).
    public func add(source: String, target: String, fstype: String, root: String = "/") {
        nextID += 1
        entries.append(
            MountEntry(
                id: nextID, parentID: 1, source: source, target: target, fstype: fstype, vfsOptions: "rw",
                fsOptions: "",
                root: root))
    }

    public func mount(_ spec: MountSpec, deadline: Double, holding: [Int32]) throws {
        calls.append("mount \(spec.source) \(spec.target)")
        specs.append(spec)
        if let e = failMount { throw e }
        if timeOut {
            throw MountError(
                operation: "mount", target: spec.target, exitCode: 32, syscallErrno: nil, helperStatus: nil,
                helperErrno: nil,
                detail: "did not complete", timedOut: true)
        }
        add(
            source: spec.fstype == "none" ? "/dev/fake" : spec.source, target: spec.target,
            fstype: spec.fstype == "none" ? "ext4" : spec.fstype,
            root: spec.fstype == "none" ? spec.source : "/")
        if let e = mountThenFail { throw e }
    }

    public func unmount(_ target: String, lazy: Bool, deadline: Double, holding: [Int32]) throws {
        calls.append("\(lazy ? "lazy-unmount" : "unmount") \(target)")
        guard let i = entries.lastIndex(where: { $0.target == target }) else {
            throw MountError(
                operation: "unmount", target: target, exitCode: 32, syscallErrno: EINVAL, helperStatus: nil,
                helperErrno: nil,
                detail: "not mounted")
        }
        if busyUnmount && !lazy {
            throw MountError(
                operation: "unmount", target: target, exitCode: 32, syscallErrno: EBUSY, helperStatus: nil,
                helperErrno: nil,
                detail: "target is busy")
        }
        entries.remove(at: i)
    }

    /// Bind identity for the fake table: the topmost mount at `mountpoint` binds `source` (its root).
    public var sameDirectory: MountIdentity.SameDirectory {
        return { @Sendable [self] mountpoint, source in
            MountTable.mount(at: mountpoint, in: self.entries)?.root == source
        }
    }
}

/// Scripted processes: pids with start times, and a boot id.
public final class FakeProcesses: ProcessInspector, @unchecked Sendable {
    public var running: [Int32: UInt64] = [:]
    public var bootID: String

    public init(bootID: String = "boot-1", running: [Int32: UInt64] = [:]) {
        self.bootID = bootID
        self.running = running
    }

    public func startTime(of pid: Int32) -> UInt64? { running[pid] }
}

/// A scripted ``HTTPTransport``: answers requests from a list of canned responses (or a function), and records
/// every request it was sent.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    public var sent: [HTTPRequest] = []
    public var answer: (HTTPRequest) throws -> HTTPResponse

    public init(_ answer: @escaping (HTTPRequest) throws -> HTTPResponse) { self.answer = answer }

    public func send(_ request: HTTPRequest, sink: BodySink?) throws -> HTTPResponse {
        sent.append(request)
        let r = try answer(request)
        if let sink, (200..<300).contains(r.status) {
            try r.body.withUnsafeBytes { try sink($0, 0) }
            return HTTPResponse(status: r.status, headers: r.headers, body: [])
        }
        return r
    }
}
