import CLibMount
import Glibc
import SystemSupport

/// ``Mounter`` over libmount: helpers enabled (so /sbin/mount.cifs reads `credentials=`; the kernel ignores
/// it), mtab/utab updates disabled (the kernel's mountinfo is the truth; tests stay off the host's utab),
/// the helper's stderr captured, and libmount's return-code rules applied (a helper that ran makes
/// mnt_context_mount return 0 even when it failed).
public final class LibMountMounter: Mounter {
    /// libmount fake mode: everything but the mount(2) syscall (mount.cifs runs with -f).
    public let fake: Bool

    public init(fake: Bool = false) { self.fake = fake }

    public func mount(_ spec: MountSpec) throws {
        let ctx = try MountContext()
        try ctx.check(mnt_context_set_source(ctx.raw, spec.source), "mnt_context_set_source")
        try ctx.check(mnt_context_set_target(ctx.raw, spec.target), "mnt_context_set_target")
        try ctx.check(mnt_context_set_fstype(ctx.raw, spec.fstype), "mnt_context_set_fstype")
        try ctx.check(mnt_context_set_options(ctx.raw, spec.options), "mnt_context_set_options")
        try ctx.check(mnt_context_disable_mtab(ctx.raw, 1), "mnt_context_disable_mtab")
        if fake { try ctx.check(mnt_context_enable_fake(ctx.raw, 1), "mnt_context_enable_fake") }
        let (rc, helperOutput) = try StderrCapture.around { mnt_context_mount(ctx.raw) }
        try finish(ctx, rc: rc, helperOutput: helperOutput, operation: "mount", target: spec.target)
    }

    public func unmount(_ target: String, lazy: Bool) throws {
        let ctx = try MountContext()
        try ctx.check(mnt_context_set_target(ctx.raw, target), "mnt_context_set_target")
        try ctx.check(mnt_context_disable_mtab(ctx.raw, 1), "mnt_context_disable_mtab")
        if lazy { try ctx.check(mnt_context_enable_lazy(ctx.raw, 1), "mnt_context_enable_lazy") }
        if fake { try ctx.check(mnt_context_enable_fake(ctx.raw, 1), "mnt_context_enable_fake") }
        let (rc, helperOutput) = try StderrCapture.around { mnt_context_umount(ctx.raw) }
        try finish(ctx, rc: rc, helperOutput: helperOutput, operation: lazy ? "lazy unmount" : "unmount", target: target)
    }

    private func finish(_ ctx: borrowing MountContext, rc: Int32, helperOutput: String, operation: String, target: String) throws {
        let helperRan = mnt_context_helper_executed(ctx.raw) == 1
        let helperStatus = helperRan ? mnt_context_get_helper_status(ctx.raw) : nil
        let syscallErrno: Int32? = mnt_context_syscall_called(ctx.raw) == 1 ? mnt_context_get_syscall_errno(ctx.raw) : nil
        let failed = rc != 0 || (helperStatus ?? 0) != 0 || (syscallErrno ?? 0) != 0
        guard failed else { return }
        let (code, message) = ctx.exitCode(rc)
        let output = Redaction.redact(helperOutput.trimmingWhitespace())
        // A helper that ran and failed leaves rc = 0 and no libmount message: say what the helper did.
        var detail = !message.isEmpty ? message
            : helperStatus.map { "mount helper exited with status \($0)" } ?? "libmount status \(rc)"
        if !output.isEmpty { detail += ": " + output.split(separator: "\n").joined(separator: " / ") }
        throw MountError(operation: operation, target: target, exitCode: code, syscallErrno: syscallErrno.flatMap { $0 == 0 ? nil : $0 },
                         helperStatus: helperStatus, helperErrno: MountError.parseHelperErrno(helperOutput), detail: Redaction.redact(detail))
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
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        defer { close(tmp) }
        let saved = dup(2)
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
