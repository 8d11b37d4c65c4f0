import ArgumentParser
import Glibc
import Mounting
import Orchestrator
import SystemSupport

/// `pus-mount rotate-key [--account NAME] [--dry-run]`: after editing key files, rewrite the credentials files and
/// refresh live mounts where the kernel allows; report what must be remounted before the old key is regenerated.
struct RotateKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract:
            "Re-read key files, rewrite credentials files (password + password2), refresh live mounts where the kernel allows.",
        discussion:
            "Zero-downtime order: add the new key as line 2 of the key file, rotate-key; swap the lines, rotate-key; remount what it lists; then regenerate the old key. See pus-mount(8), KEY ROTATION."
    )

    @OptionGroup var global: GlobalOptions
    @Option(help: "Only this account (default: every configured account).") var account: String?
    @Flag(help: "Say what would be rewritten and refreshed, change nothing.") var dryRun = false

    func run() throws {
        try CommandRunner.run(global, dryRun: dryRun, audit: "rotate-key") { rt in
            let r = try rt.node().rotateKey(account: account, dryRun: dryRun, executable: ChildProcess.selfExecutable)
            rt.auditAccount = account
            var human: [String] = []
            for a in r.accounts {
                human.append(
                    "account \(a.name): key1 \(a.key1ID)\(a.key2ID.map { ", key2 \($0)" } ?? "") accepted by the service; "
                        + "\(dryRun ? "would rewrite" : "rewrote") \(a.credentialsRewritten.count) credentials file(s)")
                for m in a.refreshed {
                    human.append(
                        "  \(m): \(dryRun ? "would get" : "got") key1 as password2 (survives the old key's regeneration)"
                    )
                }
                for m in a.current { human.append("  \(m): already mounted with key1") }
                for m in a.mustRemount {
                    human.append("  \(m.mountpoint): REMOUNT before regenerating the old key: \(m.reason)")
                }
                for m in a.notOurs {
                    human.append(
                        "  \(m.mountpoint): holds \(m.source), not the recorded mount: left alone (see pus-mount status)"
                    )
                }
            }
            if r.accounts.contains(where: { !$0.mustRemount.isEmpty }) {
                human.append(
                    "mounts still on the old key keep working until they reconnect; remount them (detach/attach when idle; reconcile does it for idle mounts)"
                )
            }
            rt.emit(
                human: human,
                json: [
                    ("kernel", .string(r.kernel)), ("kernel_has_password2", .bool(r.kernelHasPassword2)),
                    (
                        "accounts",
                        .array(
                            r.accounts.map { a in
                                .object([
                                    ("account", .string(a.name)), ("key1_id", .string(a.key1ID)),
                                    ("key2_id", a.key2ID.map(JSON.string) ?? .null),
                                    ("credentials_rewritten", .array(a.credentialsRewritten.map(JSON.string))),
                                    ("refreshed", .array(a.refreshed.map(JSON.string))),
                                    ("current", .array(a.current.map(JSON.string))),
                                    (
                                        "must_remount",
                                        .array(
                                            a.mustRemount.map {
                                                .object([
                                                    ("mountpoint", .string($0.mountpoint)),
                                                    ("reason", .string($0.reason)),
                                                ])
                                            })
                                    ),
                                    (
                                        "not_ours",
                                        .array(
                                            a.notOurs.map {
                                                .object([
                                                    ("mountpoint", .string($0.mountpoint)),
                                                    ("source", .string($0.source)),
                                                ])
                                            })
                                    ),
                                ])
                            })
                    ),
                ])
        }
    }
}
