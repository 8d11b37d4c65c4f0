import ArgumentParser
import AzureFiles
import Glibc
import Ledger
import Logging
import Orchestrator
import Storage
import SystemSupport

/// What one command invocation works with: the options, the checked config, a logger, the REST side
/// (built on first use) and the output channel.
final class Runtime {
    let global: GlobalOptions
    let config: Config
    let logger: Logger
    /// The node this command works through (Runtime+Node.swift), made on first use.
    var cachedNode: Node?
    /// Mutating REST requests held back by `--dry-run`.
    var plannedRequests: [HTTPRequest] = []
    /// REST operations a dry run's plan would send when performed (the plan's steps), beside the requests
    /// recorded while planning.
    var plannedOperations: [String] = []
    var dryRun = false

    init(global: GlobalOptions, config: Config) {
        self.global = global
        self.config = config
        let level: Logger.Level = global.verbose ? .debug : .warning
        logger = Logger(label: "pus-mount") { _ in StderrLogHandler(logLevel: level) }
    }

    /// REST requests sent so far.
    var requestsSent: Int { cachedNode?.requestsSent ?? 0 }

    private var statsRecorded = false
    /// Adds what this run saw of the service's limits, and its share counts, to the state directory's
    /// ServiceStats file (once per run; a failure to write is logged, never the command's failure).
    func recordServiceStats() {
        guard !statsRecorded, let node = cachedNode else { return }
        statsRecorded = true
        do { try node.recordServiceStats(now: Clock.unixSeconds()) } catch {
            logger.warning("could not record the service's limit counters: \(error)")
        }
    }

    /// The command name recorded in the audit log (mutating commands, sas, get), and what the command worked
    /// on, filled in as it learns it.
    var auditCommand: String?
    var auditUser: String?
    var auditShare: String?
    var auditAccount: String?
    /// Where the command came from, when a caller says (the PAM module: service, tty, remote host).
    var auditOrigin: [(String, JSON)] = []
    let started = Clock.monotonicSeconds()

    /// The user named on the command line, through the user policy (and into the audit record).
    func resolve(_ name: String) throws -> ResolvedUser {
        auditUser = name
        let u = try UserPolicy.resolve(name, config: config)
        auditUser = u.name
        return u
    }

    /// The audit line's subject and cost: user, share, account, duration and the service's request ids.
    func auditSubject() -> [(String, JSON)] {
        [
            ("user", auditUser.map(JSON.string) ?? .null), ("share", auditShare.map(JSON.string) ?? .null),
            ("account", auditAccount.map(JSON.string) ?? .null),
            ("duration_ms", .int(Int((Clock.monotonicSeconds() - started) * 1000))),
            ("request_ids", .array((cachedNode?.requestIDs ?? []).map(JSON.string))),
        ]
            + (auditOrigin.isEmpty ? [] : [("pam", .object(auditOrigin))])
    }

    /// Appends the command's audit line (not for a dry run, which changes nothing).
    func audit(outcome: String, _ fields: [(String, JSON)]) {
        guard let cmd = auditCommand, !dryRun else { return }
        let subject = auditSubject()
        // The result's own fields, minus what the subject says and what must not or need not be kept: a SAS
        // URL or token (its signature is a credential), listings and plans.
        let dropped: Set<String> = Set(subject.map(\.0)).union([
            "url", "token", "entries", "blobs", "prefixes", "plan", "planned_requests", "actions",
        ])
        AuditLog.record(
            path: config.auditLog, command: cmd, outcome: outcome,
            fields: subject + fields.filter { !dropped.contains($0.0) }
        ) {
            [logger] in logger.warning("\($0)")
        }
    }

    /// Prints the result: human lines, or one JSON document with `--json`. Audited commands also append it
    /// to the audit log.
    func emit(human: [String], json: [(String, JSON)]) {
        audit(outcome: "ok", json)
        var fields = json
        if dryRun && !fields.contains(where: { $0.0 == "dry_run" }) {
            fields.append(("dry_run", .bool(true)))
            fields.append(("planned_requests", .array(plannedRequests.map(Self.describe))))
            fields.append(("planned_operations", .array(plannedOperations.map(JSON.string))))
            fields.append(("requests_sent", .int(requestsSent)))
        }
        if global.json {
            Output.stdout(JSON.document(fields).text)
            return
        }
        if dryRun && (Providers.usesAzureAccounts(config.backend) || !plannedRequests.isEmpty) {
            // Reads are sent to plan (locating a share, checking keys); what would change anything is not.
            Output.stdout("dry run: nothing was changed. REST requests sent to plan it (reads only): \(requestsSent).")
            Output.stdout("Planned REST calls, not sent\(plannedRequests.isEmpty ? "" : " (unsigned)"):")
            if plannedRequests.isEmpty && plannedOperations.isEmpty { Output.stdout("  (none)") }
            for op in plannedOperations { Output.stdout("  \(op) (a step of the plan)") }
            for r in plannedRequests {
                Output.stdout("  \(r.method) \(Redaction.redact(r.url))")
                for (k, v) in r.headers { Output.stdout("      \(k): \(v)") }
                if r.body.count > 0 { Output.stdout("      (body: \(r.body.count) bytes)") }
            }
        }
        for line in human { Output.stdout(line) }
    }

    static func describe(_ r: HTTPRequest) -> JSON {
        .object([
            ("method", .string(r.method)), ("url", .string(Redaction.redact(r.url))),
            ("headers", .object(r.headers.map { ($0.0, .string($0.1)) })), ("body_bytes", .int(r.body.count)),
        ])
    }
}

/// Runs a command body with the shared error handling: config loading, root check, error mapping,
/// one line on stderr (or a JSON error on stdout), and the documented exit status.
enum CommandRunner {
    static func run(
        _ global: GlobalOptions, requireRoot: Bool = true, dryRun: Bool = false, audit: String? = nil,
        _ body: (Runtime) throws -> Void
    ) throws {
        var runtime: Runtime?
        defer { runtime?.recordServiceStats() }
        do {
            if requireRoot && geteuid() != 0 {
                throw PusError(
                    .permission, "pus-mount must run as root (it reads account keys and mounts file systems)",
                    hint: "run it through sudo, a systemd unit or the session launcher's privileged hook")
            }
            if let message = global.notConfiguredMessage {
                // Logins and timers on a node that has the package but no configuration yet: no storage, no
                // silent fallback to local disk, one line where the administrator looks.
                Syslog.log(
                    message, facility: audit == "attach" || audit == "detach" ? .authpriv : .daemon, level: .notice)
                if global.json {
                    Output.stdout(JSON.document([("configured", .bool(false)), ("message", .string(message))]).text)
                } else {
                    Output.stderr("pus-mount: notice: \(message)")
                }
                return
            }
            let config = try global.loadConfig()
            let rt = Runtime(global: global, config: config)
            runtime = rt
            rt.dryRun = dryRun
            rt.auditCommand = audit
            try body(rt)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let e = ErrorMapping.pusError(error)
            runtime?.audit(
                outcome: "failed",
                [
                    ("exit_status", .int(Int(e.kind.exitCode))), ("error_code", .string(e.kind.code)),
                    ("error", .string(Redaction.redact(e.message))),
                ])
            if global.json {
                var fields: [(String, JSON)] = [
                    ("code", .string(e.kind.code)), ("message", .string(Redaction.redact(e.message))),
                    ("exit_status", .int(Int(e.kind.exitCode))),
                ]
                if let h = e.hint { fields.append(("hint", .string(h))) }
                Output.stdout(JSON.document([("error", .object(fields))]).text)
            } else {
                // One line: what was wrong, then what to do.
                Output.stderr(
                    "pus-mount: error: \(Redaction.redact(e.message).escapingControls())"
                        + (e.hint.map { "; hint: \($0.escapingControls())" } ?? ""))
            }
            throw ExitCode(e.kind.exitCode)
        }
    }
}
