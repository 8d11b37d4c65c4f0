import AzureFiles
import SystemSupport
import Testing

@Suite struct ProtocolPieceTests {
    @Test(arguments: [
        ("alice", "pus-alice-"), ("john.doe", "pus-john-doe-"), ("John_Doe", "pus-john-doe-"), ("---", "pus-"),
    ])
    func shareNames(_ c: (String, String)) {
        let n = ShareName.forUser(c.0, prefix: "pus")
        #expect(n.hasPrefix(c.1))
        #expect(ShareName.isValid(n), "\(n)")
    }

    /// The Blob endpoint follows the sovereign-cloud suffix like the File endpoint; an override is kept as given.
    @Test func blobEndpointsFollowTheSuffix() throws {
        let key = try #require(SharedKey(account: "acct", key: Secret("AAAA")))
        let china = AccountEndpoint(account: "acct", key: key, endpointSuffix: "core.chinacloudapi.cn", service: "blob")
        #expect(china.baseURL == "https://acct.blob.core.chinacloudapi.cn" && china.basePath == "")
        #expect(AccountEndpoint(account: "acct", key: key).baseURL == "https://acct.file.core.windows.net")
        let emu = AccountEndpoint(account: "acct", key: key, override: "http://127.0.0.1:10001/acct/", service: "blob")
        #expect(emu.baseURL == "http://127.0.0.1:10001/acct" && emu.basePath == "/acct")
    }

    @Test func shareNamesNeverCollideAndFitAzure() {
        #expect(ShareName.forUser("john.doe", prefix: "pus") != ShareName.forUser("john_doe", prefix: "pus"))
        let long = ShareName.forUser(String(repeating: "x", count: 200), prefix: "pus")
        #expect(long.count <= 63 && ShareName.isValid(long))
        #expect(
            !ShareName.isValid("a--b") && !ShareName.isValid("-ab") && !ShareName.isValid("ab-")
                && !ShareName.isValid("AB1"))
    }

    @Test func retryPolicyBacksOffHonoursRetryAfterAndStopsAtTheBudget() {
        let p = RetryPolicy(maxAttempts: 5, initialDelay: 0.2, maxDelay: 1, totalBudget: 3)
        #expect(p.delay(beforeRetry: 1, elapsed: 0, retryAfter: nil, random: 0) == 0.1)
        #expect(p.delay(beforeRetry: 1, elapsed: 0, retryAfter: nil, random: 1) == 0.2)
        #expect(p.delay(beforeRetry: 3, elapsed: 0, retryAfter: nil, random: 1) == 0.8)
        #expect(p.delay(beforeRetry: 4, elapsed: 0, retryAfter: nil, random: 1) == 1, "capped at maxDelay")
        #expect(p.delay(beforeRetry: 2, elapsed: 0, retryAfter: 2, random: 0) == 2, "Retry-After wins")
        #expect(p.delay(beforeRetry: 2, elapsed: 2.5, retryAfter: 1, random: 0) == nil, "no retry past the budget")
        #expect(p.delay(beforeRetry: 5, elapsed: 0, retryAfter: nil, random: 0) == nil, "bounded in attempts")
        #expect([408, 500, 502, 503, 504].allSatisfy(RetryPolicy.isRetryable(status:)))
        #expect(![400, 403, 404, 409, 429, 501].contains(where: RetryPolicy.isRetryable(status:)))
    }

    @Test func xmlErrorBodyBecomesATypedError() {
        let body = Array(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ShareAlreadyExists</Code><Message>The specified share already exists.\nRequestId:1\nTime:x</Message></Error>"
                .utf8)
        let e = AzureError.from(
            HTTPResponse(status: 409, headers: ["x-ms-request-id": "rid-1"], body: body), operation: "create share s",
            clientRequestID: "c")
        #expect(e.code == .shareAlreadyExists && e.status == 409 && e.requestID == "rid-1")
        #expect(e.message == "The specified share already exists.")
        let head = AzureError.from(
            HTTPResponse(status: 404, headers: ["x-ms-error-code": "ShareNotFound"], body: []), operation: "get",
            clientRequestID: nil)
        #expect(head.code == .shareNotFound)
    }

    @Test func xmlListingWithEntitiesAndEncodedNames() throws {
        let xml =
            "<EnumerationResults><Entries><File><Name Encoded=\"true\">a%20%26b</Name><Properties><Content-Length>3</Content-Length></Properties></File><Directory><Name>x &amp; y &#x3A9;</Name><Properties /></Directory></Entries><NextMarker /></EnumerationResults>"
        let root = try #require(XMLElement.parse(Array(xml.utf8)))
        let entries = try #require(root.child("Entries")).children
        #expect(entries.count == 2)
        #expect(entries[0].child("Name")?.attributes["Encoded"] == "true")
        #expect(PercentEncoding.decode(entries[0].text(of: "Name") ?? "") == "a &b")
        #expect(entries[1].text(of: "Name") == "x & y Ω")
        #expect(root.text(of: "NextMarker") == "")
        #expect(XMLElement.parse(Array("<a><b></a>".utf8)) == nil)
    }

    @Test func sasTimesAndPermissions() {
        #expect(SAS.timestamp(1_796_126_400) == "2026-12-01T12:00:00Z")
        #expect(SAS.parseTimestamp("2026-12-01T12:00:00Z") == 1_796_126_400)
        #expect(SAS.parseTimestamp("2026-12-01") == 1_796_083_200)
        #expect(SAS.parseTimestamp("2026-13-01") == nil)
        #expect(CivilTime(unixSeconds: 1_796_126_400).rfc1123 == "Tue, 01 Dec 2026 12:00:00 GMT")
        #expect(CivilTime.parseRFC1123("Tue, 01 Dec 2026 12:00:00 GMT") == 1_796_126_400)
        // Found by the SAS fuzz target: a year or time field of many digits overflowed (and trapped) the arithmetic.
        for bad in [
            "Tue, 01 Dec 177777777777777777 12:00:00 GMT", "Tue, 01 Dec 2026 999999999999999999:00:00 GMT",
            "Tue, 01 Dec 2026 12:00:-1 GMT", "Tue, 99 Dec 2026 12:00:00 GMT", "Tue, 01 Dec 2026 24:00:00 GMT",
            "Tue, 01 Dec +2026 12:00:00 GMT", "Tue, 01 Dec 2026 12::00 GMT", "Tue, 0 Dec 2026 12:00:00 GMT",
        ] {
            #expect(CivilTime.parseRFC1123(bad) == nil, "\(bad)")
        }
        #expect(SAS.canonicalPermissions("lr", for: .share("s")) == "rl")
        #expect(SAS.canonicalPermissions("dwcr", for: .file(share: "s", path: "p")) == "rcwd")
        #expect(SAS.canonicalPermissions("l", for: .file(share: "s", path: "p")) == nil)
        #expect(SAS.canonicalPermissions("rx", for: .share("s")) == nil)
    }

    @Test func filePathRules() {
        #expect(FilePathRules.problem(with: "a/b c/Résumé.txt") == nil)
        for bad in ["a/../b", "a//b", "a:b", "a|b", "con", "COM1", "x\u{1}"] {
            #expect(FilePathRules.problem(with: bad) != nil, "\(bad)")
        }
    }
}

/// libcurl is held to HTTP(S): a URL of another scheme that reached the transport (the config check refuses them
/// first) is an error, never a read of a local file or another protocol.
@Suite struct TransportProtocolTests {
    @Test(arguments: [
        "file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x", "dict://127.0.0.1/x", "smb://127.0.0.1/x",
    ])
    func onlyHTTPAndHTTPS(_ url: String) throws {
        let t = try CurlTransport()
        #expect(throws: TransportError.self, "\(url)") { try t.send(HTTPRequest(method: "GET", url: url), sink: nil) }
    }
}

/// Issue 15, item 8: the service's text never carries a control character out of AzureError (it reaches the
/// logger, syslog and stderr through its description), and each field is bounded.
@Suite struct ServerTextTests {
    @Test func anErrorBuiltFromHostileServerTextHoldsNoControlCharacter() {
        let body =
            "<?xml version=\"1.0\"?><Error><Code>Evil&#10;&#13;Code&#27;[31m</Code><Message>cleared\u{1b}[2J\u{07}\r now"
            + String(repeating: "x", count: 5000)
            + "</Message><AuthenticationErrorDetail>a\u{1b}]0;t\u{07}</AuthenticationErrorDetail></Error>"
        let r = HTTPResponse(status: 400, headers: ["x-ms-request-id": "id\u{1b}[2J\u{07}"], body: Array(body.utf8))
        let e = AzureError.from(r, operation: "list", clientRequestID: nil)
        let all = [e.code.rawValue, e.message, e.requestID ?? "", e.authenticationDetail ?? "", e.description]
        for text in all {
            #expect(!text.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7f }, "\(text.debugDescription)")
        }
        #expect(e.code.rawValue == "Evil\\x0a\\x0dCode\\x1b[31m")
        #expect(e.requestID == "id\\x1b[2J\\x07")
        #expect(e.message.count < 1100, "bounded: \(e.message.count)")
    }
}
