import Glibc

/// A passwd entry (uid, gid, home).
public struct PasswdEntry: Sendable, Equatable {
    public let name: String
    public let uid: UInt32
    public let gid: UInt32
    public let home: String

    public init(name: String, uid: UInt32, gid: UInt32, home: String) {
        self.name = name
        self.uid = uid
        self.gid = gid
        self.home = home
    }
}

/// NSS user lookups through getpwnam_r(3).
public enum Passwd {
    /// Nil when the user does not exist; throws only for NSS failures.
    public static func lookup(_ name: String) throws -> PasswdEntry? {
        var pwd = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var size = 4096
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            let rc = getpwnam_r(name, &pwd, &buffer, size, &result)
            if rc == ERANGE && size < 1 << 20 {
                size *= 4
                continue
            }
            if rc != 0 && rc != ENOENT && rc != ESRCH { throw SystemError("getpwnam_r", errno: rc, path: name) }
            guard let r = result else { return nil }
            return PasswdEntry(
                name: String(cString: r.pointee.pw_name), uid: r.pointee.pw_uid, gid: r.pointee.pw_gid,
                home: String(cString: r.pointee.pw_dir))
        }
    }
}
