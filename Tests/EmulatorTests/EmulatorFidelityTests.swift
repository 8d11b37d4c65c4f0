import AzureFiles
import AzureFilesEmulator
import Foundation
import Glibc
import SystemSupport
import TestSupport
import Testing

/// The service rules real clients do not all reach (Tests/Clients runs rclone and both Python SDKs): version
/// echo and refusal, one-character names, rename's replace and type rules, properties that follow a rename,
/// copy sources, Set File Properties' clearing, 416 on empty files, host-style addressing, the SAS time forms.
@Suite struct EmulatorFidelityTests: EmulatorFixture {
    let dir = TempDir()
    let key = Fixture.key
    let now = Clock.unixSeconds()
    let core: EmulatorCore

    init() {
        core = Fixture.core(dir, now: now)
        _ = core.handle(signed("PUT", "/acct/shr", "restype=share"))
    }

    func file(_ path: String, _ bytes: [UInt8], headers: [(String, String)] = []) {
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/shr/" + path,
                    headers: [("x-ms-type", "file"), ("x-ms-content-length", String(bytes.count))] + headers)
            ).status == 201)
        if !bytes.isEmpty {
            #expect(
                core.handle(
                    signed(
                        "PUT", "/acct/shr/" + path, "comp=range",
                        headers: [("x-ms-range", "bytes=0-\(bytes.count - 1)"), ("x-ms-write", "update")], body: bytes)
                ).status == 201)
        }
    }

    @Test func theRequestedVersionIsEchoedAndAnUnknownOneRefused() {
        let r = core.handle(signed("GET", "/acct/shr", "restype=share", version: "2019-02-02"))
        #expect(r.status == 200 && header(r, "x-ms-version") == "2019-02-02")
        let bad = core.handle(signed("GET", "/acct/shr", "restype=share", version: "2099-11-05"))
        #expect(bad.status == 400 && code(bad) == "InvalidHeaderValue")
        if case .bytes(let b) = bad.body {
            #expect(String(decoding: b, as: UTF8.self).contains("<HeaderName>x-ms-version</HeaderName>"))
        }
        let none = core.handle(signed("GET", "/acct/shr", "restype=share", version: nil))
        #expect(none.status == 400 && code(none) == "MissingRequiredHeader")
    }

    @Test func oneCharacterNamesAtTheShareRoot() {
        for name in ["x", "a", "%C3%A9"] {
            #expect(core.handle(signed("PUT", "/acct/shr/d" + name, "restype=directory")).status == 201)
            file(name, [1, 2, 3])
            #expect(core.handle(signed("HEAD", "/acct/shr/" + name)).status == 200)
        }
        #expect(core.handle(signed("PUT", "/acct/shr/y", "restype=directory")).status == 201)
    }

    @Test func renameReplacesOnlyWhenAskedAndNeverOverADirectory() {
        file("a", [1])
        file("b", [2])
        #expect(core.handle(signed("PUT", "/acct/shr/d", "restype=directory")).status == 201)
        let src = [("x-ms-file-rename-source", "http://127.0.0.1:1/acct/shr/a")]
        let noReplace = core.handle(signed("PUT", "/acct/shr/b", "comp=rename", headers: src))
        #expect(noReplace.status == 409 && code(noReplace) == "ResourceAlreadyExists")
        let overDir = core.handle(
            signed("PUT", "/acct/shr/d", "comp=rename", headers: src + [("x-ms-file-rename-replace-if-exists", "true")])
        )
        #expect(overDir.status == 409)
        let otherShare = core.handle(
            signed("PUT", "/acct/shr/c", "comp=rename", headers: [("x-ms-file-rename-source", "/other/a")]))
        #expect(otherShare.status == 400)
        let missing = core.handle(
            signed("PUT", "/acct/shr/c", "comp=rename", headers: [("x-ms-file-rename-source", "/shr/nope")]))
        #expect(missing.status == 404 && code(missing) == "ResourceNotFound")
        let noParent = core.handle(signed("PUT", "/acct/shr/nodir/c", "comp=rename", headers: src))
        #expect(noParent.status == 404 && code(noParent) == "ParentNotFound")
        let intoItself = core.handle(
            signed(
                "PUT", "/acct/shr/d/e", "restype=directory&comp=rename",
                headers: [("x-ms-file-rename-source", "/shr/d")]))
        #expect(intoItself.status == 400)
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/shr/b", "comp=rename", headers: src + [("x-ms-file-rename-replace-if-exists", "true")]
                )
            ).status == 200)
        #expect(read(core.handle(signed("GET", "/acct/shr/b"))) == [1])
        #expect(core.handle(signed("HEAD", "/acct/shr/a")).status == 404)
    }

    @Test func propertiesFollowARenameAndUnsentContentHeadersAreCleared() {
        file(
            "p", [9, 9],
            headers: [
                ("x-ms-content-type", "text/plain"), ("x-ms-cache-control", "no-cache"), ("x-ms-meta-Owner", "alice"),
            ])
        #expect(
            core.handle(
                signed("PUT", "/acct/shr/q", "comp=rename", headers: [("x-ms-file-rename-source", "/acct/shr/p")])
            ).status == 200)
        let h = core.handle(signed("HEAD", "/acct/shr/q"))
        #expect(
            header(h, "Content-Type") == "text/plain" && header(h, "Cache-Control") == "no-cache"
                && header(h, "x-ms-meta-Owner") == "alice")
        let etag = header(h, "ETag")
        #expect(
            core.handle(
                signed("PUT", "/acct/shr/q", "comp=properties", headers: [("x-ms-content-type", "application/json")])
            ).status == 200)
        let h2 = core.handle(signed("HEAD", "/acct/shr/q"))
        #expect(header(h2, "Content-Type") == "application/json" && header(h2, "Cache-Control") == nil)
        #expect(header(h2, "Content-Length") == "2", "the size stays without x-ms-content-length")
        #expect(header(h2, "ETag") != etag)
        #expect(header(h2, "x-ms-meta-Owner") == "alice", "metadata is not a content property")
        let bad = core.handle(
            signed("PUT", "/acct/shr/q", "comp=properties", headers: [("x-ms-file-last-write-time", "yesterday")]))
        #expect(bad.status == 400 && code(bad) == "InvalidHeaderValue")
    }

    /// A Content-MD5 given at Create File is a stored property, as on the service: range writes (Put Range,
    /// a clear, a Put Range From URL) leave it as it was, even when it no longer matches the data (issue 15,
    /// item 12); only Set File Properties changes it.
    @Test func aContentMD5GivenAtCreateSurvivesRangeWrites() {
        let md5 = Crypto.base64(Crypto.md5([7, 7, 7, 7]))
        file("m", [7, 7, 7, 7], headers: [("x-ms-content-md5", md5), ("x-ms-content-type", "text/plain")])
        #expect(header(core.handle(signed("HEAD", "/acct/shr/m")), "Content-MD5") == md5)
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/shr/m", "comp=range",
                    headers: [("x-ms-range", "bytes=0-1"), ("x-ms-write", "update")], body: [1, 2])
            ).status == 201)
        #expect(
            core.handle(
                signed(
                    "PUT", "/acct/shr/m", "comp=range",
                    headers: [("x-ms-range", "bytes=2-3"), ("x-ms-write", "clear"), ("Content-Length", "0")])
            ).status == 201)
        let h = core.handle(signed("HEAD", "/acct/shr/m"))
        #expect(header(h, "Content-MD5") == md5 && header(h, "Content-Type") == "text/plain", "\(h.headers)")
        let g = core.handle(signed("GET", "/acct/shr/m"))
        #expect(header(g, "Content-MD5") == md5 && read(g) == [1, 2, 0, 0])
        // A whole-file GET with a range carries the stored MD5; x-ms-range-get-content-md5 the range's own.
        let part = core.handle(
            signed(
                "GET", "/acct/shr/m", headers: [("x-ms-range", "bytes=0-1"), ("x-ms-range-get-content-md5", "true")]))
        #expect(header(part, "Content-MD5") == Crypto.base64(Crypto.md5([1, 2])))
    }

    @Test func aNewFileOverADeletedOnesInodeDoesNotInheritItsProperties() {
        file("old", [1], headers: [("x-ms-content-type", "text/old")])
        #expect(core.handle(signed("DELETE", "/acct/shr/old")).status == 202)
        // The record went with the file: nothing under .emulator/props names a file that is gone.
        let props = (try? FileManager.default.contentsOfDirectory(atPath: dir.file("acct/.emulator/props/shr"))) ?? []
        #expect(props.isEmpty, "\(props)")
        file("new", [2])
        #expect(header(core.handle(signed("HEAD", "/acct/shr/new")), "Content-Type") == "application/octet-stream")
    }

    /// Deleted over SMB (the emulator never hears of it) and a new file created whose inode number is the old
    /// one's: the record, written for an object born earlier, is not the new file's. The reuse is made certain by
    /// moving the old record to the new inode's name. Needs a file system that records birth times (ext4, xfs,
    /// btrfs; not tmpfs before Linux 6.6), where /tmp is.
    @Test(.enabled(if: Syscalls.birthTime(AT_FDCWD, "/tmp") != nil, "/tmp records no birth times"))
    func aFileRemadeOverSMBOnAReusedInodeDoesNotInheritItsProperties() throws {
        file("old", [1], headers: [("x-ms-content-type", "text/old"), ("x-ms-meta-owner", "alice")])
        #expect(header(core.handle(signed("HEAD", "/acct/shr/old")), "Content-Type") == "text/old")
        var old = stat()
        var new = stat()
        #expect(lstat(dir.file("acct/shr/old"), &old) == 0)
        #expect(unlink(dir.file("acct/shr/old")) == 0)
        usleep(10_000)
        let fd = open(dir.file("acct/shr/new"), O_CREAT | O_WRONLY, 0o644)
        #expect(fd >= 0 && write(fd, [2, 3], 2) == 2)
        close(fd)
        #expect(lstat(dir.file("acct/shr/new"), &new) == 0)
        let records = dir.file("acct/.emulator/props/shr")
        if old.st_ino != new.st_ino {
            try Syscalls.rename("\(records)/\(old.st_ino).json", "\(records)/\(new.st_ino).json")
        }
        let head = core.handle(signed("HEAD", "/acct/shr/new"))
        #expect(
            head.status == 200 && header(head, "Content-Type") == "application/octet-stream"
                && header(head, "x-ms-meta-owner") == nil)
        // Its own properties, once set, are kept and read back.
        #expect(
            core.handle(signed("PUT", "/acct/shr/new", "comp=properties", headers: [("x-ms-content-type", "text/new")]))
                .status == 200)
        #expect(header(core.handle(signed("HEAD", "/acct/shr/new")), "Content-Type") == "text/new")
    }

    @Test func copyNeedsAFileOfThisAccountAndFinishesAtOnce() {
        file("src", [5, 6, 7], headers: [("x-ms-meta-k", "v")])
        let r = core.handle(signed("PUT", "/acct/shr/dst", headers: [("x-ms-copy-source", "http://h/acct/shr/src")]))
        #expect(r.status == 202 && header(r, "x-ms-copy-status") == "success" && header(r, "x-ms-copy-id") != nil)
        let h = core.handle(signed("HEAD", "/acct/shr/dst"))
        #expect(header(h, "x-ms-copy-progress") == "3/3" && header(h, "x-ms-meta-k") == "v")
        #expect(read(core.handle(signed("GET", "/acct/shr/dst"))) == [5, 6, 7])
        let missing = core.handle(
            signed("PUT", "/acct/shr/dst2", headers: [("x-ms-copy-source", "http://h/acct/shr/nope")]))
        #expect(missing.status == 404 && code(missing) == "CannotVerifyCopySource")
        #expect(core.handle(signed("HEAD", "/acct/shr/dst2")).status == 404, "a failed copy creates nothing")
        // A share named like the account: a path-style source keeps its account segment apart from the share.
        #expect(core.handle(signed("PUT", "/acct/acct", "restype=share")).status == 201)
        #expect(
            core.handle(signed("PUT", "/acct/acct/f", headers: [("x-ms-type", "file"), ("x-ms-content-length", "2")]))
                .status == 201)
        #expect(
            core.handle(signed("PUT", "/acct/shr/fromacct", headers: [("x-ms-copy-source", "http://h/acct/acct/f")]))
                .status == 202)
        #expect(header(core.handle(signed("HEAD", "/acct/shr/fromacct")), "Content-Length") == "2")
        let abort = core.handle(
            signed(
                "PUT", "/acct/shr/dst", "copyid=\(header(r, "x-ms-copy-id")!)&comp=copy",
                headers: [("x-ms-copy-action", "abort")]))
        #expect(abort.status == 409 && code(abort) == "NoPendingCopyOperation")
    }

    @Test func aPendingCopyCanBePolledAndAborted() throws {
        final class TestClock: @unchecked Sendable {
            private let lock = NSLock()
            private var t: Int
            init(_ t: Int) { self.t = t }
            var value: Int { lock.withLock { t } }
            func advance(_ s: Int) { lock.withLock { t += s } }
        }
        let clock = TestClock(now)
        let pendingDir = TempDir()
        let slow = EmulatorCore(
            dataDir: pendingDir.path, accounts: ["acct": [key]], now: { clock.value },
            settings: EmulatorSettings(copyPendingSeconds: 30))
        #expect(slow.handle(signed("PUT", "/acct/shr", "restype=share")).status == 201)
        #expect(
            slow.handle(signed("PUT", "/acct/shr/src", headers: [("x-ms-type", "file"), ("x-ms-content-length", "3")]))
                .status == 201)
        for dst in ["one", "two"] {
            let r = slow.handle(
                signed("PUT", "/acct/shr/" + dst, headers: [("x-ms-copy-source", "/shr/src"), ("x-ms-meta-k", "v")]))
            #expect(r.status == 202 && header(r, "x-ms-copy-status") == "pending")
        }
        var h = slow.handle(signed("HEAD", "/acct/shr/one"))
        #expect(header(h, "x-ms-copy-status") == "pending" && header(h, "x-ms-copy-progress") == "0/3")
        let id = try #require(header(h, "x-ms-copy-id"))
        let wrong = slow.handle(
            signed("PUT", "/acct/shr/one", "copyid=nope&comp=copy", headers: [("x-ms-copy-action", "abort")]))
        #expect(wrong.status == 409)
        #expect(
            slow.handle(
                signed("PUT", "/acct/shr/one", "copyid=\(id)&comp=copy", headers: [("x-ms-copy-action", "abort")])
            ).status == 204)
        h = slow.handle(signed("HEAD", "/acct/shr/one"))
        #expect(
            header(h, "x-ms-copy-status") == "aborted" && header(h, "Content-Length") == "0"
                && header(h, "x-ms-meta-k") == "v",
            "an aborted copy leaves an empty file with its metadata")
        clock.advance(31)
        h = slow.handle(signed("HEAD", "/acct/shr/two"))
        #expect(header(h, "x-ms-copy-status") == "success" && header(h, "x-ms-copy-progress") == "3/3")
        #expect(header(h, "x-ms-copy-completion-time") != nil)
    }

    @Test func rangesOfEmptyFilesAndPastTheEndAre416() {
        file("empty", [])
        for range in ["bytes=0-", "bytes=0-0", "bytes=0-10"] {
            let r = core.handle(signed("GET", "/acct/shr/empty", headers: [("x-ms-range", range)]))
            #expect(r.status == 416 && code(r) == "InvalidRange", "\(range)")
        }
        let plain = core.handle(signed("GET", "/acct/shr/empty"))
        #expect(plain.status == 200 && read(plain).isEmpty)
        file("three", [1, 2, 3])
        #expect(core.handle(signed("GET", "/acct/shr/three", headers: [("x-ms-range", "bytes=3-5")])).status == 416)
        let open = core.handle(signed("GET", "/acct/shr/three", headers: [("x-ms-range", "bytes=1-")]))
        #expect(open.status == 206 && header(open, "Content-Range") == "bytes 1-2/3" && read(open) == [2, 3])
    }

    @Test func hostStyleAddressingTakesTheAccountFromHost() {
        let r = core.handle(signed("GET", "/shr", "restype=share", headers: [("Host", "acct.file.core.windows.net")]))
        #expect(r.status == 200)
        let unknown = core.handle(
            signed("GET", "/shr", "restype=share", headers: [("Host", "other.file.core.windows.net")]))
        #expect(unknown.status == 400 && code(unknown) == "InvalidUri")
    }

    @Test func sasTimesInEveryDocumentedForm() {
        let base = now + 3600
        let c = CivilTime(unixSeconds: base)
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        let day = "\(c.year)-\(pad(c.month))-\(pad(c.day))"
        let hm = "\(pad(c.hour)):\(pad(c.minute))"
        #expect(SAS.parseTimestamp("\(day)T\(hm)Z") == base - c.second)
        #expect(SAS.parseTimestamp("\(day)T\(hm):\(pad(c.second)).1234567Z") == base)
        #expect(SAS.parseTimestamp("\(day)T\(hm):\(pad(c.second))+01:00") == base - 3600)
        #expect(SAS.parseTimestamp("\(day)T\(hm):\(pad(c.second))-05:30") == base + 5 * 3600 + 1800)
        for bad in [
            "\(day)T\(hm):00.12345678Z", "\(day)T\(hm):00.Z", "\(day)T\(hm)", "\(day)T\(hm):00+24:00",
            "\(day)T\(hm):00,5Z",
        ] {
            #expect(SAS.parseTimestamp(bad) == nil, "\(bad)")
        }
        // A minute-precision expiry, as az CLI writes it, authorises a read.
        file("sasfile", [4])
        let fields = SAS.ServiceFields(
            permissions: "r", expiry: "\(day)T\(hm)Z", version: FilesAPI.version,
            overrides: SAS.Overrides(contentType: "text/csv"))
        let token = SAS.serviceToken(key: key, resource: .file(share: "shr", path: "sasfile"), fields: fields)
        let r = core.handle(
            EmulatorRequest(
                method: "GET", rawPath: "/acct/shr/sasfile", rawQuery: token, headers: [], body: [],
                remoteIP: "127.0.0.1", isHTTPS: true))
        #expect(r.status == 200 && header(r, "Content-Type") == "text/csv")
        let tampered = core.handle(
            EmulatorRequest(
                method: "GET", rawPath: "/acct/shr/sasfile",
                rawQuery: token.replacingOccurrences(of: "rsct=text/csv", with: "rsct=text/html"),
                headers: [], body: [], remoteIP: "127.0.0.1", isHTTPS: true))
        #expect(tampered.status == 403)
    }

    /// List Handles pages with the emulator's own marker; a marker it did not hand out is refused (a negative one
    /// trapped the emulator: found by the emulator fuzz target).
    @Test func listHandlesPagesAndRefusesAForeignMarker() {
        let handles: @Sendable (String, String) -> [OpenHandle] = { _, _ in
            (1...3).map {
                OpenHandle(path: "d/f\($0)", clientIP: "10.0.0.\($0)", clientName: "node\($0)", openTime: 1_796_000_000)
            }
        }
        let c = EmulatorCore(
            dataDir: dir.path, accounts: ["acct": [key]], now: { [now] in now },
            settings: EmulatorSettings(handles: handles))
        var marker = ""
        var seen: [String] = []
        repeat {
            let r = c.handle(
                signed(
                    "GET", "/acct/shr", "comp=listhandles&maxresults=2" + (marker.isEmpty ? "" : "&marker=\(marker)"),
                    headers: [("x-ms-recursive", "true")]))
            #expect(r.status == 200)
            let xml = XMLElement.parse(Array(bodyText(r).utf8))
            seen += xml?.child("Entries")?.children.compactMap { $0.text(of: "ClientIp") } ?? []
            marker = xml?.text(of: "NextMarker") ?? ""
        } while !marker.isEmpty && seen.count < 10
        #expect(seen == ["10.0.0.1", "10.0.0.2", "10.0.0.3"])
        for bad in ["-1", "x", "99999999999999999999"] {
            let r = c.handle(signed("GET", "/acct/shr", "comp=listhandles&marker=\(bad)"))
            #expect(r.status == 400 && code(r) == "InvalidQueryParameterValue", "marker \(bad)")
        }
    }
}
