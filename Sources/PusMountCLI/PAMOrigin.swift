import ArgumentParser
import SystemSupport

/// What the PAM module (pam_pus_mount.so) says about the session it acts for, recorded in the audit line
/// under "pam": the PAM service, the terminal and the remote host. Informational only: nothing is decided on
/// them, and the module has already cut them to 127 printable characters.
struct PAMOrigin: ParsableArguments {
    @Option(
        name: .customLong("pam-service"),
        help: ArgumentHelp("PAM service of the session (recorded in the audit log).", valueName: "name"))
    var service: String?
    @Option(
        name: .customLong("pam-tty"),
        help: ArgumentHelp("PAM_TTY of the session (recorded in the audit log).", valueName: "tty"))
    var tty: String?
    @Option(
        name: .customLong("pam-rhost"),
        help: ArgumentHelp("PAM_RHOST of the session (recorded in the audit log).", valueName: "host"))
    var rhost: String?

    /// The audit fields, empty when no PAM option was given.
    var auditFields: [(String, JSON)] {
        [("service", service), ("tty", tty), ("rhost", rhost)].compactMap { k, v in
            v.map { (k, JSON.string(String($0.prefix(255)))) }
        }
    }
}
