import Foundation
import TestSupport
import Testing

/// put/get progress: bytes, rate and ETA on stderr at a terminal only; nothing in pipes or under --json.
@Suite(.serialized) struct ProgressTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func progressOnATerminalOnly() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let cfg = TestConfig(dir: dir, emulator: emu)
        let user = TestUsers.name(42)
        #expect(try cfg.run(["provision", user]).status == 0)
        let src = dir.file("big.bin")
        #expect(try Run.sh("head -c 20971520 /dev/urandom > \(src)").status == 0)
        // script(1) gives the command a pseudo-terminal; its transcript is what the terminal showed.
        func onTTY(_ args: String) throws -> String {
            let log = dir.file("tty-\(UUID().uuidString).log")
            let r = try Run.sh(
                "script -qec '\(Binaries.pusMount) --config \(cfg.path) \(args)' \(log) >/dev/null 2>&1; cat \(log)")
            return r.stdout
        }
        let put = try onTTY("put \(user) \(src) big.bin")
        #expect(put.contains("\rput big.bin: ") || put.contains("put big.bin: "), "\(put.debugDescription)")
        #expect(put.contains("20.0 MiB of 20.0 MiB (100%)"), "\(put.debugDescription)")
        #expect(put.contains("MiB/s") || put.contains("KiB/s"))
        let get = try onTTY("get \(user) big.bin \(dir.file("back.bin"))")
        #expect(get.contains("get big.bin: ") && get.contains("(100%)"), "\(get.debugDescription)")
        #expect(FileManager.default.contentsEqual(atPath: src, andPath: dir.file("back.bin")))
        // Under --json at a terminal: the document only.
        let json = try onTTY("--json get \(user) big.bin \(dir.file("again.bin"))")
        #expect(!json.contains("(100%)") && json.contains("\"bytes\":20971520"), "\(json.debugDescription)")
        // In a pipe: nothing on stderr.
        let piped = try cfg.run(["put", user, src, "big2.bin"])
        #expect(piped.status == 0 && piped.stderr.isEmpty, "\(piped.stderr.debugDescription)")
    }
}
