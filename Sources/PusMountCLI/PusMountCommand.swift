import ArgumentParser

/// The `pus-mount` command line (see pus-mount(8)).
public struct PusMountCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "pus-mount",
        abstract: "Per-user persistent storage on Azure Files for multi-user compute nodes.",
        discussion: """
            EXIT STATUS: 0 ok; 1 other failure; 64 usage; 65 bad input; 67 unknown or refused user; \
            69 service unavailable; 73 mount failed; 75 temporary failure, retry; 77 permission or authentication; \
            78 configuration error.
            """,
        version: "0.2.0",
        subcommands: [
            AttachCommand.self, DetachCommand.self, StatusCommand.self, ReconcileCommand.self, BootstrapCommand.self,
            ProvisionCommand.self, SASCommand.self, LsCommand.self, PutCommand.self, GetCommand.self,
            QuotaCommand.self, SnapshotCommand.self, SnapshotsCommand.self, RestoreCommand.self,
            DeprovisionCommand.self, UndeleteCommand.self,
            RotateKeyCommand.self, AccountsCommand.self, WhereCommand.self, DoctorCommand.self, VersionCommand.self,
            ProbeCommand.self, ProbeManyCommand.self, MountChildCommand.self, UnmountChildCommand.self,
            SetPassword2ChildCommand.self, HygieneCommand.self,
        ])

    @OptionGroup var global: GlobalOptions

    public init() {}
}
