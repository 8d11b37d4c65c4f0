import Credentials
import Foundation
import SystemSupport
import TestSupport
import Testing

@Suite struct CredentialsStoreTests {
    func mode(_ p: String) -> String { String(((try? Syscalls.linkStatus(p))?.st_mode ?? 0) & 0o7777, radix: 8) }

    @Test func writesRootOwned0600In0700Directory() throws {
        let dir = TempDir()
        let store = CredentialsStore(directory: dir.file("etc/creds"))
        let p = try store.write(
            CredentialsFile(username: "acct", password: Secret("k1=="), password2: Secret("k2==")), share: "pus-a-1")
        #expect(p == dir.file("etc/creds/pus-a-1.cred"))
        #expect(mode(dir.file("etc/creds")) == "700")
        #expect(mode(p) == "600")
        #expect(try Syscalls.linkStatus(p)?.st_uid == 0)
        #expect(try String(contentsOfFile: p, encoding: .utf8) == "username=acct\npassword2=k2==\npassword=k1==\n")
        #expect(try store.read(share: "pus-a-1")?.password.reveal() == "k1==")
        // Rewriting keeps the mode (Foundation's atomic write would not).
        try store.write(CredentialsFile(username: "acct", password: Secret("k3==")), share: "pus-a-1")
        #expect(mode(p) == "600")
        #expect(try String(contentsOfFile: p, encoding: .utf8) == "username=acct\npassword=k3==\n")
        #expect(try store.remove(share: "pus-a-1"))
        #expect(!FileManager.default.fileExists(atPath: p))
    }

    @Test func widerDirectoryModeIsTightened() throws {
        let dir = TempDir()
        try FileManager.default.createDirectory(atPath: dir.file("c"), withIntermediateDirectories: false)
        chmod(dir.file("c"), 0o755)
        try CredentialsStore(directory: dir.file("c")).write(
            CredentialsFile(username: "a", password: Secret("p")), share: "s")
        #expect(mode(dir.file("c")) == "700")
    }

    @Test func symlinkAtTheFileOrDirectoryIsRefused() throws {
        let dir = TempDir()
        let store = CredentialsStore(directory: dir.file("c"))
        try store.prepareDirectory()
        let bait = dir.write("bait", "original")
        try FileManager.default.createSymbolicLink(atPath: dir.file("c/s.cred"), withDestinationPath: bait)
        #expect(throws: CredentialsError.self) {
            try store.write(CredentialsFile(username: "a", password: Secret("p")), share: "s")
        }
        #expect(try String(contentsOfFile: bait, encoding: .utf8) == "original")
        try FileManager.default.createSymbolicLink(atPath: dir.file("linkdir"), withDestinationPath: dir.path)
        #expect(throws: CredentialsError.self) {
            try CredentialsStore(directory: dir.file("linkdir")).prepareDirectory()
        }
    }

    @Test func lineBreaksInValuesAreRefused() {
        #expect(throws: CredentialsError.self) { try CredentialsFile(username: "a\nb", password: Secret("p")).render() }
        #expect(throws: CredentialsError.self) {
            try CredentialsFile(username: "a", password: Secret("p\npassword=x")).render()
        }
    }

    @Test func secretNeverPrints() {
        let s = Secret("hunter2")
        #expect("\(s)" == "<redacted>")
        #expect(String(reflecting: s) == "Secret(<redacted>)")
        #expect(!"\(CredentialsFile(username: "a", password: s))".contains("hunter2"))
    }

    @Test func redactionCoversSignaturesAuthorizationAndPasswords() {
        let text =
            "GET /a?sv=1&sig=abc%2Fdef&sp=r\nAuthorization: SharedKey acct:XYZ=\npassword=hunter2\npassword2=x,y\nSharedKey acct:QQQ"
        let r = Redaction.redact(text)
        for secret in ["abc%2Fdef", "XYZ=", "hunter2", "password2=x", "QQQ"] {
            #expect(!r.contains(secret), "\(secret) leaked: \(r)")
        }
        #expect(r.contains("sp=r") && r.contains("GET /a?sv=1&sig=REDACTED"))
    }

    /// mount.cifs's credential-line rules, as cifs-utils 7.0 (Debian 12: prefix "pass" is the password, the
    /// last one wins) and 7.2+ ("pass2"/"password2" first) parse them: both must come out with key1 as the
    /// password; 7.2+ also with key2 as password2.
    @Test func everyMountCifsVersionReadsKey1AsThePassword() throws {
        let text = String(
            decoding: try CredentialsFile(username: "acct", password: Secret("KEY1"), password2: Secret("KEY2"))
                .render(), as: UTF8.self)
        func parse(_ text: String, knowsPassword2: Bool) -> (password: String?, password2: String?) {
            var pass: String?
            var pass2: String?
            for line in text.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "=") else { continue }
                let value = String(line[line.index(after: eq)...])
                let l = line.lowercased()
                if knowsPassword2 && (l.hasPrefix("pass2") || l.hasPrefix("password2")) {
                    pass2 = value
                } else if l.hasPrefix("pass") {
                    pass = value
                }
            }
            return (pass, pass2)
        }
        #expect(parse(text, knowsPassword2: false).password == "KEY1", "cifs-utils 7.0 would mount with key2: \(text)")
        #expect(parse(text, knowsPassword2: true) == ("KEY1", "KEY2"))
    }
}
