import AzureFiles
import AzureFilesEmulator
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// The emulator's own hardening: nothing a request names reaches outside the share's directory, symlinks are
/// never followed, a "clear" range allocates nothing, the SAS version is checked, and a forwarded-protocol
/// header does not turn plain HTTP into HTTPS.
@Suite struct EmulatorSafetyTests: EmulatorFixture {
    let dir = TempDir()
    let key = Fixture.key
    let now = Clock.unixSeconds()
    let core: EmulatorCore

    init() { core = Fixture.core(dir, now: now) }

    /// Issue 15, item 12. Copy File's source is checked as the service checks it: its `sharesnapshot=` like a
    /// GET's (no path out of the snapshot directory), and its authorization: a request with a SAS for the
    /// destination share cannot read another share through the copy; the source URL's own SAS can.
    @Test func aCopySourceIsValidatedAndAuthorizedOnItsOwn() throws {
        for share in ["sha", "shb"] {
            #expect(core.handle(signed("PUT", "/acct/\(share)", "restype=share")).status == 201)
        }
        let secret: [UInt8] = Array("bob's secret".utf8)
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/shb/secret",
                    headers: [("x-ms-type", "file"), ("x-ms-content-length", String(secret.count))])
            ).status == 201)
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/shb/secret", "comp=range",
                    headers: [("x-ms-range", "bytes=0-\(secret.count - 1)"), ("x-ms-write", "update")],
                    body: secret)
            ).status == 201)
        // 1. A snapshot name that climbs out of the snapshot directory (<data>/acct/.emulator/snapshots/sha), even
        //    with the account key: four levels up is the data directory's parent side, where a file is planted.
        #expect(
            core.handle(signed("PUT", "/acct/sha", "restype=share&comp=snapshot")).status == 201,
            "a snapshot, so its directory exists")
        try FileManager.default.createDirectory(atPath: dir.file("outside"), withIntermediateDirectories: true)
        dir.write("outside/shadow", "root:secret\n")
        let climb = core.handle(
            signed(
                "PUT", "/acct/sha/stolen",
                headers: [("x-ms-copy-source", "http://h/acct/sha/shadow?sharesnapshot=../../../../outside")]))
        #expect(climb.status == 404 && code(climb) == "CannotVerifyCopySource", "\(climb.status) \(code(climb))")
        #expect(core.handle(signed("HEAD", "/acct/sha/stolen")).status == 404, "nothing copied from outside the data")
        // 2. The SAS pus-mount hands a user (rcw on the user's share) does not reach another share.
        let expiry = SAS.timestamp(now + 3600)
        let mine = SAS.serviceToken(
            key: key, resource: .share("sha"),
            fields: SAS.ServiceFields(permissions: "rcw", expiry: expiry, version: FilesAPI.version))
        func sasCopy(_ dst: String, _ source: String) -> EmulatorResponse {
            core.handle(
                EmulatorRequest(
                    method: "PUT", rawPath: "/acct/sha/\(dst)", rawQuery: mine,
                    headers: [("x-ms-copy-source", source), ("x-ms-version", FilesAPI.version)], body: [],
                    remoteIP: "127.0.0.1", isHTTPS: false))
        }
        let foreign = sasCopy("copied", "http://h/acct/shb/secret")
        #expect(
            foreign.status == 403 && code(foreign) == "CannotVerifyCopySource", "\(foreign.status) \(code(foreign))")
        #expect(core.handle(signed("HEAD", "/acct/sha/copied")).status == 404)
        // A direct GET with that SAS is refused too (the control).
        let direct = core.handle(
            EmulatorRequest(
                method: "GET", rawPath: "/acct/shb/secret", rawQuery: mine,
                headers: [("x-ms-version", FilesAPI.version)],
                body: [], remoteIP: "127.0.0.1", isHTTPS: false))
        #expect(direct.status == 403)
        // 3. With a SAS of its own that allows reading the source, the copy goes through.
        let theirs = SAS.serviceToken(
            key: key, resource: .file(share: "shb", path: "secret"),
            fields: SAS.ServiceFields(permissions: "r", expiry: expiry, version: FilesAPI.version))
        let granted = sasCopy("granted", "http://h/acct/shb/secret?\(theirs)")
        #expect(granted.status == 202, "\(granted.status) \(code(granted)) \(bodyText(granted))")
        #expect(read(core.handle(signed("GET", "/acct/sha/granted"))) == secret)
    }

    @Test func symlinksInAShareAreNeverFollowed() throws {
        #expect(core.handle(signed("PUT", "/acct/share1", "restype=share")).status == 201)
        let shareDir = dir.file("acct/share1")
        // Planted in the backing directory (an SMB client can create symlinks; so can anyone with the disk).
        #expect(symlink("/etc", shareDir + "/etcdir") == 0)
        #expect(symlink("/etc/passwd", shareDir + "/passwd") == 0)
        #expect(mkfifo(dir.file("fifo"), 0o600) == 0)
        #expect(symlink(dir.file("fifo"), shareDir + "/fifo-link") == 0)
        for path in ["/acct/share1/etcdir/passwd", "/acct/share1/passwd", "/acct/share1/fifo-link"] {
            for method in ["GET", "HEAD"] {
                let t0 = Date()
                let r = core.handle(signed(method, path))
                #expect(r.status == 404, "\(method) \(path): \(r.status)")
                #expect(Date().timeIntervalSince(t0) < 2, "no hang on \(path)")
                if case .descriptor(let fd, _, _) = r.body { close(fd) }
            }
        }
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/share1/etcdir/pwned", headers: [("x-ms-type", "file"), ("x-ms-content-length", "1")])
            ).status == 404)
        #expect(!FileManager.default.fileExists(atPath: "/etc/pwned"))
        #expect(core.handle(signed("PUT", "/acct/share1/etcdir/newdir", "restype=directory")).status == 404)
        #expect(core.handle(signed("GET", "/acct/share1/etcdir", "restype=directory&comp=list")).status == 404)
        #expect(
            core.handle(signed("DELETE", "/acct/share1/passwd")).status == 404,
            "a symlink is not a file to the REST API")
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/share1/passwd", "comp=range",
                    headers: [("x-ms-range", "bytes=0-0"), ("x-ms-write", "update")], body: [65])
            ).status == 404)
        let listing = core.handle(signed("GET", "/acct/share1", "restype=directory&comp=list"))
        #expect(listing.status == 200)
        #expect(!bodyText(listing).contains("etcdir") && !bodyText(listing).contains("passwd"))
        // A share directory that is itself a symlink does not count either.
        #expect(core.handle(signed("PUT", "/acct/share2", "restype=share")).status == 201)
        try FileManager.default.removeItem(atPath: dir.file("acct/share2"))
        #expect(symlink("/etc", dir.file("acct/share2")) == 0)
        #expect(core.handle(signed("GET", "/acct/share2/passwd")).status == 404)
    }

    @Test func percentEncodedEscapesStayInside() {
        #expect(core.handle(signed("PUT", "/acct/share1", "restype=share")).status == 201)
        for path in [
            "/acct/share1/%2e%2e/%2e%2e/etc/passwd", "/acct/share1/a%2f..%2f..%2fx", "/acct/share1/%00",
            "/acct/..%2fshare1/x",
        ] {
            let r = core.handle(signed("GET", path))
            #expect(r.status >= 400 && r.status < 500, "\(path): \(r.status)")
        }
    }

    @Test func clearingAHugeRangeAllocatesNothing() throws {
        #expect(core.handle(signed("PUT", "/acct/share1", "restype=share")).status == 201)
        let tib: Int64 = 1 << 40
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/share1/big", headers: [("x-ms-type", "file"), ("x-ms-content-length", String(tib))])
            ).status == 201)
        var before = rusage()
        getrusage(RUSAGE_SELF.rawValue, &before)
        let t0 = Date()
        let r = core.handle(
            signed(
                "PUT", "/acct/share1/big", "comp=range",
                headers: [("x-ms-range", "bytes=0-\(tib - 1)"), ("x-ms-write", "clear")]))
        #expect(r.status == 201)
        #expect(Date().timeIntervalSince(t0) < 5)
        var after = rusage()
        getrusage(RUSAGE_SELF.rawValue, &after)
        #expect(
            after.ru_maxrss - before.ru_maxrss < 100_000,
            "no buffer the size of the range (\(after.ru_maxrss - before.ru_maxrss) KiB more)")
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/share1/too-big",
                    headers: [("x-ms-type", "file"), ("x-ms-content-length", String(5 << 40))])
            ).status == 400)
    }

    @Test func aSASOfAnUnknownVersionIsRefused() {
        #expect(core.handle(signed("PUT", "/acct/share1", "restype=share")).status == 201)
        for sv in ["2026-10-06", "2019-02-02", "2099-01-01", "garbage"] {
            let fields = SAS.ServiceFields(permissions: "rl", expiry: SAS.timestamp(now + 600), version: sv)
            let token = SAS.serviceToken(key: key, resource: .share("share1"), fields: fields)
            let r = core.handle(
                EmulatorRequest(
                    method: "GET", rawPath: "/acct/share1", rawQuery: "restype=directory&comp=list&" + token,
                    headers: [], body: [], remoteIP: "127.0.0.1", isHTTPS: true))
            if sv.hasPrefix("20") && sv != "2099-01-01" {
                #expect(r.status == 200, "sv \(sv)")
            } else {
                #expect(code(r) == "AuthenticationFailed", "sv \(sv)")
            }
        }
    }

    /// Over real HTTP: `X-Forwarded-Proto: https` does not make plain HTTP pass an `spr=https` SAS.
    @Test func aForwardedProtoHeaderIsNotTrusted() throws {
        let emu = try EmulatorProcess(dir: dir)
        let k = try #require(SharedKey(account: emu.account, key: Secret(emu.key)))
        let transport = try CurlTransport()
        let client = FilesClient(
            endpoint: AccountEndpoint(account: emu.account, key: k, override: emu.endpoint), transport: transport,
            logger: .init(label: "t"))
        #expect(try client.createShare("fwd", quotaGiB: 1, metadata: []) == .created)
        let fields = SAS.ServiceFields(
            permissions: "rl", expiry: SAS.timestamp(Clock.unixSeconds() + 600), protocolName: "https")
        let token = SAS.serviceToken(key: k, resource: .share("fwd"), fields: fields)
        let url = "\(emu.endpoint)/fwd?restype=directory&comp=list&\(token)"
        let r = try transport.send(
            HTTPRequest(
                method: "GET", url: url, headers: [("x-ms-version", FilesAPI.version), ("X-Forwarded-Proto", "https")]),
            sink: nil)
        #expect(r.status == 403)
        #expect(r.headers["x-ms-error-code"] == "AuthorizationProtocolMismatch")
    }
}
