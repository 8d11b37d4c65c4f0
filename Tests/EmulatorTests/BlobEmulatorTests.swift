import AzureFiles
import AzureFilesEmulator
import Foundation
import SystemSupport
import TestSupport
import Testing

/// The emulator's Blob service, driven in process: the rules real clients depend on and other emulators got
/// wrong (../shared/azure-blob-protocol.md sections 4, 5 and 7).
@Suite struct BlobEmulatorTests: EmulatorFixture {
    let dir = TempDir()
    let now = 1_796_126_400  // 2026-12-01T12:00:00Z
    var key: SharedKey { Fixture.key }
    let core: EmulatorCore

    init() {
        core = EmulatorCore(dataDir: dir.path, accounts: ["acct": [Fixture.key]], now: { 1_796_126_400 })
    }

    func send(
        _ method: String, _ path: String, _ query: String = "", headers: [(String, String)] = [], body: [UInt8] = [],
        version: String = FilesAPI.version
    ) -> EmulatorResponse {
        core.handleBlob(signed(method, "/acct" + path, query, headers: headers, body: body, version: version))
    }

    func put(_ name: String, _ text: String) {
        let r = send("PUT", "/box1/" + name, headers: [("x-ms-blob-type", "BlockBlob")], body: Array(text.utf8))
        #expect(r.status == 201, "\(name): \(bodyText(r))")
    }

    func names(_ r: EmulatorResponse) -> [String] {
        let doc = XMLElement.parse(Array(bodyText(r).utf8))
        return (doc?.child("Blobs")?.children ?? []).compactMap { $0.text(of: "Name") }
    }

    func marker(_ r: EmulatorResponse) -> String? {
        XMLElement.parse(Array(bodyText(r).utf8))?.text(of: "NextMarker").flatMap { $0.isEmpty ? nil : $0 }
    }

    @Test func containersAreCreatedOnceAndKeptApartFromShares() {
        #expect(send("PUT", "/box1", "restype=container", headers: [("x-ms-meta-pus_user", "alice")]).status == 201)
        let again = send("PUT", "/box1", "restype=container")
        #expect(again.status == 409 && code(again) == "ContainerAlreadyExists")
        let props = send("GET", "/box1", "restype=container")
        #expect(props.status == 200 && header(props, "x-ms-meta-pus_user") == "alice")
        // A share of the same name is another thing: the File service does not see the container.
        let share = core.handle(signed("GET", "/acct/box1", "restype=share"))
        #expect(share.status == 404, "containers and shares must not mix")
        #expect(send("GET", "/box9/x").status == 404 && code(send("GET", "/box9/x")) == "ContainerNotFound")
    }

    /// Delimiter listings: a prefix counts as one result, is emitted once, and the next page starts after
    /// everything under it; no NextMarker when nothing is left (Azurite#1491, #1473); a marker the emulator did
    /// not hand out is a 400 (Azurite#1494).
    @Test func delimiterListingsPageAsTheServiceDoes() {
        #expect(send("PUT", "/box1", "restype=container").status == 201)
        for i in 0..<6 { put("testdir2/f\(i)", "x") }
        put("a.txt", "a")
        put("z.txt", "z")
        let first = send("GET", "/box1", "restype=container&comp=list&delimiter=%2F&maxresults=2")
        #expect(bodyText(first).contains("<BlobPrefix><Name>testdir2/</Name></BlobPrefix>"))
        #expect(names(first) == ["a.txt", "testdir2/"])
        let m = try? #require(marker(first))
        let second = send(
            "GET", "/box1",
            "restype=container&comp=list&delimiter=%2F&maxresults=2&marker=" + PercentEncoding.encode(m ?? ""))
        #expect(names(second) == ["z.txt"], "the prefix is not emitted again")
        #expect(marker(second) == nil)
        let all = send("GET", "/box1", "restype=container&comp=list&delimiter=%2F")
        #expect(names(all) == ["a.txt", "testdir2/", "z.txt"], "one BlobPrefix for six blobs under it")
        let only = send("GET", "/box1", "restype=container&comp=list&prefix=testdir2%2F&delimiter=%2F&maxresults=6")
        #expect(names(only).count == 6 && marker(only) == nil)
        let bad = send("GET", "/box1", "restype=container&comp=list&marker=garbage")
        #expect(bad.status == 400 && code(bad) == "InvalidQueryParameterValue")
        #expect(send("GET", "/box1", "restype=container&comp=list&maxresults=0").status == 400)
    }

    /// Block rules: equal id lengths, an unknown id in the list, uncommitted blocks discarded at commit, a subset
    /// of the committed blocks recommitted, Latest preferring the uncommitted copy.
    @Test func blockListsFollowTheServiceRules() {
        #expect(send("PUT", "/box1", "restype=container").status == 201)
        func block(_ id: String, _ text: String) -> EmulatorResponse {
            send(
                "PUT", "/box1/b", "comp=block&blockid=" + PercentEncoding.encode(Base64.encode(Array(id.utf8))),
                body: Array(text.utf8))
        }
        func list(_ xml: String) -> EmulatorResponse {
            send(
                "PUT", "/box1/b", "comp=blocklist",
                body: Array(("<?xml version=\"1.0\"?><BlockList>" + xml + "</BlockList>").utf8))
        }
        func id(_ s: String) -> String { Base64.encode(Array(s.utf8)) }
        #expect(block("000", "A").status == 201)
        #expect(block("001", "B").status == 201)
        #expect(block("002", "C").status == 201)
        let uneven = block("0003", "D")
        #expect(uneven.status == 400 && code(uneven) == "InvalidBlobOrBlock")
        let unknown = list("<Latest>\(id("009"))</Latest>")
        #expect(unknown.status == 400 && code(unknown) == "InvalidBlockList")
        #expect(
            list("<Latest>\(id("000"))</Latest><Latest>\(id("001"))</Latest><Latest>\(id("002"))</Latest>").status
                == 201)
        #expect(read(send("GET", "/box1/b")) == Array("ABC".utf8))
        // Recommit a subset; the uncommitted "001" is gone after the first commit.
        #expect(list("<Committed>\(id("000"))</Committed><Committed>\(id("002"))</Committed>").status == 201)
        #expect(read(send("GET", "/box1/b")) == Array("AC".utf8))
        #expect(list("<Uncommitted>\(id("001"))</Uncommitted>").status == 400)
        // Latest takes a new uncommitted block over the committed one of the same id.
        #expect(block("000", "Z").status == 201)
        #expect(list("<Latest>\(id("000"))</Latest><Latest>\(id("002"))</Latest>").status == 201)
        #expect(read(send("GET", "/box1/b")) == Array("ZC".utf8))
        let bl = bodyText(send("GET", "/box1/b", "comp=blocklist&blocklisttype=all"))
        #expect(bl.contains("<CommittedBlocks><Block><Name>\(id("000"))</Name><Size>1</Size></Block>"))
    }

    @Test func conditionsMD5RangesAndLimits() {
        #expect(send("PUT", "/box1", "restype=container").status == 201)
        put("f", "hello world")
        let exists = send(
            "PUT", "/box1/f", headers: [("x-ms-blob-type", "BlockBlob"), ("If-None-Match", "*")], body: Array("x".utf8))
        #expect(exists.status == 409 && code(exists) == "BlobAlreadyExists")
        let badMD5 = send(
            "PUT", "/box1/g",
            headers: [("x-ms-blob-type", "BlockBlob"), ("Content-MD5", Base64.encode(Crypto.md5(Array("y".utf8))))],
            body: Array("x".utf8))
        #expect(badMD5.status == 400 && code(badMD5) == "Md5Mismatch")
        #expect(send("HEAD", "/box1/g").status == 404, "a refused upload stores nothing")
        let r = send("GET", "/box1/f", headers: [("x-ms-range", "bytes=6-100")])
        #expect(r.status == 206 && header(r, "Content-Range") == "bytes 6-10/11" && read(r) == Array("world".utf8))
        #expect(header(r, "x-ms-blob-content-md5") == Base64.encode(Crypto.md5(Array("hello world".utf8))))
        let past = send("GET", "/box1/f", headers: [("x-ms-range", "bytes=11-")])
        #expect(past.status == 416 && header(past, "Content-Range") == "bytes */11")
        let stale = send("GET", "/box1/f", headers: [("If-Match", "\"0xNOPE\"")])
        #expect(stale.status == 412 && code(stale) == "ConditionNotMet")
        // A 2015 client may put blocks of 4 MiB at most.
        let big = send(
            "PUT", "/box1/h", "comp=block&blockid=" + PercentEncoding.encode(Base64.encode([1])),
            body: [UInt8](repeating: 7, count: (4 << 20) + 1), version: "2015-12-11")
        #expect(big.status == 413 && code(big) == "RequestBodyTooLarge")
        // Newer versions than any known are served and echoed (the Azurite trap).
        let future = send("GET", "/box1/f", version: "2027-03-07")
        #expect(future.status == 200 && header(future, "x-ms-version") == "2027-03-07")
    }

    func sas(_ query: String, _ path: String, method: String = "GET", body: [UInt8] = []) -> EmulatorResponse {
        core.handleBlob(
            EmulatorRequest(
                method: method, rawPath: "/acct" + path, rawQuery: query,
                headers: method == "PUT" ? [("x-ms-blob-type", "BlockBlob")] : [], body: body, remoteIP: "127.0.0.1",
                isHTTPS: true))
    }

    /// SAS as the service checks it: a blob SAS cannot list or read another blob, a read SAS cannot write, a
    /// File account SAS is not a Blob one, an expired one fails with AuthenticationFailed.
    @Test func sasScopeAndPermissions() {
        #expect(send("PUT", "/box1", "restype=container").status == 201)
        put("a", "A")
        put("b", "B")
        let st = SAS.timestamp(now - 60)
        let se = SAS.timestamp(now + 3600)
        let blobA = SAS.serviceToken(
            key: key, resource: .blob(container: "box1", name: "a"),
            fields: SAS.ServiceFields(permissions: "r", start: st, expiry: se))
        #expect(sas(blobA, "/box1/a").status == 200)
        let other = sas(blobA, "/box1/b")
        #expect(other.status == 403 && code(other) == "AuthenticationFailed", "the signature covers the blob")
        let listWithBlob = sas(blobA + "&restype=container&comp=list", "/box1")
        #expect(listWithBlob.status == 403)
        let readOnly = SAS.serviceToken(
            key: key, resource: .container("box1"), fields: SAS.ServiceFields(permissions: "rl", start: st, expiry: se))
        #expect(sas(readOnly + "&restype=container&comp=list", "/box1").status == 200)
        let write = sas(readOnly, "/box1/new", method: "PUT", body: [1])
        #expect(write.status == 403 && code(write) == "AuthorizationPermissionMismatch")
        let files = SAS.accountToken(
            key: key, fields: SAS.AccountFields(permissions: "rl", services: "f", resourceTypes: "sco", expiry: se))
        let wrongService = sas(files, "/box1/a")
        #expect(wrongService.status == 403 && code(wrongService) == "AuthorizationServiceMismatch")
        let expired = SAS.serviceToken(
            key: key, resource: .container("box1"),
            fields: SAS.ServiceFields(
                permissions: "r", start: SAS.timestamp(now - 7200), expiry: SAS.timestamp(now - 3600)))
        #expect(code(sas(expired, "/box1/a")) == "AuthenticationFailed")
        // The legacy SDK's 2018-11-09 layout (sv=2019-02-02) verifies too.
        let legacy = SAS.serviceToken(
            key: key, resource: .container("box1"),
            fields: SAS.ServiceFields(permissions: "r", expiry: se, version: "2019-02-02"))
        #expect(sas(legacy, "/box1/a").status == 200)
    }

    @Test func deletedContainersCanBeRestored() {
        let soft = EmulatorCore(
            dataDir: dir.path, accounts: ["acct": [Fixture.key]], now: { 1_796_126_400 },
            settings: EmulatorSettings(softDeleteDays: 3))
        func send(_ m: String, _ p: String, _ q: String, _ h: [(String, String)] = []) -> EmulatorResponse {
            soft.handleBlob(signed(m, "/acct" + p, q, headers: h))
        }
        #expect(send("PUT", "/box2", "restype=container").status == 201)
        #expect(send("DELETE", "/box2", "restype=container").status == 202)
        let listing = bodyText(send("GET", "/", "comp=list&include=deleted"))
        let version = XMLElement.parse(Array(listing.utf8))?.child("Containers")?.child("Container")?.text(
            of: "Version")
        #expect(listing.contains("<Deleted>true</Deleted>") && listing.contains("<RemainingRetentionDays>3<"))
        let restored = send(
            "PUT", "/box2", "restype=container&comp=undelete",
            [("x-ms-deleted-container-name", "box2"), ("x-ms-deleted-container-version", version ?? "")])
        #expect(restored.status == 201, "\(bodyText(restored))")
        #expect(send("GET", "/box2", "restype=container").status == 200)
    }
}
