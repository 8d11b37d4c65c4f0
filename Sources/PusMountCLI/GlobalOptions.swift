import ArgumentParser
import Glibc
import Orchestrator

/// Options every command accepts: `pus-mount [--config PATH] [--json] [--verbose] <command> ...`.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file (default: $PUS_MOUNT_CONFIG, else /etc/pus-mount/pus-mount.toml).", valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout (errors too).")
    var json = false

    @Flag(name: .long, help: "Log every REST request, retry and step to stderr (secrets redacted).")
    var verbose = false

    public init() {}

    /// The default path, used when neither --config nor $PUS_MOUNT_CONFIG is given.
    static let defaultConfigPath = "/etc/pus-mount/pus-mount.toml"

    /// Loads the config. With no file at the default path (and none asked for), the embedded defaults apply:
    /// the local backend, so `pus-mount attach <user>` works on a fresh node; it says so once on stderr (not
    /// under `--json`), so nobody mistakes local disk for Azure Files.
    func loadConfig() throws -> Orchestrator.Config {
        let path = configPath
        if config == nil && getenv("PUS_MOUNT_CONFIG") == nil && path == Self.defaultConfigPath && access(path, F_OK) != 0 {
            let c = Orchestrator.Config()
            if !json {
                Output.stderr("pus-mount: notice: no \(path); running on the embedded defaults (backend = \"local\", a directory per user under \(c.localRoot))")
            }
            return c
        }
        return try ConfigLoader.load(path: path)
    }

    /// The config path after the environment fallback.
    var configPath: String {
        if let config { return config }
        if let env = getenv("PUS_MOUNT_CONFIG") { return String(cString: env) }
        return Self.defaultConfigPath
    }
}
