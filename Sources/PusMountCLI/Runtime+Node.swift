import Glibc
import Mounting
import Orchestrator
import SystemSupport

extension Runtime {
    /// The node wired to the real ports: libmount with mount(2) and umount(2) in a child with a deadline, the
    /// live mountinfo, the probe child, /proc, and REST on demand. `PUS_MOUNT_MOUNTINFO` points the mount table
    /// at another file (fixtures).
    func node(fakeMounts: Bool = false) -> Node {
        let mountinfo = getenv("PUS_MOUNT_MOUNTINFO").map { String(cString: $0) } ?? MountTable.processTable
        let exe = ChildProcess.selfExecutable
        let ports = Node.Ports(mounter: LibMountMounter(fake: fakeMounts, isolatedIn: exe), mountTable: MountinfoFile(path: mountinfo),
                               probe: HealthProbe(executable: exe, deadline: Double(config.probeTimeoutSeconds)), processes: ProcFS())
        return Node(config: config, ports: ports, fakeMounts: fakeMounts, azure: { [unowned self] in try self.azure() }, logger: logger)
    }

    /// Prints a plan for `--dry-run`.
    func planLines(_ plan: Plan) -> [String] {
        ["plan (nothing was changed):"] + plan.notes.map { "  note: \($0)" } + plan.steps.enumerated().map { "  \($0.offset + 1). \($0.element)" }
    }

    func planJSON(_ plan: Plan) -> JSON {
        .object([("steps", .array(plan.steps.map { .string($0.description) })), ("notes", .array(plan.notes.map { .string($0) }))]
                + (plan.target.map { t in [("mount", JSON.object([("source", .string(t.spec.source)), ("target", .string(t.spec.target)),
                                                                   ("fstype", .string(t.spec.fstype)), ("options", .string(t.spec.options))]))] } ?? []))
    }
}
