/// A secret value (an account key, a password). Its description is redacted so it cannot reach
/// a log line, an error message or `--json` output by string interpolation.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    private let value: String

    /// Wraps `value`. Callers read it back only with ``reveal()`` at the point of use.
    public init(_ value: String) { self.value = value }

    /// The secret text. Use only where the secret must leave the process (HMAC key, credentials file).
    public func reveal() -> String { value }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "Secret(<redacted>)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
    /// True when the secret is the empty string.
    public var isEmpty: Bool { value.isEmpty }
}
