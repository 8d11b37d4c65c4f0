import Foundation
import TestSupport
import Testing

/// The official Azure SDK (Tests/Oracle/sdk_client.py) as a second client against our emulator.
@Suite struct OracleClientTests {
    static var python: String? { ProcessInfo.processInfo.environment["PUS_ORACLE_PYTHON"] }

    @Test func oracleIsAvailableInCI() {
        if ProcessInfo.processInfo.environment["CI"] != nil {
            #expect(Self.python != nil, "CI must run the SDK oracle: Tests/run.sh sets PUS_ORACLE_PYTHON")
        }
    }

    @Test(.enabled(if: OracleClientTests.python != nil)) func sdkSpeaksToTheEmulator() throws {
        let dir = TempDir()
        let emu = try EmulatorProcess(dir: dir)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Oracle/sdk_client.py").path
        let r = try Run.run(Self.python!, [script, emu.endpoint, emu.account], env: ["PUS_ORACLE_KEY": emu.key])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("sdk oracle: all steps passed"))
        #expect(r.stdout.contains("ok forged signature refused"))
        #expect(r.stdout.contains("ok SAS read allowed, write refused"))
    }
}
