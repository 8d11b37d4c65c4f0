import AzureFiles
import Foundation
import Logging
import SystemSupport
import TestSupport
import Testing

/// The Blob client's transfers against the emulator's Blob listener, through a relay that can fail or corrupt
/// one answer: an upload that breaks part-way commits nothing, a download that breaks or does not match the
/// blob's MD5 leaves no file and no temp file.
@Suite(.serialized) struct BlobTransferTests {
    struct Setup {
        let dir = TempDir()
        let emu: EmulatorProcess
        let client: BlobClient
        var script: (HTTPRequest) -> HTTPResponse? = { _ in nil }
        let relay: Relay

        final class Relay: @unchecked Sendable {
            let real = LazyCurlTransport()
            var before: (HTTPRequest) -> HTTPResponse? = { _ in nil }
            var rewrite: (HTTPRequest, HTTPResponse) -> HTTPResponse = { $1 }
            var sent: [String] = []
        }

        init() throws {
            emu = try EmulatorProcess(dir: dir, blob: true)
            let relay = Relay()
            self.relay = relay
            let transport = ScriptedTransport { r in
                relay.sent.append("\(r.method) \(r.url)")
                if let scripted = relay.before(r) { return scripted }
                return relay.rewrite(r, try relay.real.send(r, sink: nil))
            }
            let key = try #require(SharedKey(account: emu.account, key: Secret(emu.key)))
            client = BlobClient(
                endpoint: AccountEndpoint(
                    account: emu.account, key: key, override: emu.blobEndpoint(), service: "blob"),
                transport: transport, retry: .none, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
            #expect(try client.createContainer("box1", metadata: []) == .created)
        }

        func file(_ name: String, bytes: Int) throws -> (path: String, data: Data) {
            let data = Data((0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
            let path = dir.file(name)
            FileManager.default.createFile(atPath: path, contents: data)
            return (path, data)
        }

        func upload(_ path: String, as name: String) throws {
            let fd = try Syscalls.open(path, O_RDONLY)
            defer { close(fd) }
            let size = Int64(try #require(try Syscalls.fileStatus(path)).st_size)
            try client.upload(
                fd: fd, size: size, container: "box1", name: name, contentType: "application/octet-stream",
                overwrite: true)
        }
    }

    static let refused = HTTPResponse(
        status: 403, headers: ["x-ms-error-code": "AuthorizationFailure"],
        body: Array("<Error><Code>AuthorizationFailure</Code><Message>scripted</Message></Error>".utf8))

    /// 20 MiB go in three blocks; the second Put Block fails: no blob is visible, and a blob of that name that
    /// was there before is unchanged (the commit, Put Block List, never went out).
    @Test func anUploadThatBreaksPartWayCommitsNothing() throws {
        var s = try Setup()
        let old = try s.file("old.bin", bytes: 1000)
        try s.upload(old.path, as: "kept.bin")
        let big = try s.file("big.bin", bytes: 20 << 20)
        var blocks = 0
        s.relay.before = { r in
            guard r.url.contains("comp=block&") else { return nil }
            blocks += 1
            return blocks == 2 ? Self.refused : nil
        }
        #expect(throws: AzureError.self) { try s.upload(big.path, as: "new.bin") }
        blocks = 0
        #expect(throws: AzureError.self) { try s.upload(big.path, as: "kept.bin") }
        s.relay.before = { _ in nil }
        #expect(!s.relay.sent.contains { $0.contains("comp=blocklist") }, "nothing committed")
        let names = try s.client.listBlobs(container: "box1", prefix: nil, delimiter: nil).blobs.map(\.name)
        #expect(names == ["kept.bin"])
        let back = s.dir.file("kept.back")
        try s.client.download(container: "box1", name: "kept.bin", localPath: back)
        #expect(FileManager.default.contents(atPath: back) == old.data, "the earlier blob is untouched")
        // Unrelayed, the same upload commits and reads back byte-identical (the MD5 is stored and checked).
        try s.upload(big.path, as: "new.bin")
        let props = try s.client.getBlobProperties(container: "box1", name: "new.bin")
        #expect(props.contentMD5 == Crypto.base64(Crypto.md5(Array(big.data))))
        try s.client.download(container: "box1", name: "new.bin", localPath: s.dir.file("new.back"))
        #expect(FileManager.default.contents(atPath: s.dir.file("new.back")) == big.data)
    }

    /// A download whose bytes do not match the stored MD5 (a corrupted range), or whose second range fails,
    /// leaves neither the destination nor a temp file; an existing destination stays as it was.
    @Test func aDownloadThatFailsLeavesNothing() throws {
        let s = try Setup()
        let big = try s.file("src.bin", bytes: 12 << 20)
        try s.upload(big.path, as: "b.bin")
        let out = s.dir.file("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        s.relay.rewrite = { r, answer in
            guard r.method == "GET", answer.status == 206, !answer.body.isEmpty else { return answer }
            var bad = answer
            bad.body[0] ^= 0xff
            return bad
        }
        #expect(throws: AzureError.self) {
            try s.client.download(container: "box1", name: "b.bin", localPath: out + "/b.bin")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out).isEmpty, "no file, no temp file")
        s.relay.rewrite = { $1 }
        var ranges = 0
        s.relay.before = { r in
            guard r.method == "GET", r.headers.contains(where: { $0.0 == "x-ms-range" }) else { return nil }
            ranges += 1
            return ranges == 2 ? Self.refused : nil
        }
        FileManager.default.createFile(atPath: out + "/b.bin", contents: Data("before".utf8))
        #expect(throws: AzureError.self) {
            try s.client.download(container: "box1", name: "b.bin", localPath: out + "/b.bin")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out) == ["b.bin"])
        #expect(FileManager.default.contents(atPath: out + "/b.bin") == Data("before".utf8))
    }

    /// A blob replaced between two ranges of one download: 412 from the pinned ETag, not a mix of both.
    @Test func aBlobReplacedMidDownloadIsRefused() throws {
        let s = try Setup()
        let a = try s.file("a.bin", bytes: 10 << 20)
        try s.upload(a.path, as: "x.bin")
        var ranges = 0
        let other = try s.file("b.bin", bytes: 10 << 20 + 1)
        s.relay.before = { r in
            guard r.method == "GET", r.headers.contains(where: { $0.0 == "x-ms-range" }) else { return nil }
            ranges += 1
            if ranges == 2 { try? s.upload(other.path, as: "x.bin") }
            return nil
        }
        do {
            try s.client.download(container: "box1", name: "x.bin", localPath: s.dir.file("x.out"))
            Issue.record("a download across a replacement must fail")
        } catch let e as AzureError {
            #expect(e.status == 412 && e.code == .conditionNotMet, "\(e)")
        }
        #expect(!FileManager.default.fileExists(atPath: s.dir.file("x.out")))
    }
}
