import SystemSupport
import ArgumentParser
import Glibc

extension PusMountCommand {
    /// The entry point: ArgumentParser's own errors (usage, validation, help) become a JSON document on stdout
    /// when `--json` was given, like every other error; otherwise ArgumentParser prints them as usual.
    public static func runFromCommandLine() -> Never {
        // Before anything else: no core dumps (the account key is in memory), a fixed umask.
        ProcessHygiene.apply()
        let args = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try parseAsRoot(args)
            try command.run()
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error).rawValue
            let wantsJSON = args.prefix(while: { $0 != "--" }).contains("--json")
            if wantsJSON && code != 0 && !(error is ExitCode) {
                let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "usage error"
                Output.stdout(JSON.object([("error", .object([("code", .string("usage")), ("message", .string(message)),
                                                                   ("exit_status", .int(Int(code)))]))]).text)
                Glibc.exit(code)
            }
            exit(withError: error)
        }
    }
}
