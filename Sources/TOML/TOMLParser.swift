/// The parser proper: one statement at a time over Unicode scalars, tables built as references while parsing
/// (``Node``), and tomllib's flags deciding what may still be defined (``Flags``).
struct TOMLParser {
    private let src: [Unicode.Scalar]
    private var pos = 0
    /// How deep arrays and inline tables are nested at this point.
    private var depth = 0
    /// Bounds that keep every recursion (this parser's, building the table, freeing it) shallow: a document
    /// of a few hundred kilobytes once nested 50,000 deep and crashed the reader (issue 15, item 10). Real
    /// configurations nest two or three levels.
    static let maxNesting = 64
    static let maxKeyParts = 64

    init(_ text: String) { self.init(scalars: Array(text.unicodeScalars)) }

    init(scalars: [Unicode.Scalar]) {
        // TOML allows CRLF line ends; like tomllib, read them as LF (a lone CR stays, and is refused).
        var s: [Unicode.Scalar] = []
        s.reserveCapacity(scalars.count)
        var i = 0
        while i < scalars.count {
            if scalars[i] == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" {
                i += 1
                continue
            }
            s.append(scalars[i])
            i += 1
        }
        src = s
    }

    // MARK: characters

    static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || c.value == 0x7f }
    static func isWS(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" }
    static func isBare(_ c: Unicode.Scalar) -> Bool {
        (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "-" || c == "_"
    }
    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    static func isHex(_ c: Unicode.Scalar) -> Bool { isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F") }

    func at(_ i: Int) -> Unicode.Scalar? { i < src.count ? src[i] : nil }
    var char: Unicode.Scalar? { at(pos) }

    func starts(_ s: String, at i: Int? = nil) -> Bool {
        var k = i ?? pos
        for c in s.unicodeScalars {
            guard k < src.count, src[k] == c else { return false }
            k += 1
        }
        return true
    }

    func error(_ message: String, at i: Int? = nil) -> TOMLError {
        let p = min(i ?? pos, src.count)
        var line = 1
        var lineStart = 0
        for k in 0..<p where src[k] == "\n" {
            line += 1
            lineStart = k + 1
        }
        return TOMLError(
            line: line, column: p - lineStart + 1,
            message: p >= src.count && i == nil && pos >= src.count
                ? message + " (at the end of the document)" : message)
    }

    mutating func skipWS() { while let c = char, Self.isWS(c) { pos += 1 } }

    mutating func skipComment() throws {
        guard char == "#" else { return }
        pos += 1
        while let c = char, c != "\n" {
            if Self.isControl(c) && c != "\t" {
                throw error("a control character (U+\(String(c.value, radix: 16, uppercase: true))) in a comment")
            }
            pos += 1
        }
    }

    mutating func skipCommentsAndArrayWS() throws {
        while true {
            let before = pos
            while let c = char, Self.isWS(c) || c == "\n" { pos += 1 }
            try skipComment()
            if pos == before { return }
        }
    }

    // MARK: document

    mutating func document() throws -> TOMLTable {
        let root = Node()
        let flags = Flags()
        var header: [String] = []
        while true {
            skipWS()
            guard let c = char else { break }
            if c == "\n" {
                pos += 1
                continue
            }
            if Self.isBare(c) || c == "\"" || c == "'" {
                try keyValueRule(root, flags, header)
                skipWS()
            } else if c == "[" {
                flags.finalizePending()
                if at(pos + 1) == "[" {
                    header = try arrayTableRule(root, flags)
                } else {
                    header = try tableRule(root, flags)
                }
                skipWS()
            } else if c != "#" {
                throw error(
                    Self.isControl(c)
                        ? "a control character (U+\(String(c.value, radix: 16, uppercase: true))) where TOML allows none"
                        : "invalid statement")
            }
            try skipComment()
            guard let end = char else { break }
            guard end == "\n" else { throw error("expected a new line or the end of the document after a statement") }
            pos += 1
        }
        return root.table
    }

    mutating func tableRule(_ root: Node, _ flags: Flags) throws -> [String] {
        pos += 1
        skipWS()
        let key = try parseKey()
        if flags.has(key, .explicitNest) || flags.has(key, .frozen) {
            throw error("table [\(Self.show(key))] is defined twice")
        }
        flags.set(key, .explicitNest, recursive: false)
        guard root.nest(key, accessLists: true) != nil else {
            throw error("[\(Self.show(key))] would overwrite a value")
        }
        guard char == "]" else { throw error("expected ']' at the end of a table header") }
        pos += 1
        return key
    }

    mutating func arrayTableRule(_ root: Node, _ flags: Flags) throws -> [String] {
        pos += 2
        skipWS()
        let key = try parseKey()
        if flags.has(key, .frozen) { throw error("[[\(Self.show(key))]] would change an inline array or table") }
        flags.unsetAll(key)
        flags.set(key, .explicitNest, recursive: false)
        guard let parent = root.nest(Array(key.dropLast()), accessLists: true), parent.appendTableToArray(key.last!)
        else {
            throw error("[[\(Self.show(key))]] would overwrite a value")
        }
        guard starts("]]") else { throw error("expected ']]' at the end of an array-of-tables header") }
        pos += 2
        return key
    }

    mutating func keyValueRule(_ root: Node, _ flags: Flags, _ header: [String]) throws {
        let (key, value) = try keyValuePair()
        let parentKey = header + key.dropLast()
        for i in 1..<max(1, key.count) {
            let cont = header + key.prefix(i)
            if flags.has(cont, .explicitNest) {
                throw error("dotted key \(Self.show(key)) would redefine table \(Self.show(cont))")
            }
            flags.addPending(cont, .explicitNest)
        }
        if flags.has(parentKey, .frozen) { throw error("\(Self.show(key)) would change an inline table or array") }
        guard let nest = root.nest(parentKey, accessLists: true) else {
            throw error("\(Self.show(key)) would overwrite a value")
        }
        if nest.items[key.last!] != nil { throw error("\(Self.show(key)) is defined twice") }
        if case .array = value { flags.set(header + key, .frozen, recursive: true) }
        if case .table = value { flags.set(header + key, .frozen, recursive: true) }
        nest.set(key.last!, .value(value))
    }

    mutating func keyValuePair() throws -> ([String], TOMLValue) {
        let key = try parseKey()
        guard char == "=" else { throw error("expected '=' after the key \(Self.show(key))") }
        pos += 1
        skipWS()
        return (key, try parseValue())
    }

    mutating func parseKey() throws -> [String] {
        var key = [try parseKeyPart()]
        skipWS()
        while char == "." {
            guard key.count < Self.maxKeyParts else {
                throw error("a key of more than \(Self.maxKeyParts) dotted parts; pus-mount's configuration has none")
            }
            pos += 1
            skipWS()
            key.append(try parseKeyPart())
            skipWS()
        }
        return key
    }

    mutating func enterNesting() throws {
        guard depth < Self.maxNesting else {
            throw error(
                "arrays and inline tables nested more than \(Self.maxNesting) deep; pus-mount's configuration nests two levels"
            )
        }
        depth += 1
    }

    mutating func parseKeyPart() throws -> String {
        guard let c = char else { throw error("a key is missing") }
        if Self.isBare(c) {
            let start = pos
            while let d = char, Self.isBare(d) { pos += 1 }
            return String(String.UnicodeScalarView(src[start..<pos]))
        }
        if c == "'" { return try literalString() }
        if c == "\"" {
            pos += 1
            return try basicString(multiline: false)
        }
        throw error("invalid first character of a key")
    }

    static func show(_ key: [String]) -> String {
        key.map { k in k.unicodeScalars.allSatisfy(isBare) && !k.isEmpty ? k : "\"\(k)\"" }.joined(separator: ".")
    }

    // MARK: values

    mutating func parseValue() throws -> TOMLValue {
        guard let c = char else { throw error("a value is missing") }
        switch c {
        case "\"":
            if starts("\"\"\"") { return .string(try multilineString(literal: false)) }
            pos += 1
            return .string(try basicString(multiline: false))
        case "'":
            if starts("'''") { return .string(try multilineString(literal: true)) }
            return .string(try literalString())
        case "t" where starts("true"):
            pos += 4
            return .boolean(true)
        case "f" where starts("false"):
            pos += 5
            return .boolean(false)
        case "[": return try parseArray()
        case "{": return try parseInlineTable()
        default: break
        }
        if let end = dateTimeEnd() ?? localTimeEnd() {
            throw error(
                "date-times are not supported in pus-mount's configuration (\(String(String.UnicodeScalarView(src[pos..<end]))))"
            )
        }
        if let v = try number() { return v }
        for (s, v) in [
            ("inf", Double.infinity), ("nan", Double.nan), ("+inf", .infinity), ("-inf", -.infinity), ("+nan", .nan),
            ("-nan", -.nan),
        ] where starts(s) {
            pos += s.unicodeScalars.count
            return .float(v)
        }
        throw error(
            Self.isControl(c)
                ? "a control character (U+\(String(c.value, radix: 16, uppercase: true))) where a value belongs"
                : "invalid value")
    }

    mutating func parseArray() throws -> TOMLValue {
        try enterNesting()
        defer { depth -= 1 }
        pos += 1
        var items: [TOMLValue] = []
        try skipCommentsAndArrayWS()
        if char == "]" {
            pos += 1
            return .array(items)
        }
        while true {
            items.append(try parseValue())
            try skipCommentsAndArrayWS()
            if char == "]" {
                pos += 1
                return .array(items)
            }
            guard char == "," else { throw error("an array is not closed (expected ',' or ']')") }
            pos += 1
            try skipCommentsAndArrayWS()
            if char == "]" {
                pos += 1
                return .array(items)
            }
        }
    }

    mutating func parseInlineTable() throws -> TOMLValue {
        try enterNesting()
        defer { depth -= 1 }
        pos += 1
        let node = Node()
        let flags = Flags()
        skipWS()
        if char == "}" {
            pos += 1
            return .table(node.table)
        }
        while true {
            let (key, value) = try keyValuePair()
            if flags.has(key, .frozen) { throw error("\(Self.show(key)) would change an inline table or array") }
            guard let nest = node.nest(Array(key.dropLast()), accessLists: false) else {
                throw error("\(Self.show(key)) would overwrite a value")
            }
            if nest.items[key.last!] != nil { throw error("\(Self.show(key)) is defined twice in an inline table") }
            nest.set(key.last!, .value(value))
            skipWS()
            if char == "}" {
                pos += 1
                return .table(node.table)
            }
            guard char == "," else { throw error("an inline table is not closed (expected ',' or '}')") }
            switch value {
            case .array, .table: flags.set(key, .frozen, recursive: true)
            default: break
            }
            pos += 1
            skipWS()
        }
    }

    // MARK: strings

    mutating func literalString() throws -> String {
        pos += 1
        let start = pos
        while true {
            guard let c = char else { throw error("a literal string is not closed (expected ')") }
            if c == "'" { break }
            if Self.isControl(c) && c != "\t" {
                throw error("a control character (U+\(String(c.value, radix: 16, uppercase: true))) in a string")
            }
            pos += 1
        }
        defer { pos += 1 }
        return String(String.UnicodeScalarView(src[start..<pos]))
    }

    mutating func multilineString(literal: Bool) throws -> String {
        pos += 3
        if char == "\n" { pos += 1 }
        var result: String
        let delim: Unicode.Scalar = literal ? "'" : "\""
        if literal {
            let start = pos
            while !starts("'''") {
                guard let c = char else { throw error("a multi-line literal string is not closed (expected ''')") }
                if Self.isControl(c) && c != "\t" && c != "\n" {
                    throw error("a control character (U+\(String(c.value, radix: 16, uppercase: true))) in a string")
                }
                pos += 1
            }
            result = String(String.UnicodeScalarView(src[start..<pos]))
            pos += 3
        } else {
            result = try basicString(multiline: true)
        }
        // Up to two more quotes before the closing three belong to the string.
        if char == delim {
            pos += 1
            result.unicodeScalars.append(delim)
            if char == delim {
                pos += 1
                result.unicodeScalars.append(delim)
            }
        }
        return result
    }

    /// A basic string after its opening quote(s), through its closing one(s).
    mutating func basicString(multiline: Bool) throws -> String {
        var out = String.UnicodeScalarView()
        while true {
            guard let c = char else { throw error("a string is not closed") }
            if c == "\"" {
                if !multiline {
                    pos += 1
                    return String(out)
                }
                if starts("\"\"\"") {
                    pos += 3
                    return String(out)
                }
                out.append(c)
                pos += 1
                continue
            }
            if c == "\\" {
                try escape(into: &out, multiline: multiline)
                continue
            }
            if Self.isControl(c) && c != "\t" && !(multiline && c == "\n") {
                throw error("a control character (U+\(String(c.value, radix: 16, uppercase: true))) in a string")
            }
            out.append(c)
            pos += 1
        }
    }

    mutating func escape(into out: inout String.UnicodeScalarView, multiline: Bool) throws {
        let next = at(pos + 1)
        if multiline, let n = next, n == " " || n == "\t" || n == "\n" {
            pos += 1
            if n != "\n" {
                skipWS()
                guard let c = char else { return }
                guard c == "\n" else { throw error("a '\\' in a string that does not start an escape") }
            }
            while let c = char, Self.isWS(c) || c == "\n" { pos += 1 }
            return
        }
        pos += 2
        switch next {
        case "b": out.append("\u{8}")
        case "t": out.append("\t")
        case "n": out.append("\n")
        case "f": out.append("\u{c}")
        case "r": out.append("\r")
        case "\"": out.append("\"")
        case "\\": out.append("\\")
        case "u": out.append(try hexScalar(4))
        case "U": out.append(try hexScalar(8))
        default: throw error("a '\\' in a string that does not start an escape", at: pos - 2)
        }
    }

    mutating func hexScalar(_ n: Int) throws -> Unicode.Scalar {
        var v: UInt32 = 0
        for k in 0..<n {
            guard let c = at(pos + k), Self.isHex(c) else { throw error("an invalid \\u or \\U escape") }
            v = v << 4 | UInt32(Int(String(c), radix: 16)!)
        }
        pos += n
        guard let s = Unicode.Scalar(v) else { throw error("an escape that is not a Unicode scalar value") }
        return s
    }

    // MARK: numbers and dates

    /// The end of a date or date-time at `pos` as tomllib's RE_DATETIME matches it, or nil.
    func dateTimeEnd() -> Int? {
        var i = pos
        func digits(_ n: Int) -> Int? {
            var v = 0
            for _ in 0..<n {
                guard let c = at(i), Self.isDigit(c) else { return nil }
                v = v * 10 + Int(c.value - 48)
                i += 1
            }
            return v
        }
        guard digits(4) != nil, at(i) == "-" else { return nil }
        i += 1
        guard let m = digits(2), (1...12).contains(m), at(i) == "-" else { return nil }
        i += 1
        guard let d = digits(2), (1...31).contains(d) else { return nil }
        let dateEnd = i
        guard let sep = at(i), sep == "T" || sep == "t" || sep == " " else { return dateEnd }
        i += 1
        guard let t = timeEnd(from: i) else { return dateEnd }
        return t
    }

    func localTimeEnd() -> Int? { timeEnd(from: pos) }

    /// HH:MM:SS[.fraction] and an optional offset (Z or ±HH:MM) from `i`.
    func timeEnd(from start: Int) -> Int? {
        var i = start
        func two(_ max: Int) -> Bool {
            guard let a = at(i), let b = at(i + 1), Self.isDigit(a), Self.isDigit(b),
                Int(a.value - 48) * 10 + Int(b.value - 48) <= max
            else { return false }
            i += 2
            return true
        }
        guard two(23), at(i) == ":" else { return nil }
        i += 1
        guard two(59), at(i) == ":" else { return nil }
        i += 1
        guard two(59) else { return nil }
        if at(i) == ".", let c = at(i + 1), Self.isDigit(c) {
            i += 1
            while let d = at(i), Self.isDigit(d) { i += 1 }
        }
        if let z = at(i), z == "Z" || z == "z" { return i + 1 }
        if let s = at(i), s == "+" || s == "-" {
            let save = i
            i += 1
            if two(23), at(i) == ":" {
                i += 1
                if two(59) { return i }
            }
            return save
        }
        return i
    }

    /// An integer or float as tomllib's RE_NUMBER matches it (the longest prefix), or nil when none starts here.
    mutating func number() throws -> TOMLValue? {
        let start = pos
        var i = pos
        func run(_ ok: (Unicode.Scalar) -> Bool) -> Bool {
            // ok(_?ok)*
            guard let c = at(i), ok(c) else { return false }
            i += 1
            while true {
                if let c = at(i), ok(c) {
                    i += 1
                    continue
                }
                if at(i) == "_", let c = at(i + 1), ok(c) {
                    i += 2
                    continue
                }
                return true
            }
        }
        if at(i) == "0", let p = at(i + 1), p == "x" || p == "o" || p == "b" {
            i += 2
            let digitsStart = i
            let ok: (Unicode.Scalar) -> Bool
            switch p {
            case "x": ok = Self.isHex
            case "o": ok = { c in c >= "0" && c <= "7" }
            default: ok = { c in c == "0" || c == "1" }
            }
            if run(ok) {
                let text = String(String.UnicodeScalarView(src[digitsStart..<i])).filter { $0 != "_" }
                let radix = p == "x" ? 16 : (p == "o" ? 8 : 2)
                guard let v = Int(text, radix: radix) else {
                    throw error("an integer out of range (TOML integers are 64-bit)")
                }
                pos = i
                return .integer(v)
            }
            i = start
        }
        if let s = at(i), s == "+" || s == "-" { i += 1 }
        guard let first = at(i), Self.isDigit(first) else { return nil }
        if first == "0" { i += 1 } else { _ = run(Self.isDigit) }
        var isFloat = false
        if at(i) == ".", let c = at(i + 1), Self.isDigit(c) {
            i += 1
            _ = run(Self.isDigit)
            isFloat = true
        }
        if let e = at(i), e == "e" || e == "E" {
            var j = i + 1
            if let s = at(j), s == "+" || s == "-" { j += 1 }
            if let c = at(j), Self.isDigit(c) {
                i = j
                _ = run(Self.isDigit)
                isFloat = true
            }
        }
        let text = String(String.UnicodeScalarView(src[start..<i])).filter { $0 != "_" }
        pos = i
        if isFloat {
            guard let d = Double(text) else { throw error("an invalid float", at: start) }
            return .float(d)
        }
        guard let v = Int(text) else { throw error("an integer out of range (TOML integers are 64-bit)", at: start) }
        return .integer(v)
    }
}

/// A table while it is being built: reference semantics, so headers and dotted keys can reach into it.
final class Node {
    enum Item {
        case value(TOMLValue)
        case table(Node)
        /// A reference, so that appending a table does not copy the array (`[[x]]` 50,000 times took 55 s).
        case tables(NodeList)
    }

    var order: [String] = []
    var items: [String: Item] = [:]

    func set(_ key: String, _ item: Item) {
        if items[key] == nil { order.append(key) }
        items[key] = item
    }

    /// The table at `key` below this one, creating missing ones; through an array of tables, its last table
    /// (when `accessLists`). Nil when a value that is not a table is in the way.
    func nest(_ key: [String], accessLists: Bool) -> Node? {
        var cur = self
        for k in key {
            switch cur.items[k] {
            case nil:
                let n = Node()
                cur.set(k, .table(n))
                cur = n
            case .table(let n)?: cur = n
            case .tables(let list)? where accessLists && !list.nodes.isEmpty: cur = list.nodes.last!
            default: return nil
            }
        }
        return cur
    }

    /// Appends a new table to the array of tables at `key` (creating it); false when something else is there.
    func appendTableToArray(_ key: String) -> Bool {
        switch items[key] {
        case nil: set(key, .tables(NodeList([Node()])))
        case .tables(let list)?: list.nodes.append(Node())
        default: return false
        }
        return true
    }

    var table: TOMLTable {
        var t = TOMLTable()
        for k in order {
            switch items[k]! {
            case .value(let v): t[k] = v
            case .table(let n): t[k] = .table(n.table)
            case .tables(let list): t[k] = .array(list.nodes.map { .table($0.table) })
            }
        }
        return t
    }
}

/// The tables of one array of tables, appended in place.
final class NodeList {
    var nodes: [Node]
    init(_ nodes: [Node]) { self.nodes = nodes }
}

/// What may still be defined, by key path (tomllib's Flags): `frozen` for inline tables and arrays (and all
/// below them), `explicitNest` for tables defined by a header or by dotted keys (no second definition).
final class Flags {
    enum Flag: Hashable { case frozen, explicitNest }

    final class Entry {
        var flags: Set<Flag> = []
        var recursive: Set<Flag> = []
        var nested: [String: Entry] = [:]
    }

    private var root: [String: Entry] = [:]
    private var pending: [([String], Flag)] = []

    func addPending(_ key: [String], _ flag: Flag) { pending.append((key, flag)) }

    func finalizePending() {
        for (k, f) in pending { set(k, f, recursive: false) }
        pending.removeAll()
    }

    func unsetAll(_ key: [String]) {
        guard let last = key.last else { return }
        var cont = root
        var holder: Entry?
        for k in key.dropLast() {
            guard let e = cont[k] else { return }
            holder = e
            cont = e.nested
        }
        if let h = holder { h.nested[last] = nil } else { root[last] = nil }
    }

    func set(_ key: [String], _ flag: Flag, recursive: Bool) {
        guard let last = key.last else { return }
        var parent: Entry?
        func child(_ k: String) -> Entry {
            if let p = parent {
                if let e = p.nested[k] { return e }
                let e = Entry()
                p.nested[k] = e
                return e
            }
            if let e = root[k] { return e }
            let e = Entry()
            root[k] = e
            return e
        }
        for k in key.dropLast() { parent = child(k) }
        let e = child(last)
        if recursive { e.recursive.insert(flag) } else { e.flags.insert(flag) }
    }

    func has(_ key: [String], _ flag: Flag) -> Bool {
        guard let last = key.last else { return false }
        var cont = root
        for k in key.dropLast() {
            guard let e = cont[k] else { return false }
            if e.recursive.contains(flag) { return true }
            cont = e.nested
        }
        guard let e = cont[last] else { return false }
        return e.flags.contains(flag) || e.recursive.contains(flag)
    }
}
