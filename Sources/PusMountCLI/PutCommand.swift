import ArgumentParser
import AzureFiles
import Glibc
import Orchestrator
import SystemSupport

/// `pus-mount put <user> LOCAL [REMOTE]`: upload over REST in 4 MiB ranges (memory stays flat).
struct PutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "put", abstract: "Upload a local file into the user's share over REST.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Argument(help: "Local file to upload.") var local: String
    @Argument(help: "Destination inside the share (default: the local file's name at the root).") var remote: String?
    @Flag(help: "Print the REST calls and change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "put") { rt in
            let u = try rt.resolve(user)
            guard let st = try? Syscalls.fileStatus(local), (st.st_mode & S_IFMT) == S_IFREG else {
                throw PusError(.badInput, "LOCAL \(local) is not a readable regular file")
            }
            let dest = try RemotePaths.check(remote ?? AtomicFile.basename(of: local), what: "REMOTE", allowRoot: false)
            let t0 = Clock.monotonicSeconds()
            let progress = Progress(label: "put \(dest)", json: global.json)
            let (share, _, n) = try rt.node().upload(u.name, from: local, to: dest) { progress.bytes($0, $1) }
            progress.finish()
            let secs = Clock.monotonicSeconds() - t0
            rt.emit(
                human: [
                    "\(dryRun ? "would upload" : "uploaded") \(n) bytes to \(u.name):/\(dest)\(dryRun ? "" : " in \(Int(secs * 1000)) ms")"
                ],
                json: [
                    ("user", .string(u.name)), ("share", .string(share)), ("remote", .string("/" + dest)),
                    ("bytes", .int(Int(n))),
                    ("rest_requests", .int(rt.requestsSent)),
                ])
        }
    }
}
