import ArgumentParser
import Glibc
import SystemSupport

extension PusMountCommand {
    /// The entry point: ArgumentParser's own errors (usage, validation, help) become a JSON document on stdout
    /// when `--json` was given, like every other error; otherwise ArgumentParser prints them as usual.
    public static func runFromCommandLine() -> Never {
        // Before anything else: no core dumps (the account key is in memory), a fixed umask.
        ProcessHygiene.apply()
        let args = Array(CommandLine.arguments.dropFirst())
        do {
            var command = try hotPath(args) ?? parseAsRoot(args)
            try command.run()
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error).rawValue
            let wantsJSON = args.prefix(while: { $0 != "--" }).contains("--json")
            if wantsJSON && code != 0 && !(error is ExitCode) {
                let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "usage error"
                Output.stdout(
                    JSON.document([
                        (
                            "error",
                            .object([
                                ("code", .string("usage")), ("message", .string(message)),
                                ("exit_status", .int(Int(code))),
                            ])
                        )
                    ]).text)
                Glibc.exit(code)
            }
            exit(withError: error)
        }
    }

    /// attach and detach, which session start and end wait for, go straight to their own command type: the
    /// same ArgumentParser definitions, minus the root's work. Their configurations name `pus-mount` as
    /// `_superCommandName` (ArgumentParser's pseudo-command setting), which skips the completion-script check,
    /// two extra reflected parsers that were 60% of the parse; nested under the root it changes nothing. Global
    /// options written before the command name move after it (every command takes them through
    /// `GlobalOptions`). Anything the subcommand does not accept as a clean parse (help, errors) returns nil and
    /// takes the root path, so messages and exit codes stay ArgumentParser's.
    static func hotPath(_ args: [String]) -> (any ParsableCommand)? {
        var globals: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--json" || a == "--verbose" || a.hasPrefix("--config=") {
                globals.append(a)
                i += 1
            } else if a == "--config", i + 1 < args.count {
                globals += [a, args[i + 1]]
                i += 2
            } else {
                break
            }
        }
        guard i < args.count else { return nil }
        let rest = Array(args[(i + 1)...])
        let separator = rest.firstIndex(of: "--") ?? rest.endIndex
        let routed = Array(rest[..<separator]) + globals + Array(rest[separator...])
        switch args[i] {
        case "attach": return try? AttachCommand.parse(routed)
        case "detach": return try? DetachCommand.parse(routed)
        default: return nil
        }
    }
}
