import CLibMount
import Glibc
import SystemSupport

/// ``Mounter`` over libmount: helpers enabled (so /sbin/mount.cifs reads `credentials=`; the kernel ignores
/// it), mtab/utab updates disabled (the kernel's mountinfo is the truth; tests stay off the host's utab),
/// the helper's stderr captured, and libmount's return-code rules applied (a helper that ran makes
/// mnt_context_mount return 0 even when it failed).
///
/// With `isolatedIn` set, mount(2) and the normal umount(2) run in a child (`<executable> __mount ...` /
/// `__unmount`) with a deadline: an SMB server that accepts TCP and never answers can block mount(2) for
/// minutes in a thread that cannot be interrupted. The parent gives up at the deadline (the error has
/// `timedOut`), kills the child and does not wait for it. Lazy unmounts (MNT_DETACH) do not wait for the
/// server and run in-process.
public final class LibMountMounter: Mounter {
    /// libmount fake mode: everything but the mount(2) syscall (mount.cifs runs with -f).
    public let fake: Bool
    /// The executable whose hidden `__mount` / `__unmount` commands run the operation in a child.
    public let childExecutable: String?

    public init(fake: Bool = false, isolatedIn childExecutable: String? = nil) {
        self.fake = fake
        self.childExecutable = childExecutable
    }

    public func mount(_ spec: MountSpec, deadline: Double, holding: [Int32] = []) throws {
        if let exe = childExecutable {
            var args = [ChildCommand.mount.rawValue]
            if fake { args.append("--fake-mount") }
            args += ["--", spec.source, spec.target, spec.fstype, spec.options]
            try runChild(exe, args, operation: "mount", target: spec.target, deadline: deadline, holding: holding)
            return
        }
        try mountInProcess(spec)
    }

    public func unmount(_ target: String, lazy: Bool, deadline: Double, holding: [Int32] = []) throws {
        if let exe = childExecutable, !lazy, !fake {
            try runChild(
                exe, [ChildCommand.unmount.rawValue, "--", target], operation: "unmount", target: target,
                deadline: deadline, holding: holding)
            return
        }
        try unmountInProcess(target, lazy: lazy)
    }

    /// mount through libmount in this process (the `__mount` child's side).
    public func mountInProcess(_ spec: MountSpec) throws {
        let ctx = try MountContext()
        try ctx.check(pus_mnt_context_set_source(ctx.raw, spec.source), "mnt_context_set_source")
        try ctx.check(pus_mnt_context_set_target(ctx.raw, spec.target), "mnt_context_set_target")
        try ctx.check(pus_mnt_context_set_fstype(ctx.raw, spec.fstype), "mnt_context_set_fstype")
        try ctx.check(pus_mnt_context_set_options(ctx.raw, spec.options), "mnt_context_set_options")
        try ctx.check(pus_mnt_context_disable_mtab(ctx.raw, 1), "mnt_context_disable_mtab")
        if fake { try ctx.check(pus_mnt_context_enable_fake(ctx.raw, 1), "mnt_context_enable_fake") }
        let (rc, helperOutput) = try StderrCapture.around { pus_mnt_context_mount(ctx.raw) }
        try finish(ctx, rc: rc, helperOutput: helperOutput, operation: "mount", target: spec.target)
    }

    /// umount through libmount in this process (the `__unmount` child's side, and lazy unmounts).
    public func unmountInProcess(_ target: String, lazy: Bool) throws {
        let ctx = try MountContext()
        try ctx.check(pus_mnt_context_set_target(ctx.raw, target), "mnt_context_set_target")
        try ctx.check(pus_mnt_context_disable_mtab(ctx.raw, 1), "mnt_context_disable_mtab")
        if lazy { try ctx.check(pus_mnt_context_enable_lazy(ctx.raw, 1), "mnt_context_enable_lazy") }
        if fake { try ctx.check(pus_mnt_context_enable_fake(ctx.raw, 1), "mnt_context_enable_fake") }
        let (rc, helperOutput) = try StderrCapture.around { pus_mnt_context_umount(ctx.raw) }
        try finish(
            ctx, rc: rc, helperOutput: helperOutput, operation: lazy ? "lazy unmount" : "unmount", target: target)
    }

    /// Runs `exe args` with a deadline; its stdout carries a ``MountError/wireLine`` when it failed.
    private func runChild(
        _ exe: String, _ args: [String], operation: String, target: String, deadline: Double, holding: [Int32]
    ) throws {
        let child: ChildProcess.Spawned
        do {
            child = try ChildProcess.spawn(exe, args, pipeStdout: true, inherit: holding)
        } catch {
            throw MountError(
                operation: operation, target: target, exitCode: 1, syscallErrno: nil, helperStatus: nil,
                helperErrno: nil,
                detail: "cannot start the \(operation) child: \(error)")
        }
        let end = Clock.monotonicSeconds() + deadline
        let output = ChildProcess.collectOutput(child.stdoutFD, until: end)
        let status = ChildProcess.wait(child.pid, until: max(end, Clock.monotonicSeconds()))
        if status == 0 { return }
        let text = String(decoding: output, as: UTF8.self).trimmingWhitespace()
        if status == nil {
            throw MountError(
                operation: operation, target: target, exitCode: 32, syscallErrno: nil, helperStatus: nil,
                helperErrno: nil,
                detail:
                    "\(operation) did not complete within \(Int(deadline.rounded())) s; gave up (the server does not answer)",
                timedOut: true)
        }
        throw MountError.fromWire(text, operation: operation, target: target)
            ?? MountError(
                operation: operation, target: target, exitCode: Int(status ?? 1), syscallErrno: nil, helperStatus: nil,
                helperErrno: nil,
                detail: text.isEmpty
                    ? "the \(operation) child exited with status \(status ?? 1)" : Redaction.redact(text))
    }

    private func finish(
        _ ctx: borrowing MountContext, rc: Int32, helperOutput: String, operation: String, target: String
    ) throws {
        let helperRan = pus_mnt_context_helper_executed(ctx.raw) == 1
        let helperStatus = helperRan ? pus_mnt_context_get_helper_status(ctx.raw) : nil
        let syscallErrno: Int32? =
            pus_mnt_context_syscall_called(ctx.raw) == 1 ? pus_mnt_context_get_syscall_errno(ctx.raw) : nil
        let failed = rc != 0 || (helperStatus ?? 0) != 0 || (syscallErrno ?? 0) != 0
        guard failed else { return }
        let (code, message) = ctx.exitCode(rc)
        let output = Redaction.redact(helperOutput.trimmingWhitespace())
        // A helper that ran and failed leaves rc = 0 and no libmount message: say what the helper did.
        var detail =
            !message.isEmpty
            ? message
            : helperStatus.map { "mount helper exited with status \($0)" } ?? "libmount status \(rc)"
        if !output.isEmpty { detail += ": " + output.split(separator: "\n").joined(separator: " / ") }
        throw MountError(
            operation: operation, target: target, exitCode: code,
            syscallErrno: syscallErrno.flatMap { $0 == 0 ? nil : $0 },
            helperStatus: helperStatus, helperErrno: MountError.parseHelperErrno(helperOutput),
            detail: Redaction.redact(detail))
    }
}

/// Captures what a helper writes to stderr (mount.cifs writes its errors there only) by pointing fd 2 at an
/// anonymous file for the duration of the call. pus-mount is single-threaded while it mounts.
enum StderrCapture {
    static func around<T>(_ body: () -> T) throws -> (T, String) {
        // An unlinked temp file (O_TMPFILE is a macro Swift cannot import).
        var template = Array("/tmp/pus-mount-helper-XXXXXX".utf8CString)
        let tmp = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard tmp >= 0 else { return (body(), "") }
        // mkostemp is not imported: mark it close-on-exec right away (nothing forks in between).
        _ = fcntl(tmp, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(tmp) }
        // The saved stderr must not reach the helper either; only fd 2 (the capture file) does.
        let saved = fcntl(2, F_DUPFD_CLOEXEC, 0)
        guard saved >= 0 else { return (body(), "") }
        defer { close(saved) }
        dup2(tmp, 2)
        let result = body()
        dup2(saved, 2)
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        var off: off_t = 0
        while true {
            let n = buf.withUnsafeMutableBytes { pread(tmp, $0.baseAddress, $0.count, off) }
            if n <= 0 { break }
            out += buf[0..<n]
            off += off_t(n)
        }
        return (result, String(decoding: out, as: UTF8.self))
    }
}
