import ArgumentParser
import Glibc
import Mounting

/// `pus-mount __probe PATH`: the health probe's child side (stat + one readdir); exit 0 or the errno.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__probe", shouldDisplay: false)
    @Argument var path: String
    func run() throws { throw ExitCode(HealthProbe.runChild(path: path)) }
}

/// `pus-mount __unmount TARGET`: a normal unmount in a child, so the parent can enforce a deadline.
struct UnmountChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "__unmount", shouldDisplay: false)
    @Argument var target: String
    func run() throws {
        do { try LibMountMounter().unmount(target, lazy: false) } catch {
            Output.stderr("pus-mount: \(error)")
            throw ExitCode(1)
        }
    }
}
