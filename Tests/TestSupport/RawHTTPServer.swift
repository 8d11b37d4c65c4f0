import Foundation
import Glibc
import SystemSupport

/// A loopback TCP server that answers every request with a scripted reply, byte for byte: well-formed
/// statuses, garbage, truncated heads or bodies, endless or huge bodies, or silence. It stands in for a hostile
/// or broken endpoint (the thing under test is pus-mount's handling of it). Stopped when dropped.
public final class RawHTTPServer: @unchecked Sendable {
    public enum Reply: Sendable {
        /// These bytes, then close.
        case bytes([UInt8])
        /// Read the request, then never answer (the connection stays open until the server stops).
        case stall
        /// A head, then `total` bytes of `pattern` repeated (a huge body that is never held in memory here).
        case stream(head: String, pattern: String, total: Int)
        /// One byte of `text` every `interval` seconds.
        case drip(String, interval: Double)
        /// Close straight away.
        case close
    }

    public let port: Int
    private let listener: Int32
    private let reply: @Sendable (Int, String) -> Reply
    private let lock = NSLock()
    private var stopped = false
    private var count = 0

    /// Requests received so far.
    public var requests: Int { lock.withLock { count } }

    /// `reply(n, requestLine)` answers the n-th request (0-based), e.g. `GET /acct/share?comp=list HTTP/1.1`.
    public init(_ reply: @escaping @Sendable (Int, String) -> Reply) throws {
        self.reply = reply
        let sock = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard sock >= 0 else { throw POSIXError(.EMFILE) }
        var one: Int32 = 1
        setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(sock, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(sock, 64) == 0 else {
            close(sock)
            throw POSIXError(.EADDRINUSE)
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(sock, $0, &len) }
        }
        listener = sock
        port = Int(UInt16(bigEndian: addr.sin_port))
        let fd = sock
        Threads.detach { [weak self] in
            while true {
                let c = accept(fd, nil, nil)
                guard c >= 0 else { return }
                guard let self else {
                    close(c)
                    return
                }
                let n = self.lock.withLock { () -> Int in
                    defer { self.count += 1 }
                    return self.count
                }
                Threads.detach { [weak self] in self?.serve(c, n) }
            }
        }
    }

    /// `http://127.0.0.1:PORT/<account>` for a config's file_endpoint.
    public func endpoint(account: String) -> String { "http://127.0.0.1:\(port)/\(account)" }

    var isStopped: Bool { lock.withLock { stopped } }

    func serve(_ c: Int32, _ n: Int) {
        defer { close(c) }
        // Read the head and a body as long as Content-Length says (bounded), so the client is not reset early.
        var got: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        var need: Int?
        while got.count < 8 << 20 {
            if let need, got.count >= need { break }
            if need == nil, let end = find(got, [13, 10, 13, 10]) {
                let head = String(decoding: got[..<end], as: UTF8.self).lowercased()
                let cl =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
                need = end + 4 + cl
                if got.count >= need! { break }
            }
            var pfd = pollfd(fd: c, events: Int16(POLLIN), revents: 0)
            if poll(&pfd, 1, 2000) <= 0 { break }
            let k = read(c, &buf, buf.count)
            if k <= 0 { break }
            got += buf[0..<k]
        }
        let line = String(decoding: got.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        switch reply(n, line) {
        case .bytes(let b): writeAll(c, b)
        case .close: return
        case .stall:
            while !isStopped { usleep(50_000) }
        case .stream(let head, let pattern, let total):
            writeAll(c, Array(head.utf8))
            let unit = Array(pattern.utf8)
            let chunk = Array((0..<max(1, (1 << 16) / unit.count)).flatMap { _ in unit })
            var left = total
            while left > 0 && !isStopped {
                let k = min(left, chunk.count)
                if !writeAll(c, Array(chunk[0..<k])) { return }
                left -= k
            }
        case .drip(let text, let interval):
            for b in text.utf8 {
                if isStopped || !writeAll(c, [b]) { return }
                usleep(UInt32(interval * 1_000_000))
            }
        }
    }

    @discardableResult
    func writeAll(_ c: Int32, _ b: [UInt8]) -> Bool {
        var off = 0
        while off < b.count {
            let n = b.withUnsafeBytes { send(c, $0.baseAddress! + off, $0.count - off, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count)
        where hay[i] == needle[0] && Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    /// A complete HTTP/1.1 response.
    public static func response(
        _ status: Int, reason: String = "Status", headers: [(String, String)] = [], body: String = ""
    ) -> Reply {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        return .bytes(Array((head + body).utf8))
    }

    /// An Azure-style XML error response.
    public static func azureError(_ status: Int, _ code: String, headers: [(String, String)] = []) -> Reply {
        response(
            status, headers: [("Content-Type", "application/xml"), ("x-ms-error-code", code)] + headers,
            body:
                "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>\(code)</Code><Message>hostile \(code)</Message></Error>"
        )
    }

    deinit {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }
}
