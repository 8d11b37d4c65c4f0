import CLibMount
import Glibc
import SystemSupport

/// The one owner of a `libmnt_context*` (mnt_new_context / mnt_free_context).
struct MountContext: ~Copyable {
    let raw: OpaquePointer

    init() throws {
        try Self.loadLibrary()
        guard let c = pus_mnt_new_context() else { throw SystemError("mnt_new_context", errno: ENOMEM) }
        raw = c
    }

    /// Opens libmount on first use (it is not linked: see CLibMount/shim.h); one clear error when it is missing.
    static func loadLibrary() throws {
        guard pus_mnt_load() != 0 else { return }
        let why = pus_mnt_load_error().map { String(cString: $0) } ?? "unknown error"
        throw SystemError("dlopen libmount.so.1 (\(why); install libmount1)", errno: ELIBACC)
    }

    deinit { pus_mnt_free_context(raw) }

    /// Wraps a libmount setter's negative-errno return.
    func check(_ rc: Int32, _ call: String) throws {
        if rc != 0 { throw SystemError(call, errno: rc < 0 ? -rc : EINVAL) }
    }

    /// mnt_context_get_excode's message for `rc`.
    func exitCode(_ rc: Int32) -> (Int, String) {
        var buf = [CChar](repeating: 0, count: 1024)
        let code = pus_mnt_context_get_excode(raw, rc, &buf, buf.count)
        return (Int(code), String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}
