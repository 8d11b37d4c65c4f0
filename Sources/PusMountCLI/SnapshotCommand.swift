import ArgumentParser
import Orchestrator
import SystemSupport

/// `pus-mount snapshot <user> [--keep N]`
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Create a snapshot of the user's share; with --keep N, prune pus-mount's own older snapshots.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Option(help: "Keep only the newest N snapshots pus-mount took (others' snapshots are never touched).")
    var keep: Int?
    @Flag(help: "Print the REST call and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "snapshot") { rt in
            let u = try rt.resolve(user)
            let r = try rt.node().snapshot(u.name, keep: keep)
            rt.auditShare = r.share
            rt.auditAccount = r.account
            var human = [dryRun ? "would snapshot \(r.share)" : "snapshot \(r.share) at \(r.snapshot)"]
            if !r.pruned.isEmpty { human.append("pruned \(r.pruned.count): \(r.pruned.joined(separator: ", "))") }
            rt.emit(
                human: human,
                json: [
                    ("user", .string(u.name)), ("share", .string(r.share)), ("snapshot", .string(r.snapshot)),
                    ("pruned", .array(r.pruned.map(JSON.string))),
                ])
        }
    }
}

/// `pus-mount snapshots <user>`: the share's snapshots, pus-mount's marked.
struct SnapshotsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshots", abstract: "List the snapshots of the user's share (oldest first).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String

    func run() throws {
        try CommandRunner.run(global) { rt in
            let u = try rt.resolve(user)
            let r = try rt.node().snapshots(u.name)
            rt.emit(
                human: r.snapshots.isEmpty
                    ? ["\(r.share) has no snapshots"]
                    : Output.table(
                        [["SNAPSHOT", "TAKEN BY"]]
                            + r.snapshots.map { [$0.time, $0.byPusMount ? "pus-mount" : "other"] }),
                json: [
                    ("user", .string(u.name)), ("share", .string(r.share)), ("account", .string(r.account)),
                    (
                        "snapshots",
                        .array(
                            r.snapshots.map {
                                .object([("time", .string($0.time)), ("by_pus_mount", .bool($0.byPusMount))])
                            })
                    ),
                ])
        }
    }
}

/// `pus-mount restore <user> --snapshot TIME PATH [--to DEST] [--force]`: server-side copy back.
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Copy a file or a directory tree back from a snapshot of the user's share, server-side.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Option(help: "The snapshot's time, as `pus-mount snapshots` lists it.") var snapshot: String
    @Argument(help: "File or directory inside the snapshot.") var path: String
    @Option(help: "Destination inside the share (default: the same path).") var to: String?
    @Flag(help: "Replace destination files that exist.") var force = false

    func run() throws {
        try CommandRunner.run(global, audit: "restore") { rt in
            let u = try rt.resolve(user)
            let p = try RemotePaths.check(path, what: "PATH", allowRoot: true)
            let d = try to.map { try RemotePaths.check($0, what: "--to", allowRoot: true) }
            let r = try rt.node().restore(u.name, snapshot: snapshot, path: p, to: d, force: force)
            rt.auditShare = r.share
            rt.auditAccount = r.account
            rt.emit(
                human: [
                    "restored \(r.files.count) file(s)\(r.directories.isEmpty ? "" : " in \(r.directories.count) director(ies)") of \(r.share) from \(snapshot) to /\(d ?? p)"
                ],
                json: [
                    ("user", .string(u.name)), ("share", .string(r.share)), ("snapshot", .string(snapshot)),
                    ("files", .array(r.files.map { .string("/" + $0) })),
                    ("directories", .int(r.directories.count)),
                ])
        }
    }
}
