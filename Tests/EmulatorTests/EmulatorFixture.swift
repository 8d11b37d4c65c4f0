import AzureFiles
import AzureFilesEmulator
import Glibc
import SystemSupport
import TestSupport

/// The emulator suites' fixture: an emulator core on a temp directory serving account `acct`, its clock
/// pinned to `now`, and requests signed for it as the client signs them, without HTTP in between.
protocol EmulatorFixture {
    var dir: TempDir { get }
    var key: SharedKey { get }
    var core: EmulatorCore { get }
    var now: Int { get }
}

enum Fixture {
    static let key = SharedKey(
        account: "acct",
        key: Secret("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="))!

    /// A core on `dir` whose clock reads `now`.
    static func core(_ dir: TempDir, now: Int) -> EmulatorCore {
        EmulatorCore(dataDir: dir.path, accounts: ["acct": [key]], now: { now })
    }
}

extension EmulatorFixture {
    /// A Shared Key request signed like the client does (`version: nil` sends no x-ms-version).
    func signed(
        _ method: String, _ path: String, _ query: String = "", headers: [(String, String)] = [], body: [UInt8] = [],
        version: String? = FilesAPI.version
    ) -> EmulatorRequest {
        var h = headers + [("x-ms-date", CivilTime(unixSeconds: now).rfc1123)]
        if let version { h.append(("x-ms-version", version)) }
        if !body.isEmpty { h.append(("Content-Length", String(body.count))) }
        h.append(("Authorization", key.authorization(method: method, path: path, query: query, headers: h)))
        return EmulatorRequest(
            method: method, rawPath: path, rawQuery: query, headers: h, body: body, remoteIP: "127.0.0.1",
            isHTTPS: false)
    }

    func header(_ r: EmulatorResponse, _ name: String) -> String? {
        r.headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func code(_ r: EmulatorResponse) -> String { header(r, "x-ms-error-code") ?? "" }

    func bodyText(_ r: EmulatorResponse) -> String {
        if case .bytes(let b) = r.body { return String(decoding: b, as: UTF8.self) }
        return ""
    }

    /// A response's body bytes (a streamed file read and closed).
    func read(_ r: EmulatorResponse) -> [UInt8] {
        switch r.body {
        case .bytes(let b): return b
        case .descriptor(let fd, let offset, let length):
            defer { close(fd) }
            var buf = [UInt8](repeating: 0, count: Int(length))
            _ = buf.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            return buf
        }
    }
}
