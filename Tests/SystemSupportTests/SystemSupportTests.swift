import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// The system-call layer on its own: the one EINTR loop, the one temp-then-rename, the one child-output
/// reader, the holders scan, the escaping of outside text.
@Suite struct SystemSupportTests {
    @Test func retryingInterruptsRepeatsOnlyInterruptedCalls() {
        var calls = 0
        let r: Int32 = Syscalls.retryingInterrupts {
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 5
        }
        #expect(r == 5 && calls == 3)
        calls = 0
        let failed: Int32 = Syscalls.retryingInterrupts {
            calls += 1
            errno = EAGAIN
            return -1
        }
        #expect(failed == -1 && calls == 1 && errno == EAGAIN, "EAGAIN is not retried unless asked")
        calls = 0
        let again: Int32 = Syscalls.retryingInterrupts(alsoAgain: true) {
            calls += 1
            if calls < 2 {
                errno = EAGAIN
                return -1
            }
            return 0
        }
        #expect(again == 0 && calls == 2)
    }

    @Test func aFailedStreamingWriteLeavesTheOldFileAndNoTemp() throws {
        let dir = TempDir()
        let path = dir.write("f", "old\n", mode: 0o644)
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try AtomicFile.writeStreaming(to: path, mode: 0o600) { fd, tmp in
                try Array("half".utf8).withUnsafeBytes { try Syscalls.writeAll(fd, $0, path: tmp) }
                throw Stop()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "old\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["f"], "no temp file left")
        try AtomicFile.write(Array("new\n".utf8), to: path, mode: 0o600)
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "new\n")
    }

    @Test func collectOutputStopsAtTheDeadlineAndWhenTold() throws {
        let slow = try ChildProcess.spawn("/bin/sh", ["-c", "echo one; sleep 5; echo two"], pipeStdout: true)
        let t0 = Clock.monotonicSeconds()
        let out = ChildProcess.collectOutput(slow.stdoutFD, until: t0 + 0.5)
        #expect(String(decoding: out, as: UTF8.self) == "one\n")
        #expect(Clock.monotonicSeconds() - t0 < 4, "the deadline, not the child, ended the read")
        kill(slow.pid, SIGKILL)
        _ = ChildProcess.wait(slow.pid, until: Clock.monotonicSeconds() + 5)
        let chatty = try ChildProcess.spawn("/bin/sh", ["-c", "echo a; echo b; sleep 5"], pipeStdout: true)
        var lines = 0
        _ = ChildProcess.collectOutput(chatty.stdoutFD, until: Clock.monotonicSeconds() + 10) { buf in
            lines = buf.filter { $0 == 10 }.count
            return lines < 2
        }
        #expect(lines == 2)
        kill(chatty.pid, SIGKILL)
        _ = ChildProcess.wait(chatty.pid, until: Clock.monotonicSeconds() + 5)
    }

    @Test func readToEndKeepsAtMostTheLimit() throws {
        let child = try ChildProcess.spawn("/bin/sh", ["-c", "head -c 100000 /dev/zero"], pipeStdout: true)
        let got = Syscalls.readToEnd(child.stdoutFD, limit: 1000)
        close(child.stdoutFD)
        #expect(got.count == 1000)
        #expect(
            ChildProcess.wait(child.pid, until: Clock.monotonicSeconds() + 5) == 0,
            "the rest was read, so the writer finished")
    }

    /// A process whose working directory is on a mount is found as its holder (fuser -m), by mount id.
    @Test func holdersAreFoundByMountID() throws {
        let dir = TempDir()
        let id = try #require(MountHolders.mountID(of: dir.path))
        let child = try ChildProcess.spawn("/bin/sh", ["-c", "cd \(dir.path) && exec sleep 30"])
        defer {
            kill(child.pid, SIGKILL)
            _ = ChildProcess.wait(child.pid, until: Clock.monotonicSeconds() + 5)
        }
        for _ in 0..<200
        where (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child.pid)/cwd")) != dir.path {
            usleep(5000)
        }
        let holders = MountHolders.scan([id: dir.path])[id] ?? []
        #expect(holders.contains(MountHolder(pid: child.pid, command: "sleep")), "\(holders.prefix(5))")
        #expect(MountHolders.scan([:]).isEmpty)
    }

    @Test(arguments: ["a\u{1b}[2Jb", "x\ny\r", "bell\u{07}", "c1\u{9b}31m"])
    func controlCharactersAreEscaped(_ text: String) {
        let out = text.escapingControls()
        #expect(
            !out.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f || (0x80..<0xa0).contains($0.value) })
        #expect(out.contains("\\x"))
        #expect("plain text".escapingControls() == "plain text")
        #expect(String(repeating: "a", count: 10).escapingControls(limit: 4) == "aaaa...")
    }
}
