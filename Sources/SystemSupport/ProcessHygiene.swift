import CSupport
import Glibc

/// What pus-mount sets up before it does anything, because it runs as root at every login and holds account
/// keys in memory: no core dumps (PR_SET_DUMPABLE 0 and RLIMIT_CORE 0: a crash must not write the key to disk),
/// a fixed umask (what it creates gets exactly the modes it asks for, whatever pam_umask or a hardened unit
/// set). Children get a minimal environment and no descriptor beyond 0-2 (``ChildProcess``).
public enum ProcessHygiene {
    /// The umask pus-mount runs with.
    public static let umaskValue: mode_t = 0o022

    /// Applies the settings; failures are ignored (they only narrow what would be possible anyway).
    public static func apply() {
        _ = pus_set_dumpable(0)
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(Int32(RLIMIT_CORE.rawValue), &none)
        umask(umaskValue)
    }

    /// The state as this process sees it: (dumpable, core soft limit, core hard limit, umask).
    public static func current() -> (dumpable: Int32, coreSoft: UInt64, coreHard: UInt64, umask: mode_t) {
        var rl = rlimit()
        _ = getrlimit(Int32(RLIMIT_CORE.rawValue), &rl)
        let mask = umask(0)
        umask(mask)
        return (pus_get_dumpable(), UInt64(rl.rlim_cur), UInt64(rl.rlim_max), mask)
    }
}
