import Foundation

/// Paths of the package's built executables (next to the test bundle in .build/<triple>/debug).
public enum Binaries {
    public static var directory: String {
        if let d = ProcessInfo.processInfo.environment["PUS_BIN_DIR"] { return d }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }
    public static var pusMount: String { "\(directory)/pus-mount" }
    public static var emulator: String { "\(directory)/azfiles-emulator" }
}

/// The outcome of a child process.
public struct RunResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs executables and collects their output.
public enum Run {
    /// Runs `path args` with extra environment, waits, and returns status and output.
    @discardableResult
    public static func run(_ path: String, _ args: [String], env: [String: String] = [:], stdin: String? = nil) throws -> RunResult {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        if let stdin {
            let inPipe = Pipe()
            p.standardInput = inPipe
            try p.run()
            inPipe.fileHandleForWriting.write(Data(stdin.utf8))
            try inPipe.fileHandleForWriting.close()
        } else {
            p.standardInput = FileHandle.nullDevice
            try p.run()
        }
        // Read both pipes concurrently so a chatty child cannot block on a full pipe.
        let errData = LockedData()
        let t = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
        t.start()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        while !errData.done { usleep(1000) }
        return RunResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
                         stderr: String(decoding: errData.data, as: UTF8.self))
    }

    /// Runs a shell command line.
    @discardableResult
    public static func sh(_ command: String, env: [String: String] = [:]) throws -> RunResult {
        try run("/bin/sh", ["-c", command], env: env)
    }
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var _data = Data()
    private var _done = false
    func set(_ d: Data) { lock.lock(); _data = d; _done = true; lock.unlock() }
    var data: Data { lock.lock(); defer { lock.unlock() }; return _data }
    var done: Bool { lock.lock(); defer { lock.unlock() }; return _done }
}
