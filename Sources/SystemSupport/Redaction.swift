/// Removes secrets from free text before it is logged or shown: SAS signatures (`sig=`),
/// `Authorization` header values (and bare `SharedKey acct:sig`), and `password*=` assignments.
public enum Redaction {
    /// Markers after which the value up to a stop byte is replaced, matched case-insensitively.
    private static let markers: [(marker: [UInt8], stops: Set<UInt8>, wordOnly: Bool)] = [
        (Array("sig=".utf8), Set(Array("& \n\r\"'<".utf8)), false),
        (Array("authorization:".utf8), Set(Array("\n\r".utf8)), false),
        (Array("sharedkey ".utf8), Set(Array("\n\r \"'".utf8)), false),
        (Array("password".utf8), Set(Array(",\n\r \"'&".utf8)), true),
    ]

    /// Returns `text` with every secret value replaced by `REDACTED`.
    public static func redact(_ text: String) -> String {
        let bytes = Array(text.utf8)
        let lower = bytes.map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        outer: while i < bytes.count {
            for m in markers where matches(lower, at: i, m.marker) {
                var j = i + m.marker.count
                if m.wordOnly {
                    // password, password2, password_x ... must be followed by '='
                    while j < bytes.count, isWord(lower[j]) { j += 1 }
                    guard j < bytes.count, bytes[j] == UInt8(ascii: "=") else { continue }
                    j += 1
                }
                out.append(contentsOf: bytes[i..<j])
                var k = j
                while k < bytes.count, bytes[k] == UInt8(ascii: " "), !m.wordOnly {
                    out.append(bytes[k])
                    k += 1
                }
                let start = k
                while k < bytes.count, !m.stops.contains(bytes[k]) { k += 1 }
                if k > start { out.append(contentsOf: Array("REDACTED".utf8)) }
                i = k
                continue outer
            }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func matches(_ hay: [UInt8], at i: Int, _ needle: [UInt8]) -> Bool {
        guard i + needle.count <= hay.count else { return false }
        for k in 0..<needle.count where hay[i + k] != needle[k] { return false }
        return true
    }

    private static func isWord(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c == 95
    }
}
