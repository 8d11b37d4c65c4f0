import AzureFiles
import Glibc
import SystemSupport

/// An account key file: line 1 key1, optional line 2 key2 (for rotation), base64. Root-owned, mode 0600
/// or stricter; anything else is refused (exit 78) with the fix.
public struct KeyFile: Sendable {
    public let key1: Secret
    public let key2: Secret?

    /// Keys already read (tests, rotation); ``read(_:)`` is how files become keys.
    public init(key1: Secret, key2: Secret? = nil) {
        self.key1 = key1
        self.key2 = key2
    }

    /// Reads and checks `path`.
    public static func read(_ path: String) throws -> KeyFile {
        guard let st = try? Syscalls.linkStatus(path) else {
            throw StorageError(
                .badKey, "key file \(path) does not exist or cannot be read",
                hint: "write the account key to it (line 1 key1, optional line 2 key2), chown root:root, chmod 0600")
        }
        if (st.st_mode & S_IFMT) == S_IFLNK {
            throw StorageError(.badKey, "key file \(path) is a symbolic link", hint: "point key_file at the real file")
        }
        try FilePolicy.checkRootOwned(path: path, st: st, kind: "key file", allowGroupOtherRead: false)
        let bytes: [UInt8]
        do { bytes = try Syscalls.readFile(path) } catch {
            throw StorageError(.keyUnreadable, "cannot read key file \(path): \(error)", hint: "run pus-mount as root")
        }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
            String($0).trimmingWhitespace()
        }
        .filter { !$0.isEmpty }
        guard let first = lines.first else {
            throw StorageError(.badKey, "key file \(path) is empty", hint: "write the account key (base64) on line 1")
        }
        guard lines.count <= 2 else {
            throw StorageError(
                .badKey, "key file \(path) has more than two lines", hint: "line 1 key1, optional line 2 key2")
        }
        for (i, line) in lines.enumerated() where Crypto.base64Decode(line) == nil {
            throw StorageError(
                .badKey, "key file \(path) line \(i + 1) is not valid base64",
                hint: "copy the key exactly as the Azure portal shows it (88 characters ending in '==')")
        }
        return KeyFile(key1: Secret(first), key2: lines.count > 1 ? Secret(lines[1]) : nil)
    }
}

extension KeyFile {
    /// A short, non-secret fingerprint of a key (`k-` + 12 hex of SHA-256 over the base64 text): recorded in
    /// the ledger to tell which key a mount was made with. 48 bits of a hash of a 512-bit random key say
    /// nothing about the key.
    public static func id(of key: Secret) -> String {
        "k-" + String(Crypto.hex(Crypto.sha256(Array(key.reveal().trimmingWhitespace().utf8))).prefix(12))
    }

    /// The fingerprint of key1 (the key new credentials files lead with).
    public var key1ID: String { Self.id(of: key1) }
}
