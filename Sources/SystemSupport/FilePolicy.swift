import Glibc

/// Ownership and mode rules for the files pus-mount trusts (config, key files).
public enum FilePolicy {
    /// Root-owned, not a symlink, and not writable (and, for secrets, not readable) by group or others.
    public static func checkRootOwned(path: String, st: stat, kind: String, allowGroupOtherRead: Bool) throws {
        let mode = st.st_mode & 0o7777
        let bad: mode_t = allowGroupOtherRead ? 0o022 : 0o077
        if st.st_uid != 0 || (mode & bad) != 0 {
            let want = allowGroupOtherRead ? "0644" : "0600"
            throw PusError(.config, "\(kind) \(path) is owned by uid \(st.st_uid) with mode \(String(mode, radix: 8)); pus-mount trusts only root-owned files \(allowGroupOtherRead ? "not writable" : "not readable or writable") by group or others",
                           hint: "chown root:root \(path) && chmod \(want) \(path)")
        }
    }
}
