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
    @Flag(help: "Upload into the user's Blob container as blob REMOTE (blocks of 8 MiB, committed at the end).")
    var blob = false
    @Option(help: "With --blob: the blob's Content-Type (default: from the file extension).") var contentType: String?

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "put") { rt in
            let u = try rt.resolve(user)
            guard let st = try? Syscalls.fileStatus(local), (st.st_mode & S_IFMT) == S_IFREG else {
                throw PusError(.badInput, "LOCAL \(local) is not a readable regular file")
            }
            if blob { return try putBlob(rt, u) }
            if contentType != nil { throw PusError(.usage, "--content-type applies to --blob uploads") }
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

    func putBlob(_ rt: Runtime, _ u: ResolvedUser) throws {
        let name = remote ?? AtomicFile.basename(of: local)
        if let problem = BlobContainerProvider.problem(with: name) {
            throw PusError(.badInput, "NAME \(name): \(problem)")
        }
        if let t = contentType, !BlobContainerProvider.validContentType(t) {
            throw PusError(.badInput, "--content-type \(t) is not a media type like image/png")
        }
        let t0 = Clock.monotonicSeconds()
        let progress = Progress(label: "put \(name)", json: global.json)
        let t = try withExtendedLifetime(progress) {
            defer { progress.finish() }
            return try rt.node().blob.upload(u.name, from: local, name: name, contentType: contentType) {
                progress.bytes($0, $1)
            }
        }
        rt.auditShare = t.container
        rt.auditAccount = t.account
        let secs = Clock.monotonicSeconds() - t0
        rt.emit(
            human: [
                "\(dryRun ? "would upload" : "uploaded") \(t.bytes) bytes to \(u.name)'s container \(t.container) as \(name) (\(t.contentType ?? "-"))\(dryRun ? "" : " in \(Int(secs * 1000)) ms")"
            ],
            json: [
                ("user", .string(u.name)), ("container", .string(t.container)), ("account", .string(t.account)),
                ("blob", .string(name)), ("content_type", .string(t.contentType)), ("bytes", .int(Int(t.bytes))),
                ("rest_requests", .int(rt.requestsSent)),
            ])
    }
}
