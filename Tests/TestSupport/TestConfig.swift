import Foundation

/// Writes a pus-mount config (and key file) into a temp dir for the CLI under test.
public struct TestConfig {
    public let path: String
    public let keyFile: String
    public let dir: TempDir

    /// An azure-backend config pointing at `emulator`, with state, credentials and mounts under `dir`.
    public init(
        dir: TempDir, emulator: EmulatorProcess?, backend: String = "azure", key: String? = nil,
        extra: String = "", keyMode: mode_t = 0o600, endpoint: String? = nil,
        retry: String = "max_attempts = 4\ninitial_delay_ms = 50\ntotal_seconds = 10", mount: String = ""
    ) {
        self.dir = dir
        keyFile = dir.write("account.key", (key ?? emulator?.key ?? EmulatorProcess.testKey) + "\n", mode: keyMode)
        var text = "backend = \"\(backend)\"\n"
        if let emulator {
            text += """
                [[azure.accounts]]
                name = "\(emulator.account)"
                key_file = "\(keyFile)"
                file_endpoint = "\(endpoint ?? emulator.endpoint)"
                smb_host = "127.0.0.1"
                \(emulator.blobPort != nil ? "blob_endpoint = \"\(emulator.blobEndpoint())\"" : "")

                """
        }
        text += """
            [local]
            root = "\(dir.file("local"))"
            [mount]
            root = "\(dir.file("mnt"))"
            \(mount)
            [paths]
            state_dir = "\(dir.file("state"))"
            credentials_dir = "\(dir.file("creds"))"
            audit_log = "\(dir.file("audit.jsonl"))"
            [retry]
            \(retry)

            """
        text += extra
        path = dir.write("pus-mount.toml", text, mode: 0o644)
    }

    /// Wraps a config file already written (by a test that edits one).
    public init(existing path: String, dir: TempDir) {
        self.path = path
        self.dir = dir
        keyFile = dir.file("account.key")
    }

    /// Runs pus-mount with this config.
    @discardableResult
    public func run(_ args: [String], env: [String: String] = [:]) throws -> RunResult {
        try Run.run(Binaries.pusMount, ["--config", path] + args, env: env)
    }
}

/// Test users created by Tests/run.sh (uids 42001...). `pusu01` ... `pusu50`, and `pusu-low` below min_uid.
public enum TestUsers {
    public static func name(_ i: Int) -> String { "pusu" + (i < 10 ? "0\(i)" : "\(i)") }
    public static let lowUID = "pusulow"
}
