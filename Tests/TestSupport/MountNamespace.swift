import Foundation
import SystemSupport

/// A private mount namespace for one test: `unshare --mount --propagation private sleep`, entered with
/// `nsenter`. Mounts made inside vanish with it; the host's mount table is never touched.
/// (unshare() itself fails in the threaded test process, so the namespace belongs to a child.)
public final class MountNamespace: @unchecked Sendable {
    let sleeper = Process()
    public var pid: Int32 { sleeper.processIdentifier }

    public init() throws {
        sleeper.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        sleeper.arguments = ["--mount", "--propagation", "private", "/bin/sleep", "3600"]
        try sleeper.run()
        // Wait until the sleeper runs in its own namespace.
        let mine = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/mnt")
        for _ in 0..<500 {
            if let ns = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/mnt"), ns != mine,
                (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.hasPrefix("sleep") == true
            {
                return
            }
            usleep(2000)
        }
        throw NSError(domain: "MountNamespace", code: 1, userInfo: [NSLocalizedDescriptionKey: "unshare did not start"])
    }

    /// Runs an executable inside the namespace.
    @discardableResult
    public func run(_ path: String, _ args: [String], env: [String: String] = [:]) throws -> RunResult {
        try Run.run("/usr/bin/nsenter", ["-t", String(pid), "-m", "--", path] + args, env: env)
    }

    /// Runs a shell command line inside the namespace.
    @discardableResult
    public func sh(_ command: String, env: [String: String] = [:]) throws -> RunResult {
        try run("/bin/sh", ["-c", command], env: env)
    }

    /// The namespace's mount table (as the kernel shows it to its processes).
    /// Read with read(2) to EOF: Foundation's String(contentsOfFile:) trusts st_size, which is 0 for /proc
    /// files, and returned only the first page of a long mountinfo.
    public var mountinfo: String {
        (try? Syscalls.readFile("/proc/\(pid)/mountinfo")).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Mountinfo lines whose mount point (field 5) is `target`.
    public func mounts(at target: String) -> [[String]] {
        mountinfo.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.filter {
            $0.count > 4 && $0[4] == target
        }
    }

    /// Mount points under `root`.
    public func mountpoints(under root: String) -> [String] {
        mountinfo.split(separator: "\n").compactMap { line -> String? in
            let f = line.split(separator: " ")
            guard f.count > 4, f[4].hasPrefix(root + "/") else { return nil }
            return String(f[4])
        }.sorted()
    }

    deinit {
        kill(sleeper.processIdentifier, SIGKILL)
        sleeper.waitUntilExit()
    }
}
