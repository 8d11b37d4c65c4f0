import AzureFiles
import Orchestrator
import Storage
import SystemSupport

/// How reconcile and bootstrap reports look: one line per action (`+` added, `~` changed, `-` removed, `!`
/// reported, deferred or failed) and a summary; or one JSON document (`"version": 1`).
enum ReconcileRendering {
    static func lines(_ r: ReconcileReport, command: String, exitStatus: Int32) -> [String] {
        var out: [String] = []
        if let b = r.rebuild {
            out.append(
                "~ ledger: \(b.movedTo.map { "moved the unusable ledger to \($0); " } ?? "")rebuilt \(b.ledger.entries.count) user(s) and \(b.ledger.volumes.count) volume(s) from the mount table and \(b.knownFrom ?? "no earlier copy"), \(b.leasesKept) lease(s) kept\(r.dryRun ? " (dry run)" : "")"
            )
            for s in b.skipped { out.append("! \(s.mountpoint): not taken into the ledger: \(s.why)") }
        }
        for a in r.actions {
            let f = a.finding
            let op: String
            var tail = ""
            switch a.result {
            case .done: op = String(f.op.rawValue)
            case .planned:
                op = String(f.op.rawValue)
                tail = " (dry run)"
            case .deferred:
                op = "!"
                tail = " (deferred)"
            case .reported: op = "!"
            case .busy:
                op = "!"
                tail = " (skipped: another pus-mount holds the lock)"
            case .failed:
                op = "!"
                tail = " FAILED: " + (a.error.map { ErrorMapping.pusError($0).oneLine } ?? "unknown error")
            }
            out.append("\(op) \(f.subject): \(f.what) [\(f.kind.rawValue)]\(tail)")
        }
        let drift = r.drift.filter { $0.1 > 0 }.map { "\($0.0.rawValue) \($0.1)" }
        let done = r.actions.filter { $0.result == .done }.count
        let failed = r.actions.filter { $0.result == .failed }.count
        var summary = "\(command): \(r.users) user(s), \(r.mounts) mount(s), \(r.liveLeases) live lease(s)"
        summary += drift.isEmpty ? "; no drift" : "; drift: " + drift.joined(separator: ", ")
        if r.dryRun { summary += "; dry run, nothing was changed" } else if done > 0 { summary += "; \(done) repaired" }
        if failed > 0 { summary += "; \(failed) failed" }
        if !r.busy.isEmpty { summary += "; \(r.busy.count) busy" }
        summary += r.converged ? "; converged" : "; not converged (exit \(exitStatus))"
        out.append(summary)
        return out
    }

    static func json(_ r: ReconcileReport) -> [(String, JSON)] {
        var fields: [(String, JSON)] = [
            ("drift", .object(r.drift.map { ($0.0.rawValue, .int($0.1)) })),
            (
                "actions",
                .array(
                    r.actions.map { a in
                        var o: [(String, JSON)] = [
                            ("kind", .string(a.finding.kind.rawValue)), ("subject", .string(a.finding.subject)),
                            ("op", .string(String(a.finding.op.rawValue))), ("what", .string(a.finding.what)),
                            ("result", .string(a.result.rawValue)),
                        ]
                        o.append(("error", a.error.map { .string(ErrorMapping.pusError($0).oneLine) } ?? .null))
                        return .object(o)
                    })
            ),
            ("converged", .bool(r.converged)),
            ("busy", .array(r.busy.map { .string($0) })),
            ("users", .int(r.users)), ("mounts", .int(r.mounts)), ("leases", .int(r.leases)),
            ("live_leases", .int(r.liveLeases)),
            ("dry_run", .bool(r.dryRun)), ("seconds", .double((r.seconds * 1000).rounded() / 1000)),
        ]
        if let b = r.rebuild {
            fields.append(
                (
                    "rebuild",
                    .object([
                        ("moved_to", .string(b.movedTo)), ("users", .int(b.ledger.entries.count)),
                        ("volumes", .int(b.ledger.volumes.count)), ("rest_requests", .int(b.restRequests)),
                        ("known_from", .string(b.knownFrom)), ("leases_kept", .int(b.leasesKept)),
                        ("leases_dropped", .int(b.leasesDropped)),
                        ("recovered", .array(b.recovered.map { .string($0) })),
                        (
                            "skipped",
                            .array(
                                b.skipped.map {
                                    .object([("mountpoint", .string($0.mountpoint)), ("why", .string($0.why))])
                                })
                        ),
                    ])
                ))
        } else {
            fields.append(("rebuild", .null))
        }
        return fields
    }

    /// 0 converged, 75 when only busy users or temporary failures stand in the way, else 1. A dry run exits 0
    /// when a real pass would converge: repairs it plans are what reconcile is for; only what it would leave
    /// for a person (reported drift) makes it 1.
    static func exitStatus(_ r: ReconcileReport) -> Int32 {
        if r.converged { return 0 }
        if r.dryRun && r.busy.isEmpty && r.actions.allSatisfy({ $0.result == .planned || $0.result == .deferred }) {
            return 0
        }
        return r.retryable({
            ErrorMapping.pusError($0).kind == .temporary || ErrorMapping.pusError($0).kind == .unavailable
        }) ? 75 : 1
    }
}

/// A Prometheus textfile for node_exporter's textfile collector, written atomically (temp file + rename, 0644).
enum ReconcileMetrics {
    static func write(
        _ r: ReconcileReport, to path: String, command: String, now: Int, exitStatus: Int32,
        stats: ServiceStats = ServiceStats(), accounts: [Config.Account] = []
    ) throws {
        var lastSuccess = r.converged ? now : previousSuccess(path) ?? 0
        if lastSuccess < 0 { lastSuccess = 0 }
        var t = ""
        func metric(_ name: String, _ help: String, _ type: String = "gauge", _ samples: [(String, String)]) {
            t += block(name, help, type, samples)
        }
        metric(
            "pus_mount_reconcile_drift", "Drift found by the last \(command) pass, by kind.", "gauge",
            r.drift.map { ("{kind=\"\($0.0.rawValue)\"}", String($0.1)) })
        metric(
            "pus_mount_reconcile_repairs", "Findings of the last pass by result.", "gauge",
            ["done", "deferred", "reported", "failed", "busy"].map { res in
                ("{result=\"\(res)\"}", String(r.actions.filter { $0.result.rawValue == res }.count))
            })
        metric(
            "pus_mount_mounts", "Mounts pus-mount made that are in place (users and volumes).", "gauge",
            [("", String(r.mounts))])
        metric("pus_mount_users", "Users in the ledger.", "gauge", [("", String(r.users))])
        metric("pus_mount_leases", "Session leases in the ledger after the pass.", "gauge", [("", String(r.leases))])
        metric(
            "pus_mount_live_leases", "Session leases whose holder still runs.", "gauge", [("", String(r.liveLeases))])
        metric(
            "pus_mount_reconcile_busy_users", "Users skipped because another pus-mount held their lock.", "gauge",
            [("", String(r.busy.count))])
        metric(
            "pus_mount_reconcile_converged", "1 when the last pass converged.", "gauge", [("", r.converged ? "1" : "0")]
        )
        metric("pus_mount_reconcile_exit_status", "Exit status of the last pass.", "gauge", [("", String(exitStatus))])
        metric(
            "pus_mount_reconcile_duration_seconds", "Wall time of the last pass.", "gauge",
            [("", String((r.seconds * 1e6).rounded() / 1e6))])
        metric(
            "pus_mount_reconcile_last_run_timestamp_seconds", "Unix time of the last pass.", "gauge",
            [("", String(now))])
        metric(
            "pus_mount_reconcile_last_success_timestamp_seconds", "Unix time of the last pass that converged.", "gauge",
            [("", String(lastSuccess))])
        t += serviceMetrics(stats, accounts: accounts)
        // Root writes here on an administrator's word: not through a directory a user could redirect.
        let real = try FilePolicy.checkRootControlledPath(path, kind: "metrics file")
        try AtomicFile.write(Array(Redaction.redact(t).utf8), to: real, mode: 0o644)
    }

    /// The service's limits as this node met them (``ServiceStats``: counters across runs) and each account's
    /// users' shares against its cap, as last counted: all from the state directory, no request to Azure.
    static func serviceMetrics(_ s: ServiceStats, accounts: [Config.Account]) -> String {
        var t = ""
        func metric(_ name: String, _ help: String, _ type: String, _ samples: [(String, String)]) {
            t += block(name, help, type, samples)
        }
        func label(_ v: String) -> String {  // Prometheus label value escaping
            var o = ""
            for c in v {
                if c == "\n" {
                    o += "\\n"
                    continue
                }
                if c == "\\" || c == "\"" { o.append("\\") }
                o.append(c)
            }
            return o
        }
        func samples(_ kind: AzureError.ServiceLimit.Kind, withLimit: Bool) -> [(String, String)] {
            s.counters.filter { $0.key.limit.kind == kind }.map { c, n in
                let l = withLimit ? ",limit=\"\(label(c.limit.which))\"" : ""
                return ("{account=\"\(label(c.account))\"\(l)}", String(n))
            }.sorted { $0.0 < $1.0 }
        }
        metric(
            "pus_mount_service_throttled_total",
            "Answers in which the service throttled an account (503 ServerBusy), by the limit it named.", "counter",
            samples(.throttled, withLimit: true))
        metric(
            "pus_mount_service_handle_limit_total", "Answers 400 HandleLimitExceeded (a share's open-handle limit).",
            "counter", samples(.handleLimit, withLimit: false))
        metric(
            "pus_mount_service_account_full_total",
            "Create Share refused with TotalSharesCountExceedsAccountLimit (the account is full).", "counter",
            samples(.accountFull, withLimit: false))
        let counted = accounts.compactMap { a in s.shares[a.name].map { (a, $0) } }
        metric(
            "pus_mount_account_shares", "Users' shares in the account when last counted (placement, accounts, doctor).",
            "gauge", counted.map { ("{account=\"\(label($0.0.name))\"}", String($0.1.count)) })
        metric(
            "pus_mount_account_shares_counted_timestamp_seconds", "Unix time of that count.", "gauge",
            counted.map { ("{account=\"\(label($0.0.name))\"}", String($0.1.at)) })
        metric(
            "pus_mount_account_max_shares", "The account's max_shares (accounts with a cap).", "gauge",
            accounts.compactMap { a in a.maxShares.map { ("{account=\"\(label(a.name))\"}", String($0)) } })
        metric(
            "pus_mount_account_takes_new_users", "1 unless the account is draining, weight 0 or full as last counted.",
            "gauge",
            accounts.map { a in
                let takes = AzureStorage.AccountUsage.takesNewUsers(
                    weight: a.weight, draining: a.draining, maxShares: a.maxShares, shares: s.shares[a.name]?.count)
                return ("{account=\"\(label(a.name))\"}", takes ? "1" : "0")
            })
        return t
    }

    /// One metric: its HELP and TYPE lines and its samples; nothing when there is no sample.
    static func block(_ name: String, _ help: String, _ type: String, _ samples: [(String, String)]) -> String {
        guard !samples.isEmpty else { return "" }
        var t = "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        for (labels, value) in samples { t += "\(name)\(labels) \(value)\n" }
        return t
    }

    /// The last success time recorded in an earlier file, kept when this pass did not converge.
    static func previousSuccess(_ path: String) -> Int? {
        guard let bytes = try? Syscalls.readFile(path) else { return nil }
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        where line.hasPrefix("pus_mount_reconcile_last_success_timestamp_seconds ") {
            return Int(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}
