import Glibc

/// Ownership and mode rules for the files pus-mount trusts (config, key files).
public enum FilePolicy {
    /// Root-owned, not a symlink, and not writable (and, for secrets, not readable) by group or others.
    public static func checkRootOwned(path: String, st: stat, kind: String, allowGroupOtherRead: Bool) throws {
        let mode = st.st_mode & 0o7777
        let bad: mode_t = allowGroupOtherRead ? 0o022 : 0o077
        if st.st_uid != 0 || (mode & bad) != 0 {
            let want = allowGroupOtherRead ? "0644" : "0600"
            throw FilePolicyError(
                .untrustedFile,
                "\(kind) \(path) is owned by uid \(st.st_uid) with mode \(String(mode, radix: 8)); pus-mount trusts only root-owned files \(allowGroupOtherRead ? "not writable" : "not readable or writable") by group or others",
                hint: "chown root:root \(path) && chmod \(want) \(path)")
        }
    }

    /// Refuses a path a non-root user could redirect: every directory from `/` down to the file's parent must be
    /// a real directory (not a symlink) owned by root and not writable by group or others, unless it is sticky
    /// (/tmp: a sticky directory lets nobody replace the root-owned entries below it); a symlink on the way is
    /// followed only when root owns it (its target is then checked the same way). An existing file at
    /// `path` must be a regular file, not a symlink, owned by root, with no permission bit in `forbiddenMode`.
    /// Used for what root writes where an administrator pointed it (the metrics file, the audit log).
    /// Returns the path to write to: `path` with root's symlinks resolved (writers open with O_NOFOLLOW).
    @discardableResult
    public static func checkRootControlledPath(
        _ path: String, kind: String, forbiddenMode: mode_t = 0o022, depth: Int = 0
    ) throws -> String {
        guard path.hasPrefix("/") else {
            throw FilePolicyError(.relativePath, "\(kind) \(path) is not an absolute path")
        }
        let components = path.split(separator: "/").map(String.init).dropLast()
        var prefix = ""
        for dir in [""] + components {
            prefix += dir.isEmpty ? "/" : (prefix == "/" ? dir : "/" + dir)
            var st = stat()
            guard lstat(prefix, &st) == 0 else {
                if errno == ENOENT { return path }  // created below by root, with root's modes
                throw FilePolicyError(
                    .redirectable, "\(kind) \(path): cannot check \(prefix): \(String(cString: strerror(errno)))")
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK {
                // Only root could have put a root-owned link in a root-controlled directory: follow it and check
                // where it leads by the same rule. A link anyone else owns is refused.
                guard st.st_uid == 0, depth < 8, let real = realpath(prefix, nil) else {
                    throw FilePolicyError(
                        .redirectable,
                        "\(kind) \(path) passes through the symlink \(prefix), owned by uid \(st.st_uid); pus-mount will not follow it",
                        hint: "point it at the real path, in directories owned by root")
                }
                let resolved = String(cString: real) + path.dropFirst(prefix.count)
                free(real)
                return try checkRootControlledPath(resolved, kind: kind, forbiddenMode: forbiddenMode, depth: depth + 1)
            }
            guard type == S_IFDIR else {
                throw FilePolicyError(.redirectable, "\(kind) \(path): \(prefix) is not a directory")
            }
            let mode = st.st_mode & 0o7777
            if st.st_uid != 0 || ((mode & 0o022) != 0 && (mode & S_ISVTX) == 0) {
                throw FilePolicyError(
                    .redirectable,
                    "\(kind) \(path) lies in \(prefix), owned by uid \(st.st_uid) with mode \(String(mode, radix: 8)): someone other than root could redirect it",
                    hint:
                        "use a directory owned by root and not writable by group or others (chown root \(prefix); chmod go-w \(prefix))"
                )
            }
        }
        var st = stat()
        guard lstat(path, &st) == 0 else { return path }
        let mode = st.st_mode & 0o7777
        if (st.st_mode & S_IFMT) != S_IFREG || st.st_uid != 0 || (mode & forbiddenMode) != 0 {
            throw FilePolicyError(
                .redirectable,
                "\(kind) \(path) is \((st.st_mode & S_IFMT) == S_IFLNK ? "a symlink" : (st.st_mode & S_IFMT) != S_IFREG ? "not a regular file" : "owned by uid \(st.st_uid) with mode \(String(mode, radix: 8))"); pus-mount will not write to it",
                hint:
                    "remove it, or chown root:root \(path) && chmod \(forbiddenMode & 0o044 != 0 ? "0640" : "0644") \(path)"
            )
        }
        return path
    }
}
