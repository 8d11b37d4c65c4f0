/// Percent-encoding as the Azure SDK does it (upper-case hex, UTF-8), so signed paths match byte for byte.
public enum PercentEncoding {
    private static let unreserved: Set<UInt8> = Set(
        Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~".utf8))
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Escapes everything but `A-Z a-z 0-9 _ . - ~` and the bytes in `safe` (Python's `quote(s, safe=...)`).
    public static func encode(_ text: String, safe: String = "") -> String {
        let safeBytes = Set(Array(safe.utf8))
        var out = [UInt8]()
        for b in text.utf8 {
            if unreserved.contains(b) || safeBytes.contains(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hexDigits[Int(b >> 4)])
                out.append(hexDigits[Int(b & 15)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Encodes a share-relative path segment by segment, keeping `/` between segments.
    public static func encodePath(_ path: String) -> String {
        path.split(separator: "/", omittingEmptySubsequences: true).map { encode(String($0)) }.joined(separator: "/")
    }

    /// Decodes `%XX` escapes (Python's `unquote`: `+` stays `+`; invalid escapes are kept as written).
    public static func decode(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%"), i + 2 < bytes.count, let h = hexValue(bytes[i + 1]),
                let l = hexValue(bytes[i + 2])
            {
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
