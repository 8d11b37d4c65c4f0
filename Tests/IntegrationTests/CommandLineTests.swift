import Testing

@testable import PusMountCLI

/// The attach/detach fast path (PusMountCommand.hotPath) parses exactly what the root parser parses, and
/// hands everything else (help, errors, other commands) back to it.
@Suite struct CommandLineTests {
    static let accepted: [[String]] = [
        ["attach", "alice"],
        ["--config", "/etc/x.toml", "attach", "alice", "--session", "s1", "--pid", "42"],
        ["--json", "--verbose", "attach", "--dry-run", "alice"],
        ["--config=/c.toml", "attach", "--session", "pam-sshd-7", "--pid", "7", "--", "alice"],
        ["--json", "detach", "--all", "--", "-odd"],
        ["detach", "alice", "--session", "s1", "--config", "/c.toml"],
    ]

    @Test(arguments: accepted)
    func theFastPathParsesWhatTheRootParses(_ args: [String]) throws {
        let fast = try #require(PusMountCommand.hotPath(args), "fast path declined \(args)")
        let root = try PusMountCommand.parseAsRoot(args)
        #expect(String(describing: fast) == String(describing: root), "\(args)")
        #expect(type(of: fast) == type(of: root))
        // The description lists every parsed field: DetachCommand(_global: GlobalOptions(_config: nil, _json: true, ...), _user: ...)
        #expect(String(describing: fast).contains("_global: GlobalOptions("))
    }

    @Test(arguments: [
        ["attach"], ["attach", "--help"], ["--json", "attach"], ["detach", "--bogus", "x"], ["status", "alice"],
        ["--config"], [], ["--json"], ["version"], ["attach", "a", "b"], ["help", "attach"],
    ])
    func everythingElseTakesTheRootPath(_ args: [String]) {
        #expect(PusMountCommand.hotPath(args) == nil, "\(args)")
    }

    @Test func globalOptionsBeforeTheCommandReachIt() throws {
        let c = try #require(
            PusMountCommand.hotPath(["--config", "/c.toml", "--json", "attach", "--", "bob"]) as? AttachCommand)
        #expect(
            c.global.config == "/c.toml" && c.global.json && !c.global.verbose && c.user == "bob"
                && c.session == "default")
    }
}
