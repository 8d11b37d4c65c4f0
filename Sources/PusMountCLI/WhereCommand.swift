import ArgumentParser
import Orchestrator
import SystemSupport

/// `pus-mount where <user>`: the clients holding open handles on the user's share (List Handles), this node
/// marked.
struct WhereCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "where",
        abstract: "List the clients (nodes) that hold open handles on the user's share, from the service.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Login name.") var user: String
    @Flag(help: "Do not look up names for the clients' addresses (reverse DNS).") var noResolve = false

    func run() throws {
        try CommandRunner.run(global) { rt in
            let u = try rt.resolve(user)
            let w = try rt.node().whereMounted(u.name, resolve: !noResolve)
            let rows =
                [["CLIENT", "NAME", "HANDLES", "OLDEST OPEN", ""]]
                + w.clients.map { c in
                    [
                        c.address, c.name ?? "-", String(c.handles), c.oldestOpen ?? "-",
                        c.isThisNode ? "(this node)" : "",
                    ]
                }
            var human =
                w.clients.isEmpty
                ? ["no open handles on \(w.share) in account \(w.account)"]
                : ["\(w.share) in account \(w.account):"] + Output.table(rows)
            if w.more { human.append("(more handles than listed)") }
            rt.emit(
                human: human,
                json: [
                    ("user", .string(u.name)), ("share", .string(w.share)), ("account", .string(w.account)),
                    ("more", .bool(w.more)),
                    (
                        "clients",
                        .array(
                            w.clients.map { c in
                                .object([
                                    ("address", .string(c.address)), ("name", .string(c.name)),
                                    ("handles", .int(c.handles)), ("oldest_open", .string(c.oldestOpen)),
                                    ("this_node", .bool(c.isThisNode)),
                                ])
                            })
                    ),
                ])
        }
    }
}
