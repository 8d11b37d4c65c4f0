import AzureFiles
import Credentials
import Glibc
import Ledger
import Mounting
import Orchestrator
import Storage
import SystemSupport

/// The one place that turns any error into a ``PusError`` (and so an exit status). The modules below the
/// command line throw their own errors with reasons in their own words; this table alone decides what each
/// reason means to a caller (pus-mount(8), EXIT STATUS).
enum ErrorMapping {
    static func kind(_ reason: OrchestratorError.Reason) -> PusError.Kind {
        switch reason {
        case .invalidArgument: return .badInput
        case .unknownUser: return .unknownUser
        case .notConfigured: return .config
        case .mountFailed: return .mountFailed
        case .timedOut: return .temporary
        case .refused, .failed: return .other
        case .keyRejected: return .permission
        }
    }

    static func kind(_ reason: StorageError.Reason) -> PusError.Kind {
        switch reason {
        case .badKey: return .config
        case .keyUnreadable, .foreignOwner, .untrustedDirectory: return .permission
        case .noShare, .ambiguous: return .other
        // A restorable deleted share is the user's storage missing, not a failure: the documented 67.
        case .deletedRestorable: return .unknownUser
        // Every account full or draining: temporary, an account can be added (issue 19).
        case .noCapacity: return .temporary
        }
    }

    static func kind(_ reason: CredentialsError.Reason) -> PusError.Kind {
        switch reason {
        case .badValue, .notInDirectory: return .config
        case .untrustedPath: return .permission
        }
    }

    static func kind(_ reason: FilePolicyError.Reason) -> PusError.Kind {
        switch reason {
        case .untrustedFile: return .config
        case .relativePath: return .badInput
        case .redirectable: return .permission
        }
    }

    static func pusError(_ error: any Error) -> PusError {
        switch error {
        case let e as PusError:
            return e
        case let e as OrchestratorError:
            return PusError(kind(e.reason), e.message, hint: e.hint)
        case let e as StorageError:
            return PusError(kind(e.reason), e.message, hint: e.hint)
        case let e as CredentialsError:
            return PusError(kind(e.reason), e.message, hint: e.hint)
        case let e as FilePolicyError:
            return PusError(kind(e.reason), e.message, hint: e.hint)
        case let e as AzureError:
            let requestID = e.requestID.map { " [request id \($0)]" } ?? ""
            // The service names every refusal with an error code (x-ms-error-code, <Code>). A 4xx without one
            // comes from something else at that address: a wrong file_endpoint, a proxy, a web server.
            if e.code == .none && (400..<500).contains(e.status) && ![403, 408, 429].contains(e.status) {
                return PusError(
                    .unavailable,
                    "\(e.operation): the endpoint answered HTTP \(e.status) without an Azure error code; it does not look like an Azure Files endpoint\(requestID)",
                    hint:
                        "check file_endpoint (or endpoint_suffix) in the configuration: https://ACCOUNT.file.core.windows.net, or http://HOST:PORT/ACCOUNT for the emulator"
                )
            }
            // The open-handle limit is the share's: the line names it, whatever path the operation was on.
            let on = e.code == .handleLimitExceeded ? e.resource.map { " on share \($0)" } ?? "" : ""
            let base =
                "\(e.operation): \(e.code == .none ? "HTTP \(e.status)" : "\(e.code) (HTTP \(e.status))")\(on): \(e.message)"
                + requestID
            if e.code == .invalidUri {
                return PusError(
                    .config, base,
                    hint:
                        "the service does not accept the request's URL: check that file_endpoint names this account (https://ACCOUNT.file.core.windows.net, or http://HOST:PORT/ACCOUNT)"
                )
            }
            switch (e.status, e.code) {
            case (403, _):
                return PusError(.permission, base, hint: e.hint)
            case (409, .shareBeingDeleted), (429, _), (408, _), (500, _), (502, _), (503, _), (504, _),
                (_, .handleLimitExceeded):
                return PusError(
                    .temporary, base,
                    hint: e.hint ?? "the service did not recover within the retry budget; try again later")
            default:
                return PusError(.other, base, hint: e.hint)
            }
        case let e as TransportError:
            switch e.kind {
            case .connect, .tls:
                return PusError(
                    .unavailable, "cannot reach the storage endpoint: \(e.message)",
                    hint:
                        "check the endpoint (file_endpoint / endpoint_suffix), DNS, proxy settings and that HTTPS (443) is allowed"
                )
            case .timeout:
                return PusError(
                    .temporary, "the storage endpoint did not answer in time: \(e.message)",
                    hint: "try again; [retry] total_seconds bounds every attempt")
            case .broken:
                return PusError(
                    .temporary, "the exchange with the storage endpoint broke off or was not HTTP: \(e.message)",
                    hint: "try again; check that file_endpoint is an Azure Files endpoint")
            case .sink:
                return PusError(.other, e.message)
            case .misbehaves:
                return PusError(
                    .unavailable, "the storage endpoint misbehaves: \(e.message)",
                    hint: "check that file_endpoint is an Azure Files endpoint; report it if it is Azure's")
            case .tooLarge:
                return PusError(
                    .other, e.message,
                    hint: "the endpoint is not an Azure Files endpoint, or it misbehaves; check file_endpoint")
            }
        case let e as ShareLookupError:
            let inner = pusError(e.underlying)
            return PusError(inner.kind, "\(e.description): \(inner.message)", hint: inner.hint)
        case let e as LedgerError:
            return PusError(.other, e.message, hint: e.hint)
        case let e as MountError:
            return PusError(e.timedOut ? .temporary : .mountFailed, e.description, hint: e.hint)
        case let e as FileLock.LockTimeout:
            return PusError(.temporary, e.description, hint: "another pus-mount is working on the same user; try again")
        case let e as SystemError:
            if e.errno == EACCES || e.errno == EPERM {
                return PusError(.permission, e.description, hint: "run pus-mount as root")
            }
            if e.errno == ENOSPC || e.errno == EDQUOT {
                // A full disk passes: temporary (75), and named by its directory, not by a temp file's name.
                let dir = e.path.map(AtomicFile.directory(of:)) ?? "pus-mount's state"
                return PusError(
                    .temporary,
                    "no space left on the file system holding \(dir) (\(e.errno == EDQUOT ? "disk quota exceeded" : "no space left on device"))",
                    hint: "free space there (df -h \(dir)), then try again")
            }
            return PusError(.other, e.description)
        default:
            return PusError(.other, Redaction.redact(String(describing: error)))
        }
    }
}

extension PusError {
    /// `message; hint: ...`, secrets redacted: for action lines and JSON fields.
    var oneLine: String { Redaction.redact(message + (hint.map { "; hint: \($0)" } ?? "")) }
}
