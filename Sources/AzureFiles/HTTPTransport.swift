/// An HTTP request exactly as it will be sent: nothing is added behind the caller's back.
public struct HTTPRequest: Sendable {
    /// Upper-case method.
    public var method: String
    /// Absolute URL, already percent-encoded.
    public var url: String
    /// Header lines in order. `content-length` is taken from the body, not sent from here.
    public var headers: [(String, String)]
    /// The request body.
    public var body: HTTPBody
    /// Total time allowed for the exchange, in seconds (0: no total limit, only the low-speed guard).
    public var timeout: Double
    /// The largest response body kept in memory (a body streamed to a sink is not limited by this). An error
    /// body beyond ``HTTPRequest/errorBodyLimit`` is cut there (enough for the XML error); a success body beyond
    /// this limit aborts the transfer.
    public var maxBody: Int = HTTPRequest.defaultMaxBody

    /// 32 MiB: a listing page of 5,000 entries with every property is well under 5 MiB.
    public static let defaultMaxBody = 32 << 20
    /// 64 KiB: an Azure error document is a few hundred bytes.
    public static let errorBodyLimit = 64 << 10

    public init(
        method: String, url: String, headers: [(String, String)] = [], body: HTTPBody = .none, timeout: Double = 30
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

/// A request body, held in memory or read from a file region (so large uploads stream).
public enum HTTPBody: Sendable {
    case none
    case bytes([UInt8])
    /// `length` bytes of the open file `fd` from `offset`, read with pread(2).
    case file(fd: Int32, offset: Int64, length: Int)

    /// Byte count of the body.
    public var count: Int {
        switch self {
        case .none: return 0
        case .bytes(let b): return b.count
        case .file(_, _, let n): return n
        }
    }
}

/// A response: status, lower-cased headers, and the body unless it was streamed to a sink.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Failures below HTTP: the connection could not be made, timed out or broke.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// `misbehaves`: answers that cannot come from the service (a listing that repeats its marker or never
    /// ends): not retried.
    public enum Kind: Sendable { case connect, timeout, broken, tls, sink, tooLarge, misbehaves }
    public let kind: Kind
    /// The CURLcode, when libcurl produced the error.
    public let code: Int
    public let message: String

    public init(kind: Kind, code: Int, message: String) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

/// Receives a successful response body in pieces (a download streamed to disk), with each piece's offset
/// from the start of this response body (a retried request starts again at 0).
public typealias BodySink = (UnsafeRawBufferPointer, Int) throws -> Void

/// The network seam of the REST client. The real one is ``CurlTransport``.
public protocol HTTPTransport: AnyObject {
    /// Sends `request`. A 2xx body goes to `sink` when one is given, otherwise into the response.
    func send(_ request: HTTPRequest, sink: BodySink?) throws -> HTTPResponse
}

/// The pages of one listing: a marker the server hands out twice, or more pages than any real listing of
/// ours needs, means a server that would keep a loop going forever (issue 15, item 7).
public struct ListingPages: Sendable {
    /// 10,000 pages of up to 5,000 items: 50 million entries, far past any user's share.
    public static let maxPages = 10_000
    let operation: String
    var seen: Set<String> = []
    /// Pages recorded so far.
    public private(set) var pages = 0

    public init(operation: String) { self.operation = operation }

    /// Records one page and its `NextMarker`; returns the marker to ask for next (nil: done).
    public mutating func next(_ marker: String?) throws -> String? {
        pages += 1
        guard let marker else { return nil }
        guard seen.insert(marker).inserted else {
            throw TransportError(
                kind: .misbehaves, code: 0,
                message:
                    "\(operation): the server handed out the same NextMarker twice (after \(pages) page(s)); the listing would never end"
            )
        }
        guard pages < Self.maxPages else {
            throw TransportError(
                kind: .misbehaves, code: 0, message: "\(operation): more than \(Self.maxPages) pages; stopped")
        }
        return marker
    }
}
