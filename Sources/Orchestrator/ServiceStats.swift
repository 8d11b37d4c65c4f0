import AzureFiles
import Storage
import SystemSupport

/// What the service said about its limits, kept across runs for the metrics file (issue 19, items 1 and 2):
/// counters of answers that reported a limit (throttling by ingress, egress or operations per second; the
/// open-handle limit; an account refusing a new share as full), per account, and each account's users' shares
/// as last counted (placement, `accounts`, `doctor`), with when. Every command adds what it saw when it ends;
/// `reconcile --metrics-file` reports it without asking Azure anything (a pass without drift sends no request).
public struct ServiceStats: Sendable, Equatable {
    /// Answers per account and limit, since the file was created (stored as `account|kind|which` keys).
    public var counters: [AzureStorage.LimitCounter: Int] = [:]
    /// Account to (users' shares, Unix time counted).
    public var shares: [String: Count] = [:]

    public struct Count: Sendable, Equatable {
        public var count: Int
        public var at: Int
    }

    public init() {}

    /// `<state_dir>/service-stats.json` (root's state directory, never a path a user could redirect).
    public static func path(stateDir: String) -> String { "\(stateDir)/service-stats.json" }

    /// The file's contents; empty when there is none yet or it does not read (a counter file is never worth
    /// failing a command for: the next write starts it again).
    public static func read(stateDir: String) -> ServiceStats {
        guard let bytes = try? Syscalls.readFile(path(stateDir: stateDir)), let json = try? JSONParser.parse(bytes),
            json["version"]?.intValue == 1
        else { return ServiceStats() }
        var s = ServiceStats()
        for (k, v) in json["counters"]?.objectValue ?? [] {
            let p = k.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            guard p.count == 3, let kind = AzureError.ServiceLimit.Kind(rawValue: p[1]), let n = v.intValue, n >= 0
            else { continue }
            s.counters[AzureStorage.LimitCounter(account: p[0], limit: AzureError.ServiceLimit(kind, p[2]))] = n
        }
        for (k, v) in json["shares"]?.objectValue ?? [] {
            if let n = v["count"]?.intValue, let at = v["at"]?.intValue { s.shares[k] = Count(count: n, at: at) }
        }
        return s
    }

    var json: JSON {
        .object([
            ("version", .int(1)),
            (
                "counters",
                .object(
                    counters.map { c, n in ("\(c.account)|\(c.limit.kind.rawValue)|\(c.limit.which)", JSON.int(n)) }
                        .sorted { $0.0 < $1.0 })
            ),
            (
                "shares",
                .object(
                    shares.sorted { $0.key < $1.key }.map {
                        ($0.key, .object([("count", .int($0.value.count)), ("at", .int($0.value.at))]))
                    })
            ),
        ])
    }

    /// Adds `events` and the fresh `counts` to the file, under its lock (read, add, write a temp file, rename).
    /// Nothing is written when there is nothing to add.
    public static func record(
        stateDir: String, events: [AzureStorage.LimitCounter: Int], counts: [String: Int], now: Int
    ) throws {
        guard !events.isEmpty || !counts.isEmpty else { return }
        try Syscalls.mkdirs(stateDir, mode: 0o700)  // as the ledger makes it
        let lock = try FileLock.acquire(path: "\(stateDir)/service-stats.lock", timeout: 5)
        defer { withExtendedLifetime(lock) {} }
        var s = read(stateDir: stateDir)
        for (c, n) in events { s.counters[c, default: 0] += n }
        for (a, n) in counts { s.shares[a] = Count(count: n, at: now) }
        try AtomicFile.write(s.json.serialized(), to: path(stateDir: stateDir), mode: 0o644)
    }
}

extension Node {
    /// Adds what this run's clients saw of the service's limits, and the share counts it made, to
    /// ``ServiceStats`` (the CLI calls this when a command ends, failed or not; a dry run records too: its
    /// reads were real).
    public func recordServiceStats(now: Int) throws {
        guard let az = azureStorage else { return }
        try ServiceStats.record(
            stateDir: config.stateDir, events: az.limitEvents, counts: az.countedShares, now: now)
    }
}
