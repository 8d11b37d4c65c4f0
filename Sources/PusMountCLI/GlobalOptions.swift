import ArgumentParser
import Glibc
import Orchestrator

/// Options every command accepts: `pus-mount [--config PATH] [--json] [--verbose] <command> ...`.
public struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Configuration file (default: $PUS_MOUNT_CONFIG, else /etc/pus-mount/pus-mount.toml).", valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout (errors too).")
    var json = false

    @Flag(name: .long, help: "Log every REST request, retry and step to stderr (secrets redacted).")
    var verbose = false

    @Flag(
        name: .customLong("if-configured"),
        help:
            "For the PAM module, units and cron: when the configuration file is missing, do nothing, log that pus-mount is not configured (syslog and stderr) and exit 0, instead of running on the embedded defaults."
    )
    var ifConfigured = false

    public init() {}

    /// The default path, used when neither --config nor $PUS_MOUNT_CONFIG is given.
    static let defaultConfigPath = "/etc/pus-mount/pus-mount.toml"

    /// Loads the config. With no file at the default path (and none asked for), the embedded defaults apply:
    /// the local backend, so `pus-mount attach <user>` works on a fresh node; it says so once on stderr (not
    /// under `--json`), so nobody mistakes local disk for Azure Files.
    func loadConfig() throws -> Orchestrator.Config {
        let path = configPath
        if config == nil && getenv("PUS_MOUNT_CONFIG") == nil && path == Self.defaultConfigPath && !configFileExists {
            let c = Orchestrator.Config()
            if !json {
                Output.stderr(
                    "pus-mount: notice: no \(path); running on the embedded defaults (backend = \"local\", a directory per user under \(c.localRoot))"
                )
            }
            return c
        }
        return try ConfigLoader.load(path: path)
    }

    /// With `--if-configured`: the line to log when the configuration file is missing (nil when it exists, or
    /// without the flag). Only a missing file counts; one that exists but cannot be read or parsed stays an
    /// error (78), so a broken configuration is never mistaken for none.
    var notConfiguredMessage: String? {
        guard ifConfigured else { return nil }
        let path = configPath
        guard access(path, F_OK) != 0 && errno == ENOENT else { return nil }
        return "pus-mount is not configured: \(path) is missing; nothing was done (see pus-mount(8), INSTALLATION)"
    }

    /// Whether a configuration file exists at ``configPath`` (what decides between it and the embedded
    /// defaults, and what --if-configured and doctor ask).
    var configFileExists: Bool { access(configPath, F_OK) == 0 }

    /// The config path after the environment fallback.
    var configPath: String {
        if let config { return config }
        if let env = getenv("PUS_MOUNT_CONFIG") { return String(cString: env) }
        return Self.defaultConfigPath
    }
}
