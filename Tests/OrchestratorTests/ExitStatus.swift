@testable import PusMountCLI

/// The exit status the command line gives an error the orchestrator threw (its one mapping table).
func exitStatus(_ error: any Error) -> Int32 { ErrorMapping.pusError(error).kind.exitCode }
