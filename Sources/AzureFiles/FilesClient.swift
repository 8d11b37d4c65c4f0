import Glibc
import Logging
import SystemSupport

/// The Azure Files REST client: one account, synchronous, every request signed with Shared Key,
/// carrying a fresh `x-ms-client-request-id`, retried by ``RetryPolicy``, logged without secrets.
public final class FilesClient {
    public let endpoint: AccountEndpoint
    let transport: any HTTPTransport
    let retry: RetryPolicy
    let logger: Logger
    /// Requests sent on the wire (attempts included), for `--verbose` summaries and the benchmarks.
    public private(set) var requestsSent = 0
    /// Answers that reported a service limit (``AzureError/serviceLimit``), retried ones too.
    public private(set) var limitEvents: [AzureError.ServiceLimit: Int] = [:]
    /// The service's `x-ms-request-id` of every response received, in order (for the audit log); the first
    /// ``requestIDLimit`` are kept.
    public private(set) var requestIDs: [String] = []
    public static let requestIDLimit = 64
    /// When set, mutating requests (PUT, DELETE) are handed to it instead of being sent (`--dry-run`).
    public var dryRunRecorder: ((HTTPRequest) -> Void)?
    /// Per-request total timeout in seconds for small requests.
    public var requestTimeout: Double = 30

    public init(
        endpoint: AccountEndpoint, transport: any HTTPTransport, retry: RetryPolicy = RetryPolicy(), logger: Logger
    ) {
        self.endpoint = endpoint
        self.transport = transport
        self.retry = retry
        self.logger = logger
    }

    /// Sends one operation: builds the URL, signs each attempt, retries per policy, turns non-2xx into AzureError.
    /// `expect` lists the statuses that count as success.
    @discardableResult
    func perform(
        _ operation: String, method: String, path: String, query: [(String, String)] = [],
        headers extra: [(String, String)] = [], body: HTTPBody = .none, timeout: Double? = nil,
        expect: Set<Int>, sink: BodySink? = nil
    ) throws -> HTTPResponse {
        let fullPath = endpoint.basePath + path
        let rawQuery = query.map { $0.0 + "=" + PercentEncoding.encode($0.1, safe: ",") }.joined(separator: "&")
        let url =
            String(endpoint.baseURL.dropLast(endpoint.basePath.count)) + fullPath
            + (rawQuery.isEmpty ? "" : "?" + rawQuery)
        let clientRequestID = Self.uuid()
        if let recorder = dryRunRecorder, method != "GET" && method != "HEAD" {
            var headers = extra
            headers.append(("x-ms-version", FilesAPI.version))
            recorder(HTTPRequest(method: method, url: String(url), headers: headers, body: body))
            return HTTPResponse(status: expect.min() ?? 200, headers: [:], body: [])
        }
        let started = Clock.monotonicSeconds()
        var attempt = 0
        while true {
            attempt += 1
            var headers = extra
            headers.append(("x-ms-client-request-id", clientRequestID))
            headers.append(("x-ms-date", CivilTime(unixSeconds: Clock.unixSeconds()).rfc1123))
            headers.append(("x-ms-version", FilesAPI.version))
            if body.count > 0 { headers.append(("Content-Length", String(body.count))) }
            let auth = endpoint.key.authorization(method: method, path: fullPath, query: rawQuery, headers: headers)
            headers.append(("Authorization", auth))
            // The retry budget bounds every attempt, not only the waits between them: an endpoint that accepts
            // the connection and never answers costs at most what is left of the budget.
            var limit = timeout ?? requestTimeout
            if limit > 0 && retry.totalBudget > 0 {
                limit = max(1, min(limit, retry.totalBudget - (Clock.monotonicSeconds() - started)))
            }
            let request = HTTPRequest(method: method, url: String(url), headers: headers, body: body, timeout: limit)
            let t0 = Clock.monotonicSeconds()
            requestsSent += 1
            var retryAfter: Double?
            var failure: any Error
            do {
                let response = try transport.send(request, sink: sink)
                if let id = response.headers["x-ms-request-id"], requestIDs.count < Self.requestIDLimit {
                    requestIDs.append(id)
                }
                let ms = Int((Clock.monotonicSeconds() - t0) * 1000)
                logger.debug(
                    "\(method) \(Redaction.redact(String(url))) -> \(response.status) in \(ms) ms (attempt \(attempt), client request id \(clientRequestID))"
                )
                if expect.contains(response.status) { return response }
                var error = AzureError.from(response, operation: operation, clientRequestID: clientRequestID)
                error.resource = path.split(separator: "/").first.map(String.init)
                if let limit = error.serviceLimit { limitEvents[limit, default: 0] += 1 }
                guard RetryPolicy.isRetryable(status: response.status) else { throw error }
                retryAfter = RetryPolicy.parseRetryAfter(response.headers["retry-after"])
                failure = error
            } catch let error as TransportError {
                logger.debug("\(method) \(Redaction.redact(String(url))) failed: \(error.message) (attempt \(attempt))")
                guard RetryPolicy.isRetryable(error) else { throw error }
                failure = error
            }
            let elapsed = Clock.monotonicSeconds() - started
            guard
                let wait = retry.delay(
                    beforeRetry: attempt, elapsed: elapsed, retryAfter: retryAfter,
                    random: Double.random(in: 0...1))
            else { throw failure }
            logger.info("retrying \(operation) in \(Int(wait * 1000)) ms after attempt \(attempt): \(failure)")
            usleep(UInt32(wait * 1_000_000))
        }
    }

    /// A random (version 4) UUID string, without Foundation.
    static func uuid() -> String {
        var b = (0..<16).map { _ in UInt8.random(in: 0...255) }
        b[6] = b[6] & 0x0f | 0x40
        b[8] = b[8] & 0x3f | 0x80
        let h = Crypto.hex(b)
        let c = Array(h)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-"
            + String(c[20..<32])
    }

    static func sharePath(_ share: String, _ path: String = "") -> String {
        let encoded = PercentEncoding.encodePath(path)
        return "/" + share + (encoded.isEmpty ? "" : "/" + encoded)
    }
}
