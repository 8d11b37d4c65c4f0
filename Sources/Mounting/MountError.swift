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

    public init(operation: String, target: String, exitCode: Int, syscallErrno: Int32?, helperStatus: Int32?, helperErrno: Int32?, detail: String) {
        self.operation = operation
        self.target = target
        self.exitCode = exitCode
        self.syscallErrno = syscallErrno
        self.helperStatus = helperStatus
        self.helperErrno = helperErrno
        self.detail = detail
    }

    /// What to do about it, for the errors operators meet.
    public var hint: String? {
        switch helperErrno ?? syscallErrno {
        case 13: return "error 13 (permission denied): the account key was rejected, or a storage firewall / private endpoint blocks this node"
        case 2: return "error 2 (no such file): the share or path does not exist on the server; check the share name and provision it"
        case 112: return "error 112 (host is down): the SMB server is unreachable or refused the dialect; check smb_host, DNS and mount.vers"
        case 115: return "error 115 (operation now in progress): TCP port 445 is blocked on the way to the server"
        case 95: return "error 95 (not supported): the server refused SMB \(""); check mount.vers against the server's minimum protocol"
        case 16: return "the mountpoint is busy"
        case 19: return "the kernel has no cifs support: install linux-modules-extra / load the cifs module"
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
}
