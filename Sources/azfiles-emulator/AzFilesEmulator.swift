import ArgumentParser
import AzureFiles
import AzureFilesEmulator
import Foundation
import Hummingbird
import SystemSupport

/// `azfiles-emulator --listen 127.0.0.1:PORT --data DIR --account NAME=BASE64KEY [--fault SPEC]`
@main
struct AzFilesEmulator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "azfiles-emulator",
        abstract:
            "A loopback emulator of the Azure Files REST API (Shared Key and SAS verified, shares stored as directories)."
    )

    @Option(help: "Address to listen on, HOST:PORT (PORT 0 picks a free port).")
    var listen = "127.0.0.1:0"

    @Option(
        help:
            "Also serve the Blob service (block blobs) on HOST:PORT, path-style /<account>/<container>/<blob> (PORT 0 picks a free port)."
    )
    var blobListen: String?

    @Option(help: "Directory holding the shares: DIR/<account>/<share>/...")
    var data: String

    @Option(
        help:
            "An account and its key (NAME=BASE64KEY); repeat for more accounts, or for a second key of the same account."
    )
    var account: [String] = []

    @Option(help: "Read NAME=BASE64KEY lines from this file instead of the command line (keeps keys out of argv).")
    var accountsFile: String?

    @Option(
        help: "Inject faults: STATUS:PROB[:retry-after=S|:no-retry-after] (e.g. 503:0.3), latency:MS[:PROB], drop:PROB."
    )
    var fault: [String] = []

    @Option(help: "Largest page a listing returns (the service's is 5000).")
    var pageSize = 5000

    @Flag(help: "Treat plain HTTP as HTTPS for SAS spr=https checks (loopback stands in for TLS).")
    var treatHttpAsHttps = false

    @Flag(help: "Log one line per request to stderr (signatures redacted).")
    var log = false

    @Option(
        help: "Run this executable after a share is created or deleted, with arguments ACCOUNT SHARE created|deleted.")
    var onShareChange: String?

    @Option(
        help:
            "Share soft delete: deleted shares (data, metadata, snapshots) stay restorable for DAYS (1-365). Off by default."
    )
    var softDeleteDays: Int?

    @Option(
        help:
            "List Handles asks this executable (arguments ACCOUNT SHARE) for the share's open SMB handles: one per line, PATH<TAB>CLIENT_IP<TAB>CLIENT_NAME."
    )
    var handlesHook: String?

    @Option(
        help:
            "Shares an account may hold: N for every account or ACCOUNT=N (repeat); Create Share beyond answers 409 TotalSharesCountExceedsAccountLimit."
    )
    var maxShares: [String] = []

    @Option(
        help:
            "Copy File answers pending, and the copy stays pending for SECONDS (then success): for testing a client's polling and Abort Copy File. By default copies finish before the answer."
    )
    var copyPending: Int?

    /// `--max-shares N` (every account) and `ACCOUNT=N`.
    static func caps(_ specs: [String]) throws -> [String: Int] {
        var caps: [String: Int] = [:]
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard let n = Int(parts.last ?? ""), n >= 0 else {
                throw ValidationError("--max-shares takes N or ACCOUNT=N")
            }
            caps[parts.count == 2 ? parts[0] : "*"] = n
        }
        return caps
    }

    func run() async throws {
        var entries = account
        if let accountsFile {
            let text = try String(contentsOfFile: accountsFile, encoding: .utf8)
            entries += text.split(separator: "\n").map { String($0).trimmingWhitespace() }.filter {
                !$0.isEmpty && !$0.hasPrefix("#")
            }
        }
        var accounts: [String: [SharedKey]] = [:]
        for entry in entries {
            guard let eq = entry.firstIndex(of: "=") else { throw ValidationError("--account takes NAME=BASE64KEY") }
            let name = String(entry[..<eq])
            guard let key = SharedKey(account: name, key: Secret(String(entry[entry.index(after: eq)...]))) else {
                throw ValidationError("--account \(name): the key is not valid base64")
            }
            accounts[name, default: []].append(key)
        }
        guard !accounts.isEmpty else { throw ValidationError("at least one --account NAME=BASE64KEY is required") }
        var plan = FaultPlan()
        for f in fault { if let err = plan.add(f) { throw ValidationError(err) } }
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw ValidationError("--listen takes HOST:PORT")
        }
        let host = String(listen[..<colon])
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        if let d = softDeleteDays, !(1...365).contains(d) { throw ValidationError("--soft-delete-days takes 1 to 365") }
        if let c = copyPending, !(0...86_400).contains(c) {
            throw ValidationError("--copy-pending takes 0 to 86400 seconds")
        }
        let handles = handlesHook.map { exe in
            { @Sendable (account: String, share: String) -> [OpenHandle] in
                let p = Process()
                p.executableURL = URL(fileURLWithPath: exe)
                p.arguments = [account, share]
                let out = Pipe()
                p.standardOutput = out
                guard (try? p.run()) != nil else { return [] }
                let data = out.fileHandleForReading.readDataToEndOfFile()
                p.waitUntilExit()
                return OpenHandle.parse(String(decoding: data, as: UTF8.self), now: Clock.unixSeconds())
            }
        }
        let hook = onShareChange
        let core = EmulatorCore(
            dataDir: data, accounts: accounts, faults: plan, pageSize: pageSize,
            onShareChange: hook.map { exe in
                { @Sendable account, share, created in
                    let p = Process()
                    p.executableURL = URL(fileURLWithPath: exe)
                    p.arguments = [account, share, created ? "created" : "deleted"]
                    try? p.run()
                    p.waitUntilExit()
                }
            },
            settings: EmulatorSettings(
                softDeleteDays: softDeleteDays, handles: handles, copyPendingSeconds: copyPending,
                maxShares: try Self.caps(maxShares)))
        var blobAddress: (String, Int)?
        if let blobListen {
            guard let c = blobListen.lastIndex(of: ":"), let p = Int(blobListen[blobListen.index(after: c)...]) else {
                throw ValidationError("--blob-listen takes HOST:PORT")
            }
            blobAddress = (String(blobListen[..<c]), p)
        }
        let app = EmulatorServer.application(
            core: core, host: host, port: port, treatHTTPAsHTTPS: treatHttpAsHttps, log: log
        ) { p in
            FileHandle.standardOutput.write(Data("listening on http://\(host):\(p)\n".utf8))
        }
        guard let (blobHost, blobPort) = blobAddress else {
            try await app.runService()
            return
        }
        let blobApp = EmulatorServer.application(
            core: core, host: blobHost, port: blobPort, treatHTTPAsHTTPS: treatHttpAsHttps, log: log, blob: true
        ) { p in
            FileHandle.standardOutput.write(Data("blob listening on http://\(blobHost):\(p)\n".utf8))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            group.addTask { try await blobApp.runService() }
            try await group.next()
            group.cancelAll()
        }
    }
}
