import CLibMount
import Glibc
import SystemSupport

/// The one owner of a `libmnt_context*` (mnt_new_context / mnt_free_context).
struct MountContext: ~Copyable {
    let raw: OpaquePointer

    init() throws {
        guard let c = mnt_new_context() else { throw SystemError("mnt_new_context", errno: ENOMEM) }
        raw = c
    }

    deinit { mnt_free_context(raw) }

    /// Wraps a libmount setter's negative-errno return.
    func check(_ rc: Int32, _ call: String) throws {
        if rc != 0 { throw SystemError(call, errno: rc < 0 ? -rc : EINVAL) }
    }

    /// mnt_context_get_excode's message for `rc`.
    func exitCode(_ rc: Int32) -> (Int, String) {
        var buf = [CChar](repeating: 0, count: 1024)
        let code = mnt_context_get_excode(raw, rc, &buf, buf.count)
        return (Int(code), String(cString: buf))
    }
}
