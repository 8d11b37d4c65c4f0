import AzureFiles
import Storage
import SystemSupport

/// Snapshots a user can get back (issue 19, item 4): the share's snapshots listed, pus-mount's own pruned,
/// and a file or a directory tree copied back server-side from one (Copy File with the snapshot as the source:
/// no data through the node).
extension Node {
    /// The metadata pus-mount puts on the snapshots it takes (so `--keep` prunes only its own).
    static let snapshotMark = ("pus_snapshot", "pus-mount")

    public struct SnapshotInfo: Sendable {
        public let time: String
        /// Taken by `pus-mount snapshot` (its `pus_snapshot` metadata).
        public let byPusMount: Bool
    }

    /// The user's share's snapshots, oldest first.
    public func snapshots(_ user: String) throws -> (share: String, account: String, snapshots: [SnapshotInfo]) {
        let found = try userShare(user)
        let items = try azure().client(found.account).listSnapshots(found.share)
        return (
            found.share, found.account.name,
            items.map {
                SnapshotInfo(
                    time: $0.snapshot ?? "", byPusMount: $0.metadata[Self.snapshotMark.0] == Self.snapshotMark.1)
            }
        )
    }

    /// A snapshot of the user's share, marked as pus-mount's; with `keep`, pus-mount's own snapshots beyond the
    /// newest `keep` are deleted afterwards (never one taken by someone else).
    public func snapshot(_ user: String, keep: Int?) throws -> (
        share: String, account: String, snapshot: String, pruned: [String]
    ) {
        if let keep, keep < 1 {
            throw OrchestratorError(.invalidArgument, "--keep \(keep): keep at least 1 (the one just taken)")
        }
        let found = try userShare(user)
        let client = try azure().client(found.account)
        let ts = try client.createSnapshot(found.share, metadata: [Self.snapshotMark])
        var pruned: [String] = []
        if let keep {
            let own = try client.listSnapshots(found.share).filter {
                $0.metadata[Self.snapshotMark.0] == Self.snapshotMark.1
            }.compactMap(\.snapshot)
            for old in own.dropLast(keep) {
                try client.deleteSnapshot(found.share, snapshot: old)
                pruned.append(old)
            }
        }
        return (found.share, found.account.name, ts, pruned)
    }

    public struct Restored: Sendable {
        public let share: String
        public let account: String
        public let files: [String]
        public let directories: [String]
    }

    /// Copies `path` (a file or a directory tree) from snapshot `time` of the user's share to `dest` (default:
    /// the same path), server-side. Everything is checked before anything is copied: the snapshot and the path
    /// exist, and no destination file exists unless `force` (then it is replaced).
    public func restore(_ user: String, snapshot time: String, path: String, to dest: String?, force: Bool) throws
        -> Restored
    {
        let found = try userShare(user)
        let client = try azure().client(found.account)
        guard try client.listSnapshots(found.share).contains(where: { $0.snapshot == time }) else {
            throw OrchestratorError(
                .invalidArgument, "\(found.share) has no snapshot \(time)",
                hint: "`pus-mount snapshots \(user)` lists them")
        }
        let target = dest ?? path
        var files: [(from: String, to: String)] = []
        var dirs: [String] = []
        if try client.fileExists(share: found.share, path: path, snapshot: time) {
            files = [(path, target)]
        } else {
            // A directory: walk it in the snapshot (every page of every level).
            var pending = [(path, target)]
            do {
                while let (from, to) = pending.popLast() {
                    dirs.append(to)
                    for e in try client.listAll(share: found.share, path: from, snapshot: time) {
                        let f = from.isEmpty ? e.name : from + "/" + e.name
                        let t = to.isEmpty ? e.name : to + "/" + e.name
                        if e.isDirectory { pending.append((f, t)) } else { files.append((f, t)) }
                    }
                }
            } catch let e as AzureError where e.status == 404 {
                throw OrchestratorError(.invalidArgument, "no file or directory /\(path) in snapshot \(time)")
            }
        }
        if !force {
            let existing = try files.filter { try client.fileExists(share: found.share, path: $0.to) }.map(\.to)
            if !existing.isEmpty {
                throw OrchestratorError(
                    .refused,
                    "\(existing.count) file(s) exist at the destination (/\(existing.prefix(3).joined(separator: ", /"))\(existing.count > 3 ? ", ..." : ""))",
                    hint: "pass --force to replace them, or --to another path")
            }
        }
        for d in dirs where !d.isEmpty { try client.createDirectories(share: found.share, path: d) }
        if dirs.isEmpty, let slash = target.lastIndex(of: "/") {
            try client.createDirectories(share: found.share, path: String(target[..<slash]))
        }
        for f in files { try client.copyFile(share: found.share, path: f.to, from: f.from, snapshot: time) }
        return Restored(share: found.share, account: found.account.name, files: files.map(\.to), directories: dirs)
    }
}
