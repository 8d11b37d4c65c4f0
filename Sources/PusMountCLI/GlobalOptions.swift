import ArgumentParser
import Glibc

/// Options every command accepts: `pus-mount [--config PATH] [--json] [--verbose] <command> ...`.
public struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Configuration file (default: $PUS_MOUNT_CONFIG, else /etc/pus-mount/pus-mount.toml).", valueName: "path"))
    var config: String?

    @Flag(name: .long, help: "Print one JSON document on stdout (errors too).")
    var json = false

    @Flag(name: .long, help: "Log every REST request, retry and step to stderr (secrets redacted).")
    var verbose = false

    public init() {}

    /// The config path after the environment fallback.
    var configPath: String {
        if let config { return config }
        if let env = getenv("PUS_MOUNT_CONFIG") { return String(cString: env) }
        return "/etc/pus-mount/pus-mount.toml"
    }
}
