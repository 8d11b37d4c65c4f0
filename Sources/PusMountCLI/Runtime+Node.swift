import Glibc
import Mounting
import Orchestrator
import SystemSupport

extension Runtime {
    /// The executor wired to the real ports: libmount, the live mountinfo, the probe child, REST on demand.
    /// `PUS_MOUNT_MOUNTINFO` points the mount table at another file (fixtures).
    func node(fakeMounts: Bool = false) -> Node {
        let mountinfo = getenv("PUS_MOUNT_MOUNTINFO").map { String(cString: $0) } ?? MountTable.processTable
        return Node(config: config, mounter: LibMountMounter(fake: fakeMounts), fakeMounts: fakeMounts, mountinfoPath: mountinfo,
                    probe: HealthProbe(executable: ChildProcess.selfExecutable, deadline: 5),
                    azure: { [unowned self] in try self.azure() }, logger: logger)
    }

    /// Prints a plan for `--dry-run`.
    func planLines(_ plan: Plan) -> [String] {
        ["plan (nothing was changed):"] + plan.notes.map { "  note: \($0)" } + plan.steps.enumerated().map { "  \($0.offset + 1). \($0.element)" }
    }

    func planJSON(_ plan: Plan) -> JSONValue {
        .object([("steps", .array(plan.steps.map { .string($0.description) })), ("notes", .array(plan.notes.map { .string($0) }))]
                + (plan.target.map { t in [("mount", JSONValue.object([("source", .string(t.spec.source)), ("target", .string(t.spec.target)),
                                                                        ("fstype", .string(t.spec.fstype)), ("options", .string(t.spec.options))]))] } ?? []))
    }
}
