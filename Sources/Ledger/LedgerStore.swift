import Glibc
import SystemSupport

/// Reads and updates the ledger file. ``update(_:)`` = lock, load, migrate, body, atomic save, with a second
/// copy of what it saved as `ledger.json.bak` (another inode: a ledger truncated, garbled or deleted leaves the
/// last good copy, every lease in it, for the rebuild). A ledger that does not parse is never overwritten. The
/// lock is held only for this read-modify-write: never across a network call or a mount.
public struct LedgerStore: Sendable {
    public let path: String
    public let lockTimeout: Double

    public init(path: String, lockTimeout: Double = 30) {
        self.path = path
        self.lockTimeout = lockTimeout
    }

    public var lockPath: String { path + ".lock" }
    public var backupPath: String { path + ".bak" }

    /// Reads without locking (a consistent snapshot: the file is only ever replaced by rename).
    public func read() throws -> Ledger {
        try readIfPresent() ?? Ledger()
    }

    /// The ledger, or nil when there is no file.
    public func readIfPresent() throws -> Ledger? {
        guard let bytes = try readBytes() else { return nil }
        return try decode(bytes)
    }

    /// The backup copy when it exists and parses (a ledger of a future version counts as unusable here).
    public func readBackup() -> Ledger? {
        guard (try? Syscalls.linkStatus(backupPath)) != nil, let bytes = try? Syscalls.readFile(backupPath) else {
            return nil
        }
        return try? decode(bytes)
    }

    /// Runs `body` on the ledger under the ledger lock and saves the result if it changed.
    @discardableResult
    public func update<T>(_ body: (inout Ledger) throws -> T) throws -> T {
        try Syscalls.mkdirs(AtomicFile.directory(of: path), mode: 0o700)
        let lock = try FileLock.acquire(path: lockPath, timeout: lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        AtomicFile.sweepStaleTemporaries(in: AtomicFile.directory(of: path))
        let old = try readBytes()
        var ledger = try old.map(decode) ?? Ledger()
        let before = ledger
        let result = try body(&ledger)
        if ledger != before || old == nil {
            let bytes = Self.encode(ledger)
            try AtomicFile.write(bytes, to: path, mode: 0o600) {
                // The copy first, unsynced: the ledger's own rename and directory fsync follow (a crash loses
                // at most the copy, while the ledger is durable).
                try AtomicFile.write(bytes, to: backupPath, mode: 0o600, durable: false)
            }
        }
        return result
    }

    func readBytes() throws -> [UInt8]? {
        guard try Syscalls.linkStatus(path) != nil else { return nil }
        return try Syscalls.readFile(path)
    }

    func decode(_ bytes: [UInt8]) throws -> Ledger {
        // One decoder: the pull reader, straight into the model. When it fails, a tree parse only tells an
        // unparseable file and a future version apart from a malformed entry (whose key the reader named).
        let failure: any Error
        do {
            var ledger = try JSONParser.read(bytes, maxDepth: 16) { try Ledger(reading: &$0) }
            // Version 1 -> 2 adds only optional fields (absent means unknown): nothing to convert.
            if ledger.version >= 1, ledger.version <= Ledger.currentVersion {
                ledger.version = Ledger.currentVersion
                return ledger
            }
            failure = LedgerError(.futureVersion(ledger.version), path: path)
        } catch {
            failure = error
        }
        guard let doc = try? JSONParser.parse(bytes, maxDepth: 16), let version = doc["version"]?.intValue else {
            throw LedgerError(.unparseable, path: path)
        }
        guard version <= Ledger.currentVersion, version >= 1 else {
            throw LedgerError(.futureVersion(version), path: path)
        }
        throw LedgerError(.malformed, path: path, detail: "\(failure)")
    }

    /// Moves an unusable ledger aside as `ledger.json.corrupt-<unix time>` (never deleted) and returns the
    /// new path; nil when there was no file. Takes the ledger lock.
    public func moveAside(now: Int) throws -> String? {
        guard let dest = try asidePath(now: now) else { return nil }
        try moveAside(to: dest)
        return dest
    }

    /// Where an unusable ledger goes now: `ledger.json.corrupt-<unix time>`, numbered when taken; nil when
    /// there is no file.
    public func asidePath(now: Int) throws -> String? {
        guard try Syscalls.linkStatus(path) != nil else { return nil }
        var dest = "\(path).corrupt-\(now)"
        var n = 1
        while try Syscalls.linkStatus(dest) != nil {
            dest = "\(path).corrupt-\(now).\(n)"
            n += 1
        }
        return dest
    }

    /// Renames the ledger to `dest` (under the ledger lock), durably.
    public func moveAside(to dest: String) throws {
        try Syscalls.mkdirs(AtomicFile.directory(of: path), mode: 0o700)
        let lock = try FileLock.acquire(path: lockPath, timeout: lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        try Syscalls.rename(path, dest)
        try Syscalls.fsyncDirectory(AtomicFile.directory(of: path))
    }

    /// Puts a ledger moved aside back, unless a ledger has been written since; true when it went back.
    @discardableResult
    public func moveBack(from dest: String) throws -> Bool {
        let lock = try FileLock.acquire(path: lockPath, timeout: lockTimeout)
        defer { withExtendedLifetime(lock) {} }
        guard try Syscalls.linkStatus(path) == nil, try Syscalls.linkStatus(dest) != nil else { return false }
        try Syscalls.rename(dest, path)
        try Syscalls.fsyncDirectory(AtomicFile.directory(of: path))
        return true
    }

    /// Stable, readable JSON (sorted keys, two-space indent), with a final newline.
    public static func encode(_ ledger: Ledger) -> [UInt8] {
        ledger.json.serialized(pretty: true) + [10]
    }
}
