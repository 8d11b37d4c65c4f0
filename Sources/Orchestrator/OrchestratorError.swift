import SystemSupport

/// Why the orchestrator stopped a command, in its own words; the command line maps each reason to an exit status.
public typealias OrchestratorError = Failure<OrchestratorFailure>

/// Why the orchestrator stopped a command: the reasons of ``OrchestratorError``.
public enum OrchestratorFailure: Sendable, Equatable {
    /// An argument or option value that cannot be used (a session id, a path in the share, a quota).
    case invalidArgument
    /// The user does not resolve through NSS, or the `[users]` policy refuses them.
    case unknownUser
    /// The configuration lacks what the command needs (an account, a backend, a valid value).
    case notConfigured
    /// A mount or unmount failed, or the mountpoint is not one pus-mount may use.
    case mountFailed
    /// Something did not finish within its deadline; trying again may work.
    case timedOut
    /// The command would do harm and was refused (leases, a share in use, a restore that cannot be undone).
    case refused
    /// What the command needed is not there (a ledger record, a restorable deleted share), or an earlier step
    /// of the same run failed.
    case failed
    /// The service does not accept a key pus-mount was asked to use.
    case keyRejected
}
