import AzureFilesEmulator
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SystemSupport

/// Per-request context carrying the peer address (SAS `sip` checks).
struct EmulatorContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    let remoteIP: String

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteIP = source.channel.remoteAddress?.ipAddress ?? ""
    }
}

/// The HTTP face of ``EmulatorCore`` on Hummingbird: raw path and query in, status, headers and a
/// (streamed) body out.
struct EmulatorResponder: HTTPResponder {
    public typealias Context = EmulatorContext
    let core: EmulatorCore
    let treatHTTPAsHTTPS: Bool
    let log: Bool
    /// True on the Blob listener.
    let blob: Bool

    public init(core: EmulatorCore, treatHTTPAsHTTPS: Bool, log: Bool, blob: Bool = false) {
        self.core = core
        self.blob = blob
        self.treatHTTPAsHTTPS = treatHTTPAsHTTPS
        self.log = log
    }

    public func respond(to request: Request, context: EmulatorContext) async throws -> Response {
        let raw = request.uri.string
        let pathEnd = raw.firstIndex(of: "?") ?? raw.endIndex
        var rawPath = String(raw[..<pathEnd])
        var host = request.head.authority
        if let scheme = rawPath.firstRange(of: "://") {  // absolute-form request target (a client's proxy setting)
            let rest = rawPath[scheme.upperBound...]
            let slash = rest.firstIndex(of: "/")
            host = String(rest[..<(slash ?? rest.endIndex)])
            rawPath = slash.map { String(rest[$0...]) } ?? "/"
        }
        let rawQuery = pathEnd < raw.endIndex ? String(raw[raw.index(after: pathEnd)...]) : ""
        var headers = request.headers.map { ($0.name.rawName, $0.value) }
        // HTTPTypes keeps Host as the authority, not a header: the core reads host-style accounts from it.
        if let host { headers.append(("Host", host)) }
        // Blob: a Put Blob of a 2019-02-02 client may be 256 MiB (a larger one is refused by the body limit of
        // its version, not here); Files: a Put Range is at most 4 MiB.
        let body = try await request.body.collect(upTo: blob ? 320 << 20 : 5 << 20)
        let r = EmulatorRequest(
            method: request.method.rawValue, rawPath: rawPath, rawQuery: rawQuery, headers: headers,
            body: Array(buffer: body), remoteIP: context.remoteIP,
            isHTTPS: treatHTTPAsHTTPS)
        let latency = core.injectedLatencyMs()
        if latency > 0 { try await Task.sleep(nanoseconds: UInt64(latency) * 1_000_000) }
        let out = blob ? core.handleBlob(r) : core.handle(r)
        if log {
            let code = out.headers.first { $0.0 == "x-ms-error-code" }.map { " " + $0.1 } ?? ""
            FileHandle.standardError.write(
                Data(
                    "\(blob ? EmulatorCore.blobOperationName(r) : EmulatorCore.operationName(r)) \(r.method) \(Redaction.redact(rawPath + "?" + rawQuery)) -> \(out.status)\(code)\n"
                        .utf8))
        }
        var fields = HTTPFields()
        for (k, v) in out.headers { if let name = HTTPField.Name(k) { fields.append(HTTPField(name: name, value: v)) } }
        if out.dropConnection {
            // Promise a body and break off: the client sees a connection reset mid-response.
            return Response(
                status: .ok, headers: fields,
                body: ResponseBody(contentLength: 64) { _ in
                    throw CancellationError()
                })
        }
        if request.method == .head {
            if case .descriptor(let fd, _, _) = out.body { close(fd) }
            return Response(status: .init(code: out.status), headers: fields, body: ResponseBody())
        }
        switch out.body {
        case .bytes(let b):
            var buf = ByteBuffer()
            buf.writeBytes(b)
            return Response(status: .init(code: out.status), headers: fields, body: ResponseBody(byteBuffer: buf))
        case .descriptor(let fd, let offset, let length):
            let file = OwnedDescriptor(fd)
            return Response(
                status: .init(code: out.status), headers: fields,
                body: ResponseBody(contentLength: Int(length)) { writer in
                    var done: Int64 = 0
                    var buf = [UInt8](repeating: 0, count: 1 << 20)
                    while done < length {
                        let want = Int(min(Int64(buf.count), length - done))
                        let n = buf.withUnsafeMutableBytes { b in
                            Syscalls.retryingInterrupts { pread(file.fd, b.baseAddress, want, off_t(offset + done)) }
                        }
                        guard n > 0 else { throw CancellationError() }
                        var out = ByteBuffer()
                        out.writeBytes(buf[0..<n])
                        try await writer.write(out)
                        done += Int64(n)
                    }
                    try await writer.finish(nil)
                })
        }
    }
}

/// Builds the Hummingbird application serving ``EmulatorCore`` on `host:port`.
enum EmulatorServer {
    public static func application(
        core: EmulatorCore, host: String, port: Int, treatHTTPAsHTTPS: Bool, log: Bool, blob: Bool = false,
        onRunning: @escaping @Sendable (Int) async -> Void
    ) -> some ApplicationProtocol {
        var logger = Logger(label: "azfiles-emulator")
        logger.logLevel = .warning
        return Application(
            responder: EmulatorResponder(core: core, treatHTTPAsHTTPS: treatHTTPAsHTTPS, log: log, blob: blob),
            configuration: .init(address: .hostname(host, port: port), serverName: "azfiles-emulator"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
            logger: logger)
    }
}

/// A descriptor closed when the last reference goes (a response body may never be read).
final class OwnedDescriptor: @unchecked Sendable {
    let fd: Int32
    init(_ fd: Int32) { self.fd = fd }
    deinit { close(fd) }
}
