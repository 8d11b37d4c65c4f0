/// A failed mount or unmount, built from libmount's return code, the syscall errno and the helper's
/// (mount.cifs) exit status and stderr, with a message that names the fix.
public struct MountError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let target: String
    /// libmount's mnt_context_get_excode() (MNT_EX_*: 1 usage, 2 syserr, 32 fail, ...).
    public let exitCode: Int
    /// The mount(2)/umount(2) errno when libmount made the syscall itself.
    public let syscallErrno: Int32?
    /// mount.cifs exit status when the helper ran.
    public let helperStatus: Int32?
    /// `mount error(N)` parsed from the helper's stderr (the kernel's errno for cifs).
    public let helperErrno: Int32?
    /// libmount's message plus the helper's stderr, secrets redacted.
    public let detail: String
    /// The operation did not finish within its deadline (it ran in a child that was then killed).
    public let timedOut: Bool

    public init(
        operation: String, target: String, exitCode: Int, syscallErrno: Int32?, helperStatus: Int32?,
        helperErrno: Int32?,
        detail: String, timedOut: Bool = false
    ) {
        self.operation = operation
        self.target = target
        self.exitCode = exitCode
        self.syscallErrno = syscallErrno
        self.helperStatus = helperStatus
        self.helperErrno = helperErrno
        self.detail = detail
        self.timedOut = timedOut
    }

    /// What to do about it, for the errors operators meet.
    public var hint: String? {
        if timedOut {
            return
                "the server did not answer in time (mount.timeout_seconds): check that the SMB host answers on TCP 445, then try again"
        }
        switch helperErrno ?? syscallErrno {
        case 13:
            return
                "error 13 (permission denied): the account key was rejected, or a storage firewall / private endpoint blocks this node"
        case 2:
            return
                "error 2 (no such file): the share or path does not exist on the server; check the share name and provision it"
        case 112:
            return
                "error 112 (host is down): the SMB server is unreachable or refused the dialect; check smb_host, DNS and mount.vers"
        case 115: return "error 115 (operation now in progress): TCP port 445 is blocked on the way to the server"
        case 95:
            return
                "error 95 (not supported): the server refused the SMB dialect; check mount.vers against the server's minimum protocol"
        case 16: return "the mountpoint is busy"
        case 19:
            return
                "the kernel has no cifs support: load it with modprobe cifs (Debian's kernels ship the module; a cloud or container kernel may not)"
        default: return nil
        }
    }

    public var description: String { "\(operation) \(target) failed: \(detail)" }

    /// Finds `mount error(N)` in mount.cifs output.
    public static func parseHelperErrno(_ text: String) -> Int32? {
        guard let r = text.firstRange(of: "mount error(") else { return nil }
        let digits = text[r.upperBound...].prefix { $0.isNumber }
        return Int32(digits)
    }

    /// One line for a mount child to hand its failure to the parent (tab-separated fields, no tabs or newlines
    /// in the detail).
    public var wireLine: String {
        let clean = detail.map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 }
        return [
            String(exitCode), syscallErrno.map(String.init) ?? "-", helperStatus.map(String.init) ?? "-",
            helperErrno.map(String.init) ?? "-", String(clean),
        ].joined(separator: "\t")
    }

    /// The error a child reported with ``wireLine``; nil when the text is not such a line.
    public static func fromWire(_ line: String, operation: String, target: String) -> MountError? {
        let f = line.split(separator: "\t", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
        guard f.count == 5, let code = Int(f[0]) else { return nil }
        return MountError(
            operation: operation, target: target, exitCode: code, syscallErrno: Int32(f[1]), helperStatus: Int32(f[2]),
            helperErrno: Int32(f[3]), detail: f[4])
    }
}
