import AzureFiles
import AzureFilesEmulator
import SystemSupport
import TestSupport
import Testing

/// The emulator core in process: SAS and Shared Key verification rules, without HTTP in between.
@Suite struct EmulatorAuthTests: EmulatorFixture {
    let dir = TempDir()
    let key = Fixture.key
    let now = 1_796_126_400  // 2026-12-01T12:00:00Z
    let core: EmulatorCore

    init() { core = Fixture.core(dir, now: now) }

    func sas(
        _ method: String, _ path: String, _ query: String, ip: String = "127.0.0.1", https: Bool = true,
        headers: [(String, String)] = []
    ) -> EmulatorRequest {
        EmulatorRequest(
            method: method, rawPath: path, rawQuery: query, headers: headers, body: [], remoteIP: ip, isHTTPS: https)
    }

    func setUpShareWithFile() {
        #expect(core.handle(signed("PUT", "/acct/share1", "restype=share")).status == 201)
        #expect(
            core.handle(
                signed("PUT", "/acct/share1/f.txt", headers: [("x-ms-type", "file"), ("x-ms-content-length", "3")])
            ).status == 201)
    }

    @Test func sharedKeyRejectsTamperingAndSkew() {
        setUpShareWithFile()
        var r = signed("GET", "/acct/share1", "restype=share")
        r.rawQuery = "restype=share&comp=stats"
        #expect(code(core.handle(r)) == "AuthenticationFailed")
        let skewed = EmulatorCore(dataDir: dir.path, accounts: ["acct": [key]], now: { [now] in now + 3600 })
        #expect(code(skewed.handle(signed("GET", "/acct/share1", "restype=share"))) == "AuthenticationFailed")
        #expect(core.handle(signed("GET", "/acct/share1", "restype=share")).status == 200)
    }

    /// A date of many digits from a client used to overflow the emulator's date arithmetic and kill it.
    @Test func anOutOfRangeDateIsRefusedNotATrap() {
        setUpShareWithFile()
        for date in ["Tue, 01 Dec 177777777777777777 12:00:00 GMT", "Tue, 01 Dec 2026 99999999999999999:00:00 GMT"] {
            let r = EmulatorRequest(
                method: "GET", rawPath: "/acct/share1", rawQuery: "restype=share",
                headers: [
                    ("x-ms-date", date), ("x-ms-version", FilesAPI.version), ("Authorization", "SharedKey acct:AAAA"),
                ],
                body: [], remoteIP: "127.0.0.1", isHTTPS: false)
            let response = core.handle(r)
            #expect(
                response.status == 403 && bodyText(response).contains("x-ms-date is missing or malformed"), "\(date)")
        }
    }

    @Test func accountSASResourceTypesAndServices() {
        setUpShareWithFile()
        func token(_ srt: String, _ sp: String, ss: String = "f") -> String {
            SAS.accountToken(
                key: key,
                fields: SAS.AccountFields(
                    permissions: sp, services: ss, resourceTypes: srt, expiry: SAS.timestamp(now + 600)))
        }
        #expect(core.handle(sas("GET", "/acct", "comp=list&" + token("s", "l"))).status == 200)
        #expect(
            code(core.handle(sas("GET", "/acct", "comp=list&" + token("c", "l"))))
                == "AuthorizationResourceTypeMismatch")
        #expect(core.handle(sas("GET", "/acct/share1", "restype=share&" + token("c", "r"))).status == 200)
        #expect(
            code(core.handle(sas("GET", "/acct/share1/f.txt", token("c", "r")))) == "AuthorizationResourceTypeMismatch")
        #expect(core.handle(sas("GET", "/acct/share1/f.txt", token("o", "r"))).status == 200)
        #expect(
            code(core.handle(sas("DELETE", "/acct/share1/f.txt", token("o", "r")))) == "AuthorizationPermissionMismatch"
        )
        #expect(
            code(core.handle(sas("GET", "/acct/share1/f.txt", token("o", "r", ss: "b"))))
                == "AuthorizationResourceTypeMismatch")
    }

    @Test func serviceSASTimeIPAndProtocol() {
        setUpShareWithFile()
        func token(start: Int? = nil, expiry: Int, ip: String? = nil, spr: String? = nil) -> String {
            SAS.serviceToken(
                key: key, resource: .share("share1"),
                fields: SAS.ServiceFields(
                    permissions: "rl", start: start.map(SAS.timestamp), expiry: SAS.timestamp(expiry), ip: ip,
                    protocolName: spr))
        }
        #expect(core.handle(sas("GET", "/acct/share1/f.txt", token(expiry: now + 60))).status == 200)
        #expect(code(core.handle(sas("GET", "/acct/share1/f.txt", token(expiry: now - 1)))) == "AuthenticationFailed")
        #expect(
            code(core.handle(sas("GET", "/acct/share1/f.txt", token(start: now + 60, expiry: now + 120))))
                == "AuthenticationFailed")
        let ranged = token(expiry: now + 60, ip: "10.0.0.1-10.0.0.9")
        #expect(core.handle(sas("GET", "/acct/share1/f.txt", ranged, ip: "10.0.0.5")).status == 200)
        #expect(
            code(core.handle(sas("GET", "/acct/share1/f.txt", ranged, ip: "10.0.0.10")))
                == "AuthorizationSourceIPMismatch")
        let httpsOnly = token(expiry: now + 60, spr: "https")
        #expect(
            code(core.handle(sas("GET", "/acct/share1/f.txt", httpsOnly, https: false)))
                == "AuthorizationProtocolMismatch")
        #expect(core.handle(sas("GET", "/acct/share1/f.txt", httpsOnly, https: true)).status == 200)
        // A share SAS cannot manage the share itself.
        #expect(
            code(core.handle(sas("DELETE", "/acct/share1", "restype=share&" + token(expiry: now + 60))))
                == "AuthorizationResourceTypeMismatch")
        // ... and it is bound to its share.
        #expect(core.handle(signed("PUT", "/acct/share2", "restype=share")).status == 201)
        #expect(
            code(core.handle(sas("GET", "/acct/share2", "restype=directory&comp=list&" + token(expiry: now + 60))))
                == "AuthenticationFailed")
        #expect(
            core.handle(sas("GET", "/acct/share1", "restype=directory&comp=list&" + token(expiry: now + 60))).status
                == 200)
    }

    @Test func faultsAreInjectedBeforeAnyWork() {
        var plan = FaultPlan()
        #expect(plan.add("503:1:retry-after=0") == nil)
        #expect(plan.add("bogus") != nil)
        #expect(plan.add("503:2") != nil)
        let faulty = EmulatorCore(dataDir: dir.path, accounts: ["acct": [key]], faults: plan, now: { [now] in now })
        let r = faulty.handle(signed("PUT", "/acct/never", "restype=share"))
        #expect(r.status == 503 && code(r) == "ServerBusy")
        #expect(r.headers.contains { $0.0 == "Retry-After" && $0.1 == "0" })
        #expect(
            core.handle(signed("GET", "/acct/never", "restype=share")).status == 404, "the faulted create did nothing")
    }

    @Test func pathsThatEscapeTheShareAreRefused() {
        setUpShareWithFile()
        for bad in ["/acct/share1/..%2F..%2Fetc", "/acct/share1/a%3Ab", "/acct/share1/%2E%2E"] {
            #expect(core.handle(signed("GET", bad)).status == 400, "\(bad)")
        }
    }
}
