/// A small XML reader for the service's response bodies (errors and listings): elements, attributes,
/// text, the five named entities and numeric character references. No DTDs, no namespaces.
public struct XMLElement: Sendable {
    public var name: String
    public var attributes: [String: String]
    public var children: [XMLElement]
    public var text: String

    /// The first child named `name`.
    public func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    /// All children named `name`.
    public func all(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }
    /// Text of the first child named `name`.
    public func text(of name: String) -> String? { child(name)?.text }

    /// Elements nested deeper than this make the document malformed (the parser recurses once per level: an
    /// endpoint's body of two million nested elements must not exhaust the stack).
    public static let maxDepth = 64
    /// Larger documents are refused outright (a listing page is a few MiB at most).
    public static let maxBytes = 32 << 20

    /// Parses a document and returns its root element (nil when malformed, too deep or too large).
    public static func parse(_ bytes: [UInt8]) -> XMLElement? {
        guard bytes.count <= maxBytes else { return nil }
        var p = Parser(b: bytes)
        return p.document()
    }

    /// Escapes text for element content and attribute values.
    public static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }
}

private struct Parser {
    let b: [UInt8]
    var i = 0
    var depth = 0

    mutating func document() -> XMLElement? {
        while true {
            skipSpace()
            if starts("<?") {
                guard skip(past: "?>") else { return nil }
            } else if starts("<!--") {
                guard skip(past: "-->") else { return nil }
            } else if starts("<!") {
                guard skip(past: ">") else { return nil }
            } else {
                break
            }
        }
        return element()
    }

    mutating func element() -> XMLElement? {
        guard i < b.count, b[i] == UInt8(ascii: "<") else { return nil }
        depth += 1
        defer { depth -= 1 }
        guard depth <= XMLElement.maxDepth else { return nil }
        i += 1
        let name = readName()
        guard !name.isEmpty else { return nil }
        var el = XMLElement(name: name, attributes: [:], children: [], text: "")
        while true {
            skipSpace()
            guard i < b.count else { return nil }
            if starts("/>") {
                i += 2
                return el
            }
            if b[i] == UInt8(ascii: ">") {
                i += 1
                break
            }
            let attr = readName()
            skipSpace()
            guard !attr.isEmpty, i < b.count, b[i] == UInt8(ascii: "=") else { return nil }
            i += 1
            skipSpace()
            guard i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") else { return nil }
            let q = b[i]
            i += 1
            let start = i
            while i < b.count, b[i] != q { i += 1 }
            guard i < b.count else { return nil }
            el.attributes[attr] = decodeEntities(Array(b[start..<i]))
            i += 1
        }
        var text: [UInt8] = []
        while i < b.count {
            if starts("</") {
                i += 2
                let close = readName()
                skipSpace()
                guard close == name, i < b.count, b[i] == UInt8(ascii: ">") else { return nil }
                i += 1
                el.text = decodeEntities(text)
                return el
            } else if starts("<!--") {
                guard skip(past: "-->") else { return nil }
            } else if starts("<![CDATA[") {
                i += 9
                let start = i
                guard skip(past: "]]>") else { return nil }
                text += b[start..<(i - 3)]
            } else if b[i] == UInt8(ascii: "<") {
                guard let child = element() else { return nil }
                el.children.append(child)
            } else {
                text.append(b[i])
                i += 1
            }
        }
        return nil
    }

    func starts(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard i + u.count <= b.count else { return false }
        for k in 0..<u.count where b[i + k] != u[k] { return false }
        return true
    }

    mutating func skip(past s: String) -> Bool {
        while i < b.count {
            if starts(s) {
                i += s.utf8.count
                return true
            }
            i += 1
        }
        return false
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
    }

    mutating func readName() -> String {
        let start = i
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 9 || c == 10 || c == 13 || c == UInt8(ascii: ">") || c == UInt8(ascii: "/")
                || c == UInt8(ascii: "=")
            {
                break
            }
            i += 1
        }
        return String(decoding: b[start..<i], as: UTF8.self)
    }

    func decodeEntities(_ raw: [UInt8]) -> String {
        let s = String(decoding: raw, as: UTF8.self)
        guard s.contains("&") else { return s }
        var out = ""
        var rest = Substring(s)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else {
                out += rest[amp...]
                return out
            }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                var scalar: UInt32?
                if entity.hasPrefix("#x") {
                    scalar = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    scalar = UInt32(entity.dropFirst(1))
                }
                if let v = scalar, let u = Unicode.Scalar(v) {
                    out.unicodeScalars.append(u)
                } else {
                    out += rest[amp...semi]
                }
            }
            rest = rest[rest.index(after: semi)...]
        }
        return out + rest
    }
}
