import Glibc
import SystemSupport

/// Giving a live cifs mount the account's new key without unmounting it (rotate-key).
///
/// Linux 6.10 added the cifs `password2` option: when a reconnect's session setup fails with the current
/// password (the old key was regenerated), the client swaps in password2 and tries again. A remount may set
/// password2 on a live mount (smb3_reconfigure keeps password unless the session expired, but takes a new
/// password2). The remount replaces every setting of the mount with the remount's (uid, gid, modes) and
/// refuses a different `sec`, so it repeats the mount's own cifs options (credentials= is ignored by the
/// kernel; username, password and UNC are kept). It is mount(2) itself, not mount.cifs: the helper would need
/// the key in its argv, and
/// Debian 12's cifs-utils 7.0 cannot read password2 from a credentials file. It runs in a child with a
/// deadline (reconfigure waits for the session's mutex, which a hung reconnect holds), the key on the
/// child's stdin, never in an argument. Kernels before 6.10 refuse the option (EINVAL): the mount keeps its
/// established session, and must be remounted before the old key is regenerated.
public enum KeyRefresh {
    /// Whether this kernel's cifs knows `password2` (Linux 6.10 or later), from uname's release.
    public static func kernelHasPassword2(release: String = KeyRefresh.kernelRelease) -> Bool {
        let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        guard parts.count == 2 else { return false }
        return parts[0] > 6 || (parts[0] == 6 && parts[1] >= 10)
    }

    public static var kernelRelease: String {
        var u = utsname()
        guard uname(&u) == 0 else { return "" }
        return withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }

    /// The MS_* flags that keep a mount's per-mount options (from mountinfo's `rw,nosuid,nodev,...`) across
    /// MS_REMOUNT, which otherwise resets them.
    public static func remountFlags(vfsOptions: String) -> UInt {
        var f = UInt(MS_REMOUNT)
        for o in vfsOptions.split(separator: ",") {
            switch o {
            case "ro": f |= UInt(MS_RDONLY)
            case "nosuid": f |= UInt(MS_NOSUID)
            case "nodev": f |= UInt(MS_NODEV)
            case "noexec": f |= UInt(MS_NOEXEC)
            case "noatime": f |= UInt(MS_NOATIME)
            case "nodiratime": f |= UInt(MS_NODIRATIME)
            case "relatime": f |= UInt(MS_RELATIME)
            case "strictatime": f |= UInt(MS_STRICTATIME)
            default: continue
            }
        }
        return f
    }

    /// Sets password2 on the live cifs mount at `target` through a child (`<executable> __set-password2 --
    /// TARGET FLAGS`, the key on its stdin), giving up after `deadline` seconds.
    public static func setPassword2(
        target: String, options: String, vfsOptions: String, key: Secret, executable: String, deadline: Double
    ) throws {
        let child = try ChildProcess.spawn(
            executable,
            [ChildCommand.setPassword2.rawValue, "--", target, String(remountFlags(vfsOptions: vfsOptions))],
            pipeStdin: true, pipeStdout: true)
        let data = Array("\(options),password2=\(key.reveal())".utf8)
        _ = data.withUnsafeBytes { try? Syscalls.writeAll(child.stdinFD, $0, path: "pipe") }
        close(child.stdinFD)
        let end = Clock.monotonicSeconds() + deadline
        let output = ChildProcess.collectOutput(child.stdoutFD, until: end, limit: 4096)
        guard let status = ChildProcess.wait(child.pid, until: max(end, Clock.monotonicSeconds())) else {
            throw MountError(
                operation: "remount with password2", target: target, exitCode: 32, syscallErrno: nil, helperStatus: nil,
                helperErrno: nil,
                detail: "did not complete within \(Int(deadline)) s (the session is busy reconnecting?)", timedOut: true
            )
        }
        guard status == 0 else {
            let text = String(decoding: output, as: UTF8.self).trimmingWhitespace()
            throw MountError(
                operation: "remount with password2", target: target, exitCode: Int(status),
                syscallErrno: Int32(text) ?? nil,
                helperStatus: nil, helperErrno: nil,
                detail: Int32(text).map { "mount(2) MS_REMOUNT failed: \(String(cString: strerror($0)))" }
                    ?? "the child exited with status \(status)")
        }
    }

    /// The child's side: read the remount's options (`...,password2=KEY`) from stdin and remount. Prints the
    /// errno on failure.
    public static func childSide(target: String, flags: UInt) -> Int32 {
        var data = Syscalls.readToEnd(0, limit: 8192)
        data.append(0)
        let rc = data.withUnsafeBufferPointer { Glibc.mount("none", target, nil, flags, $0.baseAddress) }
        let err = errno
        for i in data.indices { data[i] = 0 }
        if rc == 0 { return 0 }
        let text = Array(String(err).utf8)
        _ = text.withUnsafeBytes { try? Syscalls.writeAll(1, $0, path: "stdout") }
        return 1
    }
}
