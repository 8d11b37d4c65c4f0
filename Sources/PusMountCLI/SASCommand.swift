import ArgumentParser
import AzureFiles
import Orchestrator
import SystemSupport

/// `pus-mount sas <user> [--path P] [--permissions rl] [--start T] [--expiry T|DURATION] [--ip A[-B]]`
struct SASCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sas",
        abstract:
            "Print a share (or file) SAS URL for the user's share; HTTPS only; expiry capped by sas.max_expiry_hours.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Option(help: "A file inside the share: the SAS then grants that file only (sr=f).") var path: String?
    @Option(help: "Permission letters: share r c w d l, file r c w d (default: rl for a share, r for a file).")
    var permissions: String?
    @Option(help: "Start time, YYYY-MM-DDTHH:MM:SSZ (default: now minus 5 minutes, for clock skew).") var start: String?
    @Option(help: "Expiry: a time (YYYY-MM-DDTHH:MM:SSZ) or a duration (30m, 8h, 1d); default 1h.") var expiry: String?
    @Option(help: "Allowed client address or range, a.b.c.d or a.b.c.d-e.f.g.h.") var ip: String?
    @Flag(
        help:
            "A SAS for the user's Blob container (sr=c; letters r a c w d l, default rl), or with --path for one blob (sr=b; r a c w d, default r)."
    )
    var blob = false

    func run() throws {
        try CommandRunner.run(global, audit: "sas") { rt in
            let u = try rt.resolve(user)
            let now = Clock.unixSeconds()
            let startTime: Int
            if let start {
                guard let t = SAS.parseTimestamp(start) else {
                    throw PusError(.badInput, "--start \(start) is not YYYY-MM-DDTHH:MM:SSZ")
                }
                startTime = t
            } else {
                startTime = now - 300
            }
            let expiryTime = try Self.parseExpiry(expiry ?? "1h", now: now)
            guard expiryTime > startTime, expiryTime > now else {
                throw PusError(.badInput, "--expiry must be in the future and after --start")
            }
            let cap = rt.config.sasMaxExpiryHours * 3600
            guard expiryTime - now <= cap else {
                throw PusError(
                    .badInput, "--expiry is more than sas.max_expiry_hours (\(rt.config.sasMaxExpiryHours) h) away",
                    hint: "ask for a shorter expiry, or raise sas.max_expiry_hours in the config")
            }
            if let ip, !Self.validIPRange(ip) {
                throw PusError(.badInput, "--ip \(ip) is not a.b.c.d or a.b.c.d-e.f.g.h")
            }
            if blob {
                let g = try rt.node().blob.sas(
                    u.name, name: path, permissions: permissions, start: startTime, expiry: expiryTime, ip: ip)
                rt.auditShare = g.container
                rt.auditAccount = g.account
                rt.emit(
                    human: [g.url],
                    json: [
                        ("user", .string(u.name)), ("container", .string(g.container)),
                        ("account", .string(g.account)), ("url", .string(g.url)), ("token", .string(g.token)),
                        ("permissions", .string(g.permissions)), ("start", .string(SAS.timestamp(startTime))),
                        ("expiry", .string(SAS.timestamp(expiryTime))),
                    ])
                return
            }
            let g = try rt.node().sas(
                u.name, path: path, permissions: permissions, start: startTime, expiry: expiryTime, ip: ip)
            let url = g.url
            let perms = g.permissions
            let share = g.share
            rt.emit(
                human: [url],
                json: [
                    ("user", .string(u.name)), ("share", .string(share)), ("account", .string(g.account)),
                    ("url", .string(url)),
                    ("token", .string(String(url.split(separator: "?", maxSplits: 1).last ?? ""))),
                    ("permissions", .string(perms)),
                    ("start", .string(SAS.timestamp(startTime))), ("expiry", .string(SAS.timestamp(expiryTime))),
                ])
        }
    }

    /// A timestamp, or a duration like `90s`, `30m`, `8h`, `1d` from `now`.
    static func parseExpiry(_ text: String, now: Int) throws -> Int {
        if let t = SAS.parseTimestamp(text) { return t }
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        guard let unit = text.last, let mult = units[unit], let n = Int(text.dropLast()), n > 0 else {
            throw PusError(
                .badInput, "--expiry \(text) is neither YYYY-MM-DDTHH:MM:SSZ nor a duration like 30m, 8h, 1d")
        }
        // Checked arithmetic: a duration of 9223372036854775807s must be refused, not trap.
        let (seconds, o1) = n.multipliedReportingOverflow(by: mult)
        let (at, o2) = now.addingReportingOverflow(seconds)
        guard !o1, !o2, seconds <= 100 * 365 * 86400 else {
            throw PusError(
                .badInput, "--expiry \(text) is too far away",
                hint: "sas.max_expiry_hours caps it anyway; ask for hours or days")
        }
        return at
    }

    static func validIPRange(_ text: String) -> Bool {
        let ends = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(ends.count) else { return false }
        return ends.allSatisfy { e in
            let parts = e.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
        }
    }
}
