import SystemSupport

/// A non-2xx answer from the File service: the HTTP status, the Azure error code (from the XML body or
/// the `x-ms-error-code` header), the service's message, and the request ids to quote to support.
public struct AzureError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    /// Azure error code, for example `ShareAlreadyExists`, or "" when the service sent none.
    public let code: String
    public let message: String
    /// `x-ms-request-id` of the failed request.
    public let requestID: String?
    /// The `x-ms-client-request-id` we sent.
    public let clientRequestID: String?
    /// `AuthenticationErrorDetail` (the server's string-to-sign), for debugging signatures.
    public let authenticationDetail: String?
    /// What we were doing, for example `create share pus-alice-1a2b3c4d`.
    public let operation: String

    public init(status: Int, code: String, message: String, requestID: String? = nil, clientRequestID: String? = nil,
                authenticationDetail: String? = nil, operation: String) {
        self.status = status
        self.code = code
        self.message = message
        self.requestID = requestID
        self.clientRequestID = clientRequestID
        self.authenticationDetail = authenticationDetail
        self.operation = operation
    }

    /// Builds the error from a response: XML `<Error><Code/><Message/>...` or, for HEAD, the header.
    public static func from(_ response: HTTPResponse, operation: String, clientRequestID: String?) -> AzureError {
        let xml = XMLElement.parse(response.body)
        // Everything here is the server's text: control characters escaped (a terminal or a log line must
        // not be driven by it), lengths bounded.
        let code = (xml?.text(of: "Code") ?? response.headers["x-ms-error-code"] ?? "").escapingControls(limit: 128)
        var message = xml?.text(of: "Message") ?? ""
        if let firstLine = message.split(separator: "\n").first { message = String(firstLine) }
        if message.isEmpty { message = "HTTP \(response.status)" }
        return AzureError(status: response.status, code: code, message: Redaction.redact(message).escapingControls(limit: 1024),
                          requestID: response.headers["x-ms-request-id"].map { $0.escapingControls(limit: 128) }, clientRequestID: clientRequestID,
                          authenticationDetail: xml?.text(of: "AuthenticationErrorDetail").map { Redaction.redact($0).escapingControls(limit: 1024) },
                          operation: operation)
    }

    /// A hint that names the fix, for the codes an operator can act on.
    public var hint: String? {
        switch code {
        case "AuthenticationFailed":
            return "the account key was rejected: check the key file (line 1 key1, optional line 2 key2) and the node's clock"
        case let c where c.hasPrefix("Authorization"):
            return "the SAS or key does not allow this operation"
        case "ShareNotFound":
            return "the share does not exist: run `pus-mount provision <user>`"
        case "ShareBeingDeleted":
            return "the share is being deleted; try again in a minute"
        case "ServerBusy":
            return "the service is throttling requests; try again later"
        default:
            return nil
        }
    }

    public var description: String {
        var s = "\(operation): \(status) \(code.isEmpty ? "" : code + " ")\(message)"
        if let requestID { s += " (request id \(requestID))" }
        return s
    }
}
