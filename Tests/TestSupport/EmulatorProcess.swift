import Foundation

/// A running `azfiles-emulator` on a free loopback port, stopped when dropped.
public final class EmulatorProcess: @unchecked Sendable {
    public let process = Process()
    public let port: Int
    /// The Blob listener's port (`blob: true`).
    public let blobPort: Int?
    public let dataDir: String
    public let logPath: String
    public let account: String
    public let key: String

    /// A fixed, valid test key (64 bytes, base64).
    public static let testKey = Data((0..<64).map { UInt8(truncatingIfNeeded: $0 * 7 + 3) }).base64EncodedString()

    /// A key for a further test account `i` (1, 2, ...), different from ``testKey``.
    public static func otherKey(_ i: Int) -> String {
        Data((0..<64).map { UInt8(truncatingIfNeeded: $0 * (7 + 4 * i) + 3 + i) }).base64EncodedString()
    }

    /// `moreAccounts`: further accounts served by the same emulator (name and key).
    public init(
        dir: TempDir, account: String = "pusacct", key: String = EmulatorProcess.testKey,
        moreAccounts: [(String, String)] = [],
        extraArgs: [String] = [], blob: Bool = false
    ) throws {
        self.account = account
        self.key = key
        dataDir = dir.file("emulator-data")
        logPath = dir.file("emulator.log")
        let accounts = dir.write(
            "emulator-accounts", ([(account, key)] + moreAccounts).map { "\($0.0)=\($0.1)\n" }.joined(), mode: 0o600)
        process.executableURL = URL(fileURLWithPath: Binaries.emulator)
        process.arguments =
            ["--listen", "127.0.0.1:0", "--data", dataDir, "--accounts-file", accounts, "--log"]
            + (blob ? ["--blob-listen", "127.0.0.1:0"] : []) + extraArgs
        let out = Pipe()
        process.standardOutput = out
        FileManager.default.createFile(atPath: logPath, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: logPath)
        try process.run()
        var lines: [String] = []
        let deadline = Date().addingTimeInterval(20)
        var line = Data()
        while Date() < deadline && lines.count < (blob ? 2 : 1) {
            let c = out.fileHandleForReading.readData(ofLength: 1)
            if c.isEmpty { break }
            if c == Data("\n".utf8) {
                lines.append(String(decoding: line, as: UTF8.self))
                line = Data()
                continue
            }
            line.append(c)
        }
        func port(after prefix: String) -> Int? {
            lines.first { $0.hasPrefix(prefix) }.flatMap { Int($0.split(separator: ":").last ?? "") }
        }
        guard let p = port(after: "listening on http://127.0.0.1:"),
            !blob || port(after: "blob listening on http://127.0.0.1:") != nil
        else {
            process.terminate()
            throw NSError(
                domain: "emulator", code: 1,
                userInfo: [NSLocalizedDescriptionKey: "emulator did not start: \(lines.joined(separator: " / "))"])
        }
        self.port = p
        blobPort = port(after: "blob listening on http://127.0.0.1:")
    }

    /// The path-style account URL.
    public var endpoint: String { endpoint(of: account) }

    /// The path-style Blob account URL of `account` (the emulator started with `blob: true`).
    public func blobEndpoint(of account: String? = nil) -> String {
        "http://127.0.0.1:\(blobPort ?? 0)/\(account ?? self.account)"
    }

    /// The path-style URL of any account this emulator serves.
    public func endpoint(of account: String) -> String { "http://127.0.0.1:\(port)/\(account)" }

    /// The emulator's log lines as written: `Operation METHOD /path?query -> status[ error-code]`.
    public var operationLog: [String] {
        (try? String(contentsOfFile: logPath, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? []
    }

    /// The request log lines without operation name and error code (`METHOD /path?query -> status`).
    public var requestLog: [String] {
        operationLog.map { line in
            var rest = Substring(line)
            if let space = rest.firstIndex(of: " ") { rest = rest[rest.index(after: space)...] }
            if let arrow = rest.range(of: " -> ", options: .backwards) {
                rest = rest[..<arrow.upperBound] + rest[arrow.upperBound...].prefix(3)
            }
            return String(rest)
        }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
