import ArgumentParser
import Glibc
import Mounting
import SystemSupport

/// `pus-mount __probe PATH`: the health probe's child side (stat + one readdir); exit 0 or the errno.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ChildCommand.probe.rawValue, shouldDisplay: false)
    @Argument var path: String
    func run() throws { throw ExitCode(HealthProbe.runChild(path: path)) }
}

/// `pus-mount __probe-many`: probes the NUL-separated paths on stdin concurrently; `INDEX ERRNO` lines out.
struct ProbeManyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ChildCommand.probeMany.rawValue, shouldDisplay: false)
    func run() throws { throw ExitCode(ManyProbe.run()) }
}

/// `pus-mount __mount [--fake-mount] -- SOURCE TARGET FSTYPE OPTIONS`: mount(2) through libmount in a child, so
/// the parent can give up at its deadline. A failure is one ``MountError/wireLine`` on stdout, exit 1.
struct MountChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ChildCommand.mount.rawValue, shouldDisplay: false)
    @Flag(name: .customLong("fake-mount")) var fake = false
    @Argument var source: String
    @Argument var target: String
    @Argument var fstype: String
    @Argument var options: String
    func run() throws {
        ChildSide.run(operation: "mount", target: target) {
            try LibMountMounter(fake: fake).mountInProcess(
                MountSpec(source: source, target: target, fstype: fstype, options: options))
        }
    }
}

/// `pus-mount __set-password2 -- TARGET FLAGS`: rotate-key's remount of a live cifs mount with the new key as
/// password2, read from stdin (never argv). Exit 0, or the errno on stdout and exit 1.
struct SetPassword2ChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: ChildCommand.setPassword2.rawValue, shouldDisplay: false)
    @Argument var target: String
    @Argument var flags: UInt
    func run() throws {
        let rc = KeyRefresh.childSide(target: target, flags: flags)
        if rc != 0 { throw ExitCode(rc) }
    }
}

/// `pus-mount __unmount -- TARGET`: a normal unmount in a child, so the parent can enforce a deadline.
struct UnmountChildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ChildCommand.unmount.rawValue, shouldDisplay: false)
    @Argument var target: String
    func run() throws {
        ChildSide.run(operation: "unmount", target: target) {
            try LibMountMounter().unmountInProcess(target, lazy: false)
        }
    }
}

/// The shared child protocol: exit 0, or a wire line on stdout and exit 1.
enum ChildSide {
    static func run(operation: String, target: String, _ body: () throws -> Void) -> Never {
        do {
            try body()
            exit(0)
        } catch let e as MountError {
            Output.stdout(e.wireLine)
        } catch {
            Output.stdout(
                MountError(
                    operation: operation, target: target, exitCode: 1, syscallErrno: nil, helperStatus: nil,
                    helperErrno: nil,
                    detail: "\(error)"
                ).wireLine)
        }
        exit(1)
    }
}

/// `pus-mount __hygiene`: what the start-up hygiene left this process with, as JSON (for the tests): dumpable
/// flag, core limits, umask, open descriptors, environment variable names.
struct HygieneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: ChildCommand.hygiene.rawValue, shouldDisplay: false)
    func run() throws {
        let h = ProcessHygiene.current()
        let fds = ((try? Syscalls.directoryEntries("/proc/self/fd")) ?? []).compactMap { Int($0) }.sorted()
        var names: [String] = []
        var p = environ
        while let e = p.pointee {
            names.append(String(String(cString: e).prefix { $0 != "=" }))
            p += 1
        }
        Output.stdout(
            JSON.object([
                ("dumpable", .int(Int(h.dumpable))), ("core_soft", .int(Int(clamping: h.coreSoft))),
                ("core_hard", .int(Int(clamping: h.coreHard))), ("umask", .int(Int(h.umask))),
                ("fds", .array(fds.map { .int($0) })), ("environment", .array(names.sorted().map { .string($0) })),
            ]).text)
    }
}
