import SystemSupport

/// A non-2xx answer from the File service: the HTTP status, the Azure error code (from the XML body or
/// the `x-ms-error-code` header), the service's message, and the request ids to quote to support.
public struct AzureError: Error, Sendable, CustomStringConvertible {
    public let status: Int
    /// Azure error code, for example ``Code/shareAlreadyExists``, or ``Code/none`` when the service sent none.
    public let code: Code
    public let message: String
    /// `x-ms-request-id` of the failed request.
    public let requestID: String?
    /// The `x-ms-client-request-id` we sent.
    public let clientRequestID: String?
    /// `AuthenticationErrorDetail` (the server's string-to-sign), for debugging signatures.
    public let authenticationDetail: String?
    /// What we were doing, for example `create share pus-alice-1a2b3c4d`.
    public let operation: String
    /// The share (or container) the request was about, when it named one (set by the client).
    public var resource: String?

    public init(
        status: Int, code: Code, message: String, requestID: String? = nil, clientRequestID: String? = nil,
        authenticationDetail: String? = nil, operation: String
    ) {
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
        let code = Code(
            rawValue: (xml?.text(of: "Code") ?? response.headers["x-ms-error-code"] ?? "").escapingControls(limit: 128))
        var message = xml?.text(of: "Message") ?? ""
        if let firstLine = message.split(separator: "\n").first { message = String(firstLine) }
        if message.isEmpty { message = "HTTP \(response.status)" }
        return AzureError(
            status: response.status, code: code, message: Redaction.redact(message).escapingControls(limit: 1024),
            requestID: response.headers["x-ms-request-id"].map { $0.escapingControls(limit: 128) },
            clientRequestID: clientRequestID,
            authenticationDetail: xml?.text(of: "AuthenticationErrorDetail").map {
                Redaction.redact($0).escapingControls(limit: 1024)
            },
            operation: operation)
    }

    /// A hint that names the fix, for the codes an operator can act on.
    public var hint: String? {
        switch code {
        case .authenticationFailed:
            return
                "the account key was rejected: check the key file (line 1 key1, optional line 2 key2) and the node's clock"
        case let c where c.rawValue.hasPrefix("Authorization"):
            return "the SAS or key does not allow this operation"
        case .shareNotFound:
            return "the share does not exist: run `pus-mount provision <user>`"
        case .shareBeingDeleted:
            return "the share is being deleted; try again in a minute"
        case .containerNotFound:
            return "the container does not exist: run `pus-mount provision <user> --blob`"
        case .containerBeingDeleted:
            return "the container is being deleted; try again in a minute"
        case .serverBusy:
            return
                "the service throttled the account past the retry budget (\(message)); try again later, or spread users over more accounts"
        case .handleLimitExceeded:
            return
                "\(resource.map { "share \($0)" } ?? "the share") is at the service's open-handle limit (10,000 on its root, 2,000 per file or directory): `pus-mount where <user>` lists the clients holding it open; close files there and try again"
        default:
            return nil
        }
    }

    /// A service limit an answer reported, counted across runs for the metrics file.
    public struct ServiceLimit: Hashable, Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            case throttled
            case handleLimit = "handle_limit"
            case accountFull = "account_full"
        }
        public let kind: Kind
        /// For throttling, the limit the message names: `ingress`, `egress`, `operations`, else `other`; empty
        /// for the other kinds.
        public let which: String
        public init(_ kind: Kind, _ which: String = "") {
            self.kind = kind
            self.which = which
        }
    }

    /// The service limit this answer reports (503 ServerBusy or any 503/429, HandleLimitExceeded,
    /// TotalSharesCountExceedsAccountLimit); nil for any other answer.
    public var serviceLimit: ServiceLimit? {
        switch code {
        case .handleLimitExceeded: return ServiceLimit(.handleLimit)
        case .totalSharesCountExceedsAccountLimit: return ServiceLimit(.accountFull)
        case .serverBusy: break
        default: guard status == 503 || status == 429 else { return nil }
        }
        let m = message.lowercased()
        if m.hasPrefix("ingress") { return ServiceLimit(.throttled, "ingress") }
        if m.hasPrefix("egress") { return ServiceLimit(.throttled, "egress") }
        if m.contains("operations per second") { return ServiceLimit(.throttled, "operations") }
        return ServiceLimit(.throttled, "other")
    }

    public var description: String {
        var s = "\(operation): \(status) \(code == .none ? "" : code.rawValue + " ")\(message)"
        if let requestID { s += " (request id \(requestID))" }
        return s
    }
}

extension AzureError {
    /// An Azure Storage error code (`<Code>` or `x-ms-error-code`): one home for each string the client, the
    /// locator, the CLI's error mapping and the emulator use. A code this table does not name is kept as sent.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No code sent (a HEAD, or a server that is not Azure).
        public static let none = Code(rawValue: "")
        public static let authenticationFailed = Code(rawValue: "AuthenticationFailed")
        public static let authorizationFailure = Code(rawValue: "AuthorizationFailure")
        public static let authorizationPermissionMismatch = Code(rawValue: "AuthorizationPermissionMismatch")
        public static let authorizationProtocolMismatch = Code(rawValue: "AuthorizationProtocolMismatch")
        public static let authorizationResourceTypeMismatch = Code(rawValue: "AuthorizationResourceTypeMismatch")
        public static let authorizationServiceMismatch = Code(rawValue: "AuthorizationServiceMismatch")
        public static let authorizationSourceIPMismatch = Code(rawValue: "AuthorizationSourceIPMismatch")
        public static let blobAlreadyExists = Code(rawValue: "BlobAlreadyExists")
        public static let blobNotFound = Code(rawValue: "BlobNotFound")
        public static let blockCountExceedsLimit = Code(rawValue: "BlockCountExceedsLimit")
        public static let blockListTooLong = Code(rawValue: "BlockListTooLong")
        public static let cannotVerifyCopySource = Code(rawValue: "CannotVerifyCopySource")
        public static let conditionNotMet = Code(rawValue: "ConditionNotMet")
        public static let containerAlreadyExists = Code(rawValue: "ContainerAlreadyExists")
        public static let containerBeingDeleted = Code(rawValue: "ContainerBeingDeleted")
        public static let containerNotFound = Code(rawValue: "ContainerNotFound")
        public static let directoryNotEmpty = Code(rawValue: "DirectoryNotEmpty")
        public static let handleLimitExceeded = Code(rawValue: "HandleLimitExceeded")
        public static let internalError = Code(rawValue: "InternalError")
        public static let invalidBlobOrBlock = Code(rawValue: "InvalidBlobOrBlock")
        public static let invalidBlockList = Code(rawValue: "InvalidBlockList")
        public static let invalidFileOrDirectoryPathName = Code(rawValue: "InvalidFileOrDirectoryPathName")
        public static let invalidHeaderValue = Code(rawValue: "InvalidHeaderValue")
        public static let invalidInput = Code(rawValue: "InvalidInput")
        public static let invalidMd5 = Code(rawValue: "InvalidMd5")
        public static let invalidMetadata = Code(rawValue: "InvalidMetadata")
        public static let invalidQueryParameterValue = Code(rawValue: "InvalidQueryParameterValue")
        public static let invalidRange = Code(rawValue: "InvalidRange")
        public static let invalidResourceName = Code(rawValue: "InvalidResourceName")
        public static let invalidUri = Code(rawValue: "InvalidUri")
        public static let invalidXmlDocument = Code(rawValue: "InvalidXmlDocument")
        public static let md5Mismatch = Code(rawValue: "Md5Mismatch")
        public static let missingRequiredHeader = Code(rawValue: "MissingRequiredHeader")
        public static let noPendingCopyOperation = Code(rawValue: "NoPendingCopyOperation")
        public static let outOfRangeInput = Code(rawValue: "OutOfRangeInput")
        public static let outOfRangeQueryParameterValue = Code(rawValue: "OutOfRangeQueryParameterValue")
        public static let parentNotFound = Code(rawValue: "ParentNotFound")
        public static let readOnlyAttribute = Code(rawValue: "ReadOnlyAttribute")
        public static let requestBodyTooLarge = Code(rawValue: "RequestBodyTooLarge")
        public static let resourceAlreadyExists = Code(rawValue: "ResourceAlreadyExists")
        public static let resourceNotFound = Code(rawValue: "ResourceNotFound")
        public static let resourceTypeMismatch = Code(rawValue: "ResourceTypeMismatch")
        public static let serverBusy = Code(rawValue: "ServerBusy")
        public static let shareAlreadyExists = Code(rawValue: "ShareAlreadyExists")
        public static let shareBeingDeleted = Code(rawValue: "ShareBeingDeleted")
        public static let shareHasSnapshots = Code(rawValue: "ShareHasSnapshots")
        public static let shareNotFound = Code(rawValue: "ShareNotFound")
        public static let shareSnapshotNotFound = Code(rawValue: "ShareSnapshotNotFound")
        public static let totalSharesCountExceedsAccountLimit = Code(rawValue: "TotalSharesCountExceedsAccountLimit")
        public static let unsupportedHttpVerb = Code(rawValue: "UnsupportedHttpVerb")
    }
}
