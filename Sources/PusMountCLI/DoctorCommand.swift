import ArgumentParser
import Glibc
import Orchestrator
import SystemSupport

/// `pus-mount doctor [--json]`: preflight checks, one line each (ok / warn / fail, with the fix); exit 0 when
/// nothing failed, 1 otherwise.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract:
            "Preflight: config and key files, mount.cifs, kernel cifs, DNS and TCP 445, authenticated HTTPS, clock skew, mount namespace.",
        discussion:
            "Exit 0 when no check failed (warnings allowed), 1 otherwise; 78 when the configuration itself cannot be read."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        var checks: [DoctorCheck] = []
        // A configuration that cannot be read is exit 78 here as in every other command (its error line, or
        // the JSON error, says what is wrong).
        try CommandRunner.run(global) { rt in
            let configured = global.configFileExists || global.config != nil
            let source =
                configured
                ? "\(global.configPath) (backend \(rt.config.backend.rawValue))"
                : "embedded defaults (backend local, no \(global.configPath))"
            checks = rt.node().doctor(configSource: source, configured: configured)
            let failed = checks.contains { $0.status == .fail }
            rt.emit(
                human: checks.map(Self.line) + [
                    failed
                        ? "doctor: \(checks.filter { $0.status == .fail }.count) check(s) failed"
                        : "doctor: no check failed"
                ],
                json: [
                    ("ok", .bool(!failed)),
                    (
                        "checks",
                        .array(
                            checks.map { c in
                                .object([
                                    ("name", .string(c.name)), ("status", .string(c.status.rawValue)),
                                    ("detail", .string(c.detail)),
                                    ("fix", c.fix.map(JSON.string) ?? .null),
                                ])
                            })
                    ),
                ])
        }
        if checks.contains(where: { $0.status == .fail }) { throw ExitCode(1) }
    }

    static func line(_ c: DoctorCheck) -> String {
        let tag = c.status == .ok ? "ok  " : c.status.rawValue
        return "\(tag) \(c.name): \(c.detail)" + (c.fix.map { "; fix: \($0)" } ?? "")
    }
}
