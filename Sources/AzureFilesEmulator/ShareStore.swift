import Foundation

/// Where one share lives on disk and its properties file.
struct ShareStore {
    let account: String
    let share: String
    let accountDir: String
    /// The share's content directory (exported over SMB in the end-to-end test).
    var dir: String { "\(accountDir)/\(share)" }
    var metaFile: String { "\(accountDir)/.emulator/shares/\(share).json" }
    var snapshotDir: String { "\(accountDir)/.emulator/snapshots/\(share)" }

    init(root: String, account: String, share: String) {
        self.account = account
        self.share = share
        accountDir = "\(root)/\(account)"
    }

    /// Properties kept beside the share.
    struct Meta: Codable {
        var quota: Int
        var metadata: [[String]]
        var etag: String
        var lastModified: Int
    }

    var exists: Bool { FileManager.default.fileExists(atPath: metaFile) }

    func load() -> Meta? {
        guard let d = FileManager.default.contents(atPath: metaFile) else { return nil }
        return try? JSONDecoder().decode(Meta.self, from: d)
    }

    func save(_ m: Meta) throws {
        try FileManager.default.createDirectory(atPath: (metaFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let data = try JSONEncoder().encode(m)
        let tmp = metaFile + ".tmp"
        FileManager.default.createFile(atPath: tmp, contents: data)
        _ = rename(tmp, metaFile)
    }

    func file(_ path: String) -> String { path.isEmpty ? dir : "\(dir)/\(path)" }
}
