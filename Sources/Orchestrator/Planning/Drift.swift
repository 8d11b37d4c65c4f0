import Credentials

/// The kinds of drift reconcile finds (SPEC.md, "Lifecycle on a node").
public enum DriftKind: String, CaseIterable, Sendable, Comparable {
    case deadLease = "dead_lease"
    case lingerExpired = "linger_expired"
    case missing
    case stale
    case orphan
    case optionDrift = "option_drift"
    case credentialDrift = "credential_drift"
    case unusedCredentials = "unused_credentials"

    public static func < (a: DriftKind, b: DriftKind) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One piece of drift and what reconcile does about it.
public struct Finding: Sendable, Equatable {
    public enum Disposition: String, Sendable {
        /// Repaired by the steps.
        case repair
        /// Left for now by policy: live sessions hold the mount; it is repaired once they end.
        case deferred
        /// Needs a person (or `--prune`): reported, not repaired. The node is not converged.
        case reported
    }

    /// What the finding does, as the human output marks it.
    public enum Op: Character, Sendable {
        case add = "+"
        case change = "~"
        case remove = "-"
        /// Reported, deferred, skipped or failed: needs a look.
        case attention = "!"
    }

    public var kind: DriftKind
    /// A user name, `volume NAME`, or a path.
    public var subject: String
    public var op: Op
    /// One line: what was found and what is (or would be) done.
    public var what: String
    public var disposition: Disposition
    public var steps: [Step]

    public init(_ kind: DriftKind, subject: String, op: Op, what: String, disposition: Disposition, steps: [Step] = [])
    {
        self.kind = kind
        self.subject = subject
        self.op = op
        self.what = what
        self.disposition = disposition
        self.steps = steps
    }
}

/// How a credentials file compares with what the current key files would write.
public typealias CredentialState = CredentialsCheck
