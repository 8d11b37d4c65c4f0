import ArgumentParser
import AzureFiles
import Glibc
import Orchestrator
import SystemSupport

/// `pus-mount get <user> REMOTE [LOCAL]`: download over REST in 4 MiB ranges into a temp file renamed at the end.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Download a file of the user's share over REST.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Argument(help: "File inside the share.") var remote: String
    @Argument(help: "Local destination (default: the remote file's name in the current directory).") var local: String?
    @Flag(help: "Replace LOCAL if it exists.") var force = false
    @Flag(help: "Download blob REMOTE of the user's Blob container (ranges checked against its ETag and MD5).")
    var blob = false

    func run() throws {
        try CommandRunner.run(global, audit: "get") { rt in
            let u = try rt.resolve(user)
            let src: String
            if blob {
                if let problem = BlobContainerProvider.problem(with: remote) {
                    throw PusError(.badInput, "NAME \(remote): \(problem)")
                }
                src = remote
            } else {
                src = try RemotePaths.check(remote, what: "REMOTE", allowRoot: false)
            }
            var dest = local ?? AtomicFile.basename(of: src)
            if let st = try? Syscalls.fileStatus(dest), (st.st_mode & S_IFMT) == S_IFDIR {
                dest += "/" + AtomicFile.basename(of: src)
            }
            if !force, (try? Syscalls.linkStatus(dest)) != nil {
                throw PusError(.badInput, "LOCAL \(dest) exists", hint: "pass --force to replace it")
            }
            // The download goes to a temp file beside the destination: a missing directory is said as such
            // before any request, not as the temp file's name (issue 15, item 11).
            let parent = AtomicFile.directory(of: dest)
            guard let pst = try? Syscalls.fileStatus(parent), (pst.st_mode & S_IFMT) == S_IFDIR else {
                throw PusError(
                    .badInput, "LOCAL \(dest): the directory \(parent) does not exist",
                    hint: "create it, or name another destination")
            }
            let progress = Progress(label: "get \(src)", json: global.json)
            let n = try withExtendedLifetime(progress) {
                defer { progress.finish() }
                guard blob else {
                    return try rt.node().download(u.name, remote: src, to: dest) { progress.bytes($0, $1) }
                }
                let t = try rt.node().blob.download(u.name, name: src, to: dest) { progress.bytes($0, $1) }
                rt.auditShare = t.container
                rt.auditAccount = t.account
                return t.bytes
            }
            rt.emit(
                human: ["downloaded \(n) bytes to \(dest)"],
                json: [
                    ("user", .string(u.name)), (blob ? "blob" : "remote", .string(blob ? src : "/" + src)),
                    ("local", .string(dest)), ("bytes", .int(Int(n))),
                ])
        }
    }
}
