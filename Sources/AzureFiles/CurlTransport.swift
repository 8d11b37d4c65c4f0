import CCurl
import Glibc
import SystemSupport

/// ``HTTPTransport`` over one libcurl easy handle, reused for every request of the process (its connection
/// survives `curl_easy_reset`). Exact headers: `Expect`, `Accept` and any default `Content-Type` are removed;
/// TLS verification is always on; proxies come from libcurl's usual environment variables.
public final class CurlTransport: HTTPTransport {
    private let handle: UnsafeMutableRawPointer
    private let connectTimeout: Double

    /// Loads libcurl (pus_curl_load: dlopen + curl_global_init, once) and creates the handle (curl_easy_init).
    /// Throws when libcurl.so.4 is not installed.
    public init(connectTimeout: Double = 10) throws {
        try Self.load()
        guard let h = pus_curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        handle = h
        self.connectTimeout = connectTimeout
    }

    deinit { pus_curl_easy_cleanup(handle) }

    /// dlopen and curl_global_init exactly once per process, whichever thread comes first (a Swift static is
    /// initialised once, under a lock): lookups in several accounts start their transports side by side.
    private static let loadFailure: TransportError? = {
        if pus_curl_load() != 0 {
            let why = pus_curl_load_error().map { String(cString: $0) } ?? "a symbol is missing"
            return TransportError(
                kind: .broken, code: -1, message: "cannot load libcurl.so.4 (\(why)); install libcurl4")
        }
        return nil
    }()

    static func load() throws {
        if let failure = loadFailure { throw failure }
    }

    /// The libcurl version string (curl_version), loading the library if needed.
    public static var version: String {
        (try? load()).map { String(cString: pus_curl_version()) } ?? "libcurl not loadable"
    }

    public func send(_ request: HTTPRequest, sink: BodySink?) throws -> HTTPResponse {
        pus_curl_easy_reset(handle)
        let exchange = Exchange(body: request.body, sink: sink, maxBody: request.maxBody)
        let ctx = Unmanaged.passUnretained(exchange).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>? = nil
        defer { pus_curl_slist_free_all(list) }
        var sent = Set<String>()
        for (name, value) in request.headers {
            let lower = name.lowercased()
            if lower == "content-length" { continue }
            sent.insert(lower)
            list = pus_curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        for name in ["Expect", "Accept", "Content-Type", "Transfer-Encoding"] where !sent.contains(name.lowercased()) {
            list = pus_curl_slist_append(list, "\(name):")
        }
        let h = handle
        var rc = pus_curl_setopt_string(h, CURLOPT_URL, request.url)
        rc = rc == CURLE_OK ? pus_curl_setopt_pointer(h, CURLOPT_HTTPHEADER, list) : rc
        _ = pus_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        // Only HTTP(S), also after a redirect (none are followed anyway): a file://, ftp:// or gopher:// endpoint
        // from a mistyped config never reaches libcurl's other protocol handlers.
        _ = pus_curl_setopt_string(h, CURLOPT_PROTOCOLS_STR, "http,https")
        _ = pus_curl_setopt_string(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        _ = pus_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 0)
        _ = pus_curl_setopt_long(h, CURLOPT_SSL_VERIFYPEER, 1)
        _ = pus_curl_setopt_long(h, CURLOPT_SSL_VERIFYHOST, 2)
        _ = pus_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(connectTimeout * 1000))
        if request.timeout > 0 { _ = pus_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000)) }
        // Guard against stalled transfers without capping large ones: < 1 KiB/s for 30 s aborts.
        _ = pus_curl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1024)
        _ = pus_curl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, 30)
        _ = pus_curl_setopt_callback(h, CURLOPT_HEADERFUNCTION, headerCallback)
        _ = pus_curl_setopt_pointer(h, CURLOPT_HEADERDATA, ctx)
        _ = pus_curl_setopt_callback(h, CURLOPT_WRITEFUNCTION, writeCallback)
        _ = pus_curl_setopt_pointer(h, CURLOPT_WRITEDATA, ctx)
        switch request.method {
        case "GET": _ = pus_curl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": _ = pus_curl_setopt_long(h, CURLOPT_NOBODY, 1)
        case "PUT":
            _ = pus_curl_setopt_long(h, CURLOPT_UPLOAD, 1)
            _ = pus_curl_setopt_off(h, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count))
            _ = pus_curl_setopt_callback(h, CURLOPT_READFUNCTION, readCallback)
            _ = pus_curl_setopt_pointer(h, CURLOPT_READDATA, ctx)
        default: _ = pus_curl_setopt_string(h, CURLOPT_CUSTOMREQUEST, request.method)
        }
        guard rc == CURLE_OK else {
            throw TransportError(kind: .broken, code: Int(rc.rawValue), message: "invalid request URL \(request.url)")
        }
        let result = pus_curl_easy_perform(h)
        if let sinkError = exchange.sinkError { throw sinkError }
        if exchange.errorBodyCut {
            // An error response whose body went on and on: the first 64 KiB (the XML error) is all that counts.
            var status = 0
            _ = pus_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
            return HTTPResponse(status: status, headers: exchange.headers, body: exchange.body)
        }
        if exchange.tooLarge {
            throw TransportError(
                kind: .tooLarge, code: Int(result.rawValue),
                message:
                    "the response body from \(Redaction.redact(Self.hostPart(request.url))) is larger than \(request.maxBody >> 20) MiB; gave up"
            )
        }
        guard result == CURLE_OK else {
            throw TransportError(
                kind: Self.kind(result), code: Int(result.rawValue),
                message:
                    "\(String(cString: pus_curl_easy_strerror(result))) (\(Redaction.redact(Self.hostPart(request.url))))"
            )
        }
        guard exchange.headersComplete else {
            throw TransportError(
                kind: .broken, code: 0,
                message: "the response from \(Redaction.redact(Self.hostPart(request.url))) ended inside its headers")
        }
        var status = 0
        _ = pus_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, headers: exchange.headers, body: exchange.body)
    }

    static func kind(_ code: CURLcode) -> TransportError.Kind {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CACERT_BADFILE:
            return .tls
        default: return .broken
        }
    }

    /// scheme://host[:port] of a URL, for error messages (never the query, which may hold a SAS).
    static func hostPart(_ url: String) -> String {
        guard let scheme = url.firstRange(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        return String(url[..<end])
    }
}

/// Per-request state shared with the C callbacks through their user-data pointer.
final class Exchange {
    let upload: HTTPBody
    let sink: BodySink?
    var uploaded = 0
    var delivered = 0
    var headers: [String: String] = [:]
    var status = 0
    var body: [UInt8] = []
    var sinkError: (any Error)?
    let maxBody: Int
    /// A non-2xx body was cut at the error limit (the transfer was stopped there on purpose).
    var errorBodyCut = false
    /// A 2xx body kept in memory outgrew maxBody.
    var tooLarge = false
    /// The blank line that ends the header block was seen (a response cut off inside its headers is not one).
    var headersComplete = false

    init(body: HTTPBody, sink: BodySink?, maxBody: Int) {
        self.upload = body
        self.sink = sink
        self.maxBody = maxBody
    }
}

private func headerCallback(
    _ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ ctx: UnsafeMutableRawPointer?
) -> Int {
    let ex = Unmanaged<Exchange>.fromOpaque(ctx!).takeUnretainedValue()
    let count = size * n
    let line = String(decoding: UnsafeRawBufferPointer(start: data, count: count), as: UTF8.self).trimmingWhitespace()
    if line.hasPrefix("HTTP/") {
        // A new response (after a 1xx or a redirect): start over.
        ex.headers = [:]
        ex.headersComplete = false
        ex.status = Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    } else if line.isEmpty {
        ex.headersComplete = true
    } else if let colon = line.firstIndex(of: ":") {
        ex.headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...]).trimmingWhitespace()
    }
    return count
}

private func writeCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ ctx: UnsafeMutableRawPointer?)
    -> Int
{
    let ex = Unmanaged<Exchange>.fromOpaque(ctx!).takeUnretainedValue()
    let count = size * n
    let buffer = UnsafeRawBufferPointer(start: data, count: count)
    if let sink = ex.sink, (200..<300).contains(ex.status) {
        defer { ex.delivered += count }
        do { try sink(buffer, ex.delivered) } catch {
            ex.sinkError = error
            return 0  // aborts the transfer (CURLE_WRITE_ERROR)
        }
    } else {
        let ok = (200..<300).contains(ex.status)
        let limit = ok ? ex.maxBody : HTTPRequest.errorBodyLimit
        if ex.body.count + count > limit {
            ex.body.append(contentsOf: buffer.prefix(max(0, limit - ex.body.count)))
            if ok { ex.tooLarge = true } else { ex.errorBodyCut = true }
            return 0  // stops the transfer (CURLE_WRITE_ERROR): nothing more is read
        }
        ex.body.append(contentsOf: buffer)
    }
    return count
}

private func readCallback(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ n: Int, _ ctx: UnsafeMutableRawPointer?)
    -> Int
{
    let ex = Unmanaged<Exchange>.fromOpaque(ctx!).takeUnretainedValue()
    let room = size * n
    switch ex.upload {
    case .none: return 0
    case .bytes(let bytes):
        let k = min(room, bytes.count - ex.uploaded)
        bytes.withUnsafeBytes { src in
            UnsafeMutableRawPointer(data!).copyMemory(from: src.baseAddress! + ex.uploaded, byteCount: k)
        }
        ex.uploaded += k
        return k
    case .file(let fd, let offset, let length):
        let want = min(room, length - ex.uploaded)
        if want == 0 { return 0 }
        while true {
            let got = Syscalls.retryingInterrupts { pread(fd, data, want, off_t(offset) + off_t(ex.uploaded)) }
            if got <= 0 {
                ex.sinkError = SystemError("pread", errno: got < 0 ? errno : EIO)
                return pus_curl_readfunc_abort()
            }
            ex.uploaded += got
            return got
        }
    }
}

/// A ``CurlTransport`` created on the first request: libcurl (and its ~30 libraries) is loaded only by
/// invocations that really talk to the service.
public final class LazyCurlTransport: HTTPTransport {
    private var inner: CurlTransport?
    private let connectTimeout: Double

    public init(connectTimeout: Double = 10) { self.connectTimeout = connectTimeout }

    public func send(_ request: HTTPRequest, sink: BodySink?) throws -> HTTPResponse {
        if inner == nil { inner = try CurlTransport(connectTimeout: connectTimeout) }
        return try inner!.send(request, sink: sink)
    }
}
