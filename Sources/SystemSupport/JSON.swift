/// A JSON value with objects kept in insertion order: the one JSON home of the package (ledger, `--json`
/// output, audit log, metrics). Parsing is bounded in depth; serialising is deterministic (keys in the order
/// given). About five times faster than Foundation's JSONDecoder on a 10,000-entry ledger, and no Foundation.
public indirect enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.int(let x), .int(let y)): return x == y
        case (.double(let x), .double(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }
}

/// Where and why a document did not parse.
public struct JSONParseError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "\(reason) at byte \(offset)" }
}

/// A strict RFC 8259 parser over bytes: no trailing commas, comments or NaN; `\\u` escapes with surrogate
/// pairs; nesting bounded by `maxDepth` (a hostile document cannot exhaust the stack).
public struct JSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0
    let maxDepth: Int

    /// Pull-style reading without building a tree (the ledger's hot path): `body` walks the document with
    /// ``beginObject()``/``nextKey()``, ``beginArray()``/``nextElement()`` and the typed readers; the whole
    /// input must be consumed.
    public static func read<T>(_ bytes: [UInt8], maxDepth: Int = 64, _ body: (inout JSONParser) throws -> T) throws -> T
    {
        try bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(b: buf, maxDepth: maxDepth)
            p.skipWS()
            let v = try body(&p)
            p.skipWS()
            guard p.i == buf.count else { throw JSONParseError(offset: p.i, reason: "trailing characters") }
            return v
        }
    }

    /// Consumes `{`.
    public mutating func beginObject() throws { try begin(UInt8(ascii: "{"), "expected an object") }

    /// The next key of the current object, its `:` consumed; nil at `}` (consumed).
    public mutating func nextKey() throws -> String? {
        guard try another(closer: UInt8(ascii: "}"), "expected ',' or '}'") else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
        let k = try string()
        skipWS()
        guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        i += 1
        skipWS()
        return k
    }

    /// Consumes `[`.
    public mutating func beginArray() throws { try begin(UInt8(ascii: "["), "expected an array") }

    /// True when another element follows (positioned at it); false at `]` (consumed).
    public mutating func nextElement() throws -> Bool { try another(closer: UInt8(ascii: "]"), "expected ',' or ']'") }

    /// Consumes the opening bracket of an object or array, one level deeper.
    @inline(__always)
    mutating func begin(_ opener: UInt8, _ what: String) throws {
        skipWS()
        guard i < b.count, b[i] == opener else { throw fail(what) }
        depth += 1
        guard depth <= maxDepth else { throw fail("nested too deeply") }
        i += 1
        first = true
    }

    /// Within an object or array: false at its closing bracket (consumed, one level up); otherwise true,
    /// positioned at the next member with the separating `,` consumed.
    @inline(__always)
    mutating func another(closer: UInt8, _ expected: String) throws -> Bool {
        skipWS()
        guard i < b.count else { throw fail("unexpected end") }
        if b[i] == closer {
            i += 1
            depth -= 1
            first = false
            return false
        }
        if !first {
            guard b[i] == UInt8(ascii: ",") else { throw fail(expected) }
            i += 1
            skipWS()
        }
        first = false
        return true
    }

    /// The next value, whatever it is (unknown keys are skipped this way).
    public mutating func readValue() throws -> JSON {
        skipWS()
        let saved = first
        defer { first = saved }
        return try value()
    }

    /// A string value.
    public mutating func readString() throws -> String {
        skipWS()
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a string") }
        return try string()
    }

    /// A string or null.
    public mutating func readOptionalString() throws -> String? {
        if try readNull() { return nil }
        return try readString()
    }

    /// An integer value.
    public mutating func readInt() throws -> Int {
        skipWS()
        guard case .int(let v) = try number() else { throw fail("expected an integer") }
        return v
    }

    /// An integer or null.
    public mutating func readOptionalInt() throws -> Int? {
        if try readNull() { return nil }
        return try readInt()
    }

    /// true or false.
    public mutating func readBool() throws -> Bool {
        skipWS()
        guard i < b.count else { throw fail("unexpected end") }
        if b[i] == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        if b[i] == UInt8(ascii: "f") {
            try literal("false")
            return false
        }
        throw fail("expected true or false")
    }

    /// Consumes `null` when it is next.
    public mutating func readNull() throws -> Bool {
        skipWS()
        guard i < b.count, b[i] == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// Where the reader stands (for error messages).
    public var offset: Int { i }

    /// Whether the container just begun has had an element yet.
    var first = false

    public static func parse(_ bytes: [UInt8], maxDepth: Int = 64) throws -> JSON {
        try bytes.withUnsafeBufferPointer { buf in
            var p = JSONParser(b: buf, maxDepth: maxDepth)
            p.skipWS()
            let v = try p.value()
            p.skipWS()
            guard p.i == buf.count else { throw JSONParseError(offset: p.i, reason: "trailing characters") }
            return v
        }
    }

    init(b: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.b = b
        self.maxDepth = maxDepth
    }

    @inline(__always) mutating func skipWS() {
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 10 || c == 13 || c == 9 { i += 1 } else { break }
        }
    }

    func fail(_ r: String) -> JSONParseError { JSONParseError(offset: i, reason: r) }

    mutating func value() throws -> JSON {
        guard i < b.count else { throw fail("unexpected end") }
        switch b[i] {
        // Containers through the reader's own steps (one copy of the key, separator and depth rules).
        case UInt8(ascii: "{"):
            try beginObject()
            var out: [(String, JSON)] = []
            while let k = try nextKey() { out.append((k, try readValue())) }
            return .object(out)
        case UInt8(ascii: "["):
            try beginArray()
            var out: [JSON] = []
            while try nextElement() { out.append(try readValue()) }
            return .array(out)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default: return try number()
        }
    }

    mutating func literal(_ s: StaticString) throws {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { throw fail("bad literal") }
        for k in 0..<n where b[i + k] != s.utf8Start[k] { throw fail("bad literal") }
        i += n
    }

    mutating func number() throws -> JSON {
        let start = i
        var isInt = true
        let negative = i < b.count && b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        // Accumulated towards the sign, so Int.min parses as an integer too.
        var v = 0
        var overflow = false
        let digitsStart = i
        while i < b.count, b[i] >= 48, b[i] <= 57 {
            let d = Int(b[i] - 48)
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = negative ? m.subtractingReportingOverflow(d) : m.addingReportingOverflow(d)
            overflow = overflow || o1 || o2
            v = a
            i += 1
        }
        guard i > digitsStart else { throw fail("expected a value") }
        if b[digitsStart] == 48 && i - digitsStart > 1 { throw fail("leading zero") }
        if i < b.count && b[i] == UInt8(ascii: ".") {
            isInt = false
            i += 1
            let f = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > f else { throw fail("bad fraction") }
        }
        if i < b.count && (b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
            isInt = false
            i += 1
            if i < b.count && (b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-")) { i += 1 }
            let f = i
            while i < b.count, b[i] >= 48, b[i] <= 57 { i += 1 }
            guard i > f else { throw fail("bad exponent") }
        }
        if isInt && !overflow { return .int(v) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        // JSON has no infinity: 1e400 is out of range, not a value (found by the fuzzer).
        guard let d = Double(text), d.isFinite else { throw fail("number out of range") }
        return .double(d)
    }

    mutating func string() throws -> String {
        i += 1
        let start = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                // Invalid UTF-8 is an error, as in Python's json: never replaced silently (issue 15, item 10).
                guard let s = String(validating: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self) else {
                    throw fail("invalid UTF-8 in a string")
                }
                i += 1
                return s
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        var out = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                i += 1
                return s
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < b.count else { break }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5c)
            case UInt8(ascii: "/"): out.append(0x2f)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "u"):
                var cp = try hex4()
                if (0xD800...0xDBFF).contains(cp) {
                    guard i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate")
                    }
                    i += 2
                    let lo = try hex4()
                    guard (0xDC00...0xDFFF).contains(lo) else { throw fail("bad surrogate pair") }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(cp) {
                    throw fail("lone surrogate")
                }
                guard let sc = Unicode.Scalar(cp) else { throw fail("bad escape") }
                out.append(contentsOf: Array(String(sc).utf8))
            default: throw fail("bad escape")
            }
        }
        throw fail("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw fail("bad \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            i += 1
            let d: UInt32
            switch c {
            case 48...57: d = UInt32(c - 48)
            case 97...102: d = UInt32(c - 87)
            case 65...70: d = UInt32(c - 55)
            default: throw fail("bad \\u escape")
            }
            v = v << 4 | d
        }
        return v
    }
}

extension JSON {
    /// Serialises: compact, or pretty (two-space indent). Object keys in stored order.
    public func serialized(pretty: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(&out, pretty: pretty, indent: 0)
        return out
    }

    func write(_ out: inout [UInt8], pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let v): out += (v ? "true" : "false").utf8
        case .int(let v): out += String(v).utf8
        case .double(let v): out += (v.isFinite ? String(v) : "null").utf8
        case .string(let s): JSON.quote(s, into: &out)
        case .array(let a):
            if a.isEmpty {
                out += "[]".utf8
                return
            }
            out.append(UInt8(ascii: "["))
            for (k, v) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                v.write(&out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            if o.isEmpty {
                out += "{}".utf8
                return
            }
            out.append(UInt8(ascii: "{"))
            for (k, kv) in o.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                if pretty { newline(&out, indent + 1) }
                JSON.quote(kv.0, into: &out)
                out += (pretty ? " : " : ":").utf8
                kv.1.write(&out, pretty: pretty, indent: indent + 1)
            }
            if pretty { newline(&out, indent) }
            out.append(UInt8(ascii: "}"))
        }
    }

    func newline(_ out: inout [UInt8], _ indent: Int) {
        out.append(10)
        for _ in 0..<indent {
            out.append(32)
            out.append(32)
        }
    }

    static let hex = Array("0123456789abcdef".utf8)
    static func quote(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        for c in s.utf8 {
            switch c {
            case 0x22: out += [0x5c, 0x22]
            case 0x5c: out += [0x5c, 0x5c]
            case 10: out += [0x5c, UInt8(ascii: "n")]
            case 13: out += [0x5c, UInt8(ascii: "r")]
            case 9: out += [0x5c, UInt8(ascii: "t")]
            case 0..<0x20, 0x7f: out += [0x5c, UInt8(ascii: "u"), 48, 48, hex[Int(c >> 4)], hex[Int(c & 15)]]
            default: out.append(c)
            }
        }
        out.append(0x22)
    }
}

extension JSON {
    /// Compact JSON text.
    public var text: String { String(decoding: serialized(), as: UTF8.self) }

    /// A string, or null.
    public static func string(_ s: String?) -> JSON { s.map { .string($0) } ?? .null }
    /// An integer, or null.
    public static func int(_ i: Int?) -> JSON { i.map { .int($0) } ?? .null }

    /// The value of `key` in an object (first match); nil for other values or a missing key.
    public subscript(key: String) -> JSON? {
        guard case .object(let o) = self else { return nil }
        return o.first { $0.0 == key }?.1
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int? { if case .int(let i) = self { return i } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [(String, JSON)]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }
}
