import Glibc

/// A TCP reachability check (doctor): name resolution, then a connect bounded by a timeout.
public enum Net {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let isDNS: Bool
        public let description: String
    }

    /// Resolves `host` and connects to `port` on the first address that answers within `timeout` seconds.
    /// Success carries the address that answered.
    public static func connect(host: String, port: UInt16, timeout: Double) -> Result<String, Failure> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &res)
        guard rc == 0, let first = res else {
            return .failure(Failure(isDNS: true, description: "cannot resolve: \(String(cString: gai_strerror(rc)))"))
        }
        defer { freeaddrinfo(first) }
        var lastError = "no address"
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let ai = p {
            p = ai.pointee.ai_next
            let text = numeric(ai.pointee.ai_addr, ai.pointee.ai_addrlen)
            let fd = socket(
                ai.pointee.ai_family,
                ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                ai.pointee.ai_protocol)
            guard fd >= 0 else {
                lastError = String(cString: strerror(errno))
                continue
            }
            defer { close(fd) }
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return .success(text) }
            guard errno == EINPROGRESS else {
                lastError = "\(text): \(String(cString: strerror(errno)))"
                continue
            }
            var pfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let r = poll(&pfd, 1, Int32(timeout * 1000))
            if r == 0 {
                lastError = "\(text): no answer within \(Int(timeout)) s"
                continue
            }
            var err: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
            if r > 0 && err == 0 { return .success(text) }
            lastError = "\(text): \(String(cString: strerror(err != 0 ? err : errno)))"
        }
        return .failure(Failure(isDNS: false, description: lastError))
    }

    /// This host's interface addresses, numeric (getifaddrs(3)): how `where` marks this node among a share's
    /// clients.
    public static func localAddresses() -> Set<String> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(first) }
        var out: Set<String> = []
        var p: UnsafeMutablePointer<ifaddrs>? = first
        while let i = p {
            p = i.pointee.ifa_next
            guard let sa = i.pointee.ifa_addr else { continue }
            let family = Int32(sa.pointee.sa_family)
            guard family == AF_INET || family == AF_INET6 else { continue }
            let len = socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
            out.insert(numeric(sa, len))
        }
        return out
    }

    /// The name a reverse lookup (getnameinfo(3), NI_NAMEREQD) gives a numeric address; nil when none does.
    public static func reverseName(_ address: String) -> String? {
        withNumericAddress(address) { sa, len in
            var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(sa, len, &buf, socklen_t(buf.count), nil, 0, NI_NAMEREQD) == 0 else { return nil }
            return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// A numeric IPv4 or IPv6 address in its canonical text (`2001:DB8::0:1` → `2001:db8::1`); nil for anything
    /// that is not one (a name is never looked up).
    public static func canonicalAddress(_ text: String) -> String? {
        withNumericAddress(text) { sa, len in
            let n = numeric(sa, len)
            return n == "?" ? nil : n
        }
    }

    /// `text` parsed as a numeric address (getaddrinfo(3) with AI_NUMERICHOST: never a name lookup), handed to
    /// `body`; nil when it is not one.
    static func withNumericAddress<T>(_ text: String, _ body: (UnsafeMutablePointer<sockaddr>, socklen_t) -> T?) -> T? {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_family = AF_UNSPEC
        var res: UnsafeMutablePointer<addrinfo>?
        guard !text.isEmpty, getaddrinfo(text, nil, &hints, &res) == 0, let ai = res else { return nil }
        defer { freeaddrinfo(ai) }
        guard let sa = ai.pointee.ai_addr else { return nil }
        return body(sa, ai.pointee.ai_addrlen)
    }

    static func numeric(_ sa: UnsafeMutablePointer<sockaddr>?, _ len: socklen_t) -> String {
        var buf = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard let sa, getnameinfo(sa, len, &buf, socklen_t(buf.count), nil, 0, NI_NUMERICHOST) == 0 else { return "?" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
