import ArgumentParser
import AzureFiles
import Orchestrator
import SystemSupport

/// `pus-mount ls <user> [PATH]`: list a directory of the user's share over REST, every page.
struct LsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ls", abstract: "List a directory of the user's share over REST (no mount).")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Argument(help: "Directory inside the share (default: the root); with --blob, a blob name prefix.")
    var path: String = ""
    @Flag(help: "List the user's Blob container: blobs under PREFIX, one level (`/` as delimiter).") var blob = false
    @Flag(help: "With --blob: every blob under PREFIX, not one level.") var recursive = false

    func run() throws {
        try CommandRunner.run(global) { rt in
            let u = try rt.resolve(user)
            guard blob else {
                if recursive { throw PusError(.usage, "--recursive applies to --blob listings") }
                return try listShare(rt, u)
            }
            if !path.isEmpty, path.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                throw PusError(.badInput, "PREFIX cannot hold control characters")
            }
            let l = try rt.node().blob.list(u.name, prefix: path, recursive: recursive)
            let rows =
                l.prefixes.map { ["dir", "-", $0] }
                + l.blobs.map { [$0.contentType ?? "-", String($0.size), $0.name] }
            rt.emit(
                human: Output.table(rows),
                json: [
                    ("user", .string(u.name)), ("container", .string(l.container)), ("account", .string(l.account)),
                    ("prefix", .string(path)), ("recursive", .bool(recursive)),
                    ("count", .int(l.blobs.count + l.prefixes.count)), ("pages", .int(l.pages)),
                    ("prefixes", .array(l.prefixes.map(JSON.string))),
                    (
                        "blobs",
                        .array(
                            l.blobs.map { b in
                                .object([
                                    ("name", .string(b.name)), ("size", .int(Int(b.size))),
                                    ("content_type", .string(b.contentType)), ("content_md5", .string(b.contentMD5)),
                                    ("last_modified", .string(b.lastModified)),
                                ])
                            })
                    ),
                ])
        }
    }

    func listShare(_ rt: Runtime, _ u: ResolvedUser) throws {
        do {
            let p = try RemotePaths.check(path, what: "PATH", allowRoot: true)
            let l = try rt.node().list(u.name, path: p)
            let share = l.share
            let entries = l.entries
            let pages = l.pages
            let rows = entries.map { e in
                [e.isDirectory ? "dir" : "file", e.isDirectory ? "-" : String(e.size ?? 0), e.name]
            }
            rt.emit(
                human: Output.table(rows),
                json: [
                    ("user", .string(u.name)), ("share", .string(share)), ("path", .string("/" + p)),
                    ("count", .int(entries.count)),
                    ("pages", .int(pages)),
                    (
                        "entries",
                        .array(
                            entries.map { e in
                                .object([
                                    ("name", .string(e.name)), ("type", .string(e.isDirectory ? "directory" : "file")),
                                    ("size", e.size.map { .int(Int($0)) } ?? .null),
                                ])
                            })
                    ),
                ])
        }
    }
}

/// Checks share-relative paths given on the command line (exit 65 with the rule that failed).
enum RemotePaths {
    static func check(_ raw: String, what: String, allowRoot: Bool) throws -> String {
        let p = FilePathRules.normalize(raw)
        if p.isEmpty && !allowRoot { throw PusError(.badInput, "\(what) must name a file inside the share") }
        if let problem = FilePathRules.problem(with: p) { throw PusError(.badInput, "\(what) \(raw): \(problem)") }
        return p
    }
}
