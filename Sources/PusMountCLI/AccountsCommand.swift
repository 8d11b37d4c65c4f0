import ArgumentParser
import Orchestrator
import Storage
import SystemSupport

/// `pus-mount accounts`: each configured account's users' shares against its `max_shares`, and whether
/// placement sends new users there (weight, draining, room).
struct AccountsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Show each account's users' shares against its cap, and whether it takes new users.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        try CommandRunner.run(global) { rt in
            let usage = try rt.node().accountUsage()
            let rows =
                [["ACCOUNT", "WEIGHT", "SHARES", "MAX", "NEW USERS"]]
                + usage.map { u in
                    let why =
                        u.error != nil
                        ? "unknown (\(u.error!))"
                        : u.account.draining
                            ? "no (draining)"
                            : u.account.weight == 0 ? "no (weight 0)" : u.full ? "no (full)" : "yes"
                    return [
                        u.account.name, String(u.account.weight), u.shares.map(String.init) ?? "?",
                        u.account.maxShares.map(String.init) ?? "-", why,
                    ]
                }
            rt.emit(
                human: Output.table(rows),
                json: [
                    (
                        "accounts",
                        .array(
                            usage.map { u in
                                .object([
                                    ("name", .string(u.account.name)), ("weight", .int(u.account.weight)),
                                    ("draining", .bool(u.account.draining)),
                                    ("max_shares", u.account.maxShares.map { .int($0) } ?? .null),
                                    ("shares", u.shares.map { .int($0) } ?? .null), ("full", .bool(u.full)),
                                    ("takes_new_users", .bool(u.error == nil && u.takesNewUsers)),
                                    ("error", .string(u.error)),
                                ])
                            })
                    )
                ])
            let failed = usage.filter { $0.error != nil }.map(\.account.name)
            if !failed.isEmpty {
                throw PusError(.other, "could not count the shares of \(failed.joined(separator: ", "))")
            }
        }
    }
}
