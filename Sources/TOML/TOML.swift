/// A TOML 1.0 parser for pus-mount's configuration: no Foundation, no C++, errors with line and column.
///
/// It follows TOML 1.0 and, where the specification leaves room, Python's tomllib (the oracle it is tested
/// against on a compliance corpus and on randomised configurations), with two deliberate differences:
/// - date-times (offset, local date-time, local date, local time) are refused with "date-times are not
///   supported": pus-mount's configuration has none, and a refused value is better than a misread one;
/// - integers must fit in 64 bits, as the specification asks ("an error must be thrown"); tomllib accepts
///   arbitrarily large ones.
public enum TOML {
    /// Parses a document.
    public static func parse(_ text: String) throws -> TOMLTable {
        var p = TOMLParser(text)
        return try p.document()
    }

    /// Parses UTF-8 bytes (invalid UTF-8 is an error, not replaced).
    public static func parse(bytes: [UInt8]) throws -> TOMLTable {
        var scalars: [Unicode.Scalar] = []
        scalars.reserveCapacity(bytes.count)
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        var column = 1
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s):
                scalars.append(s)
                if s == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            case .emptyInput: break loop
            case .error: throw TOMLError(line: line, column: column, message: "the file is not valid UTF-8")
            }
        }
        var p = TOMLParser(scalars: scalars)
        return try p.document()
    }
}

/// A value.
public indirect enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    public static func == (a: TOMLValue, b: TOMLValue) -> Bool {
        switch (a, b) {
        case (.string(let x), .string(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        case (.float(let x), .float(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.boolean(let x), .boolean(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.table(let x), .table(let y)): return x == y
        default: return false
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var integer: Int? { if case .integer(let i) = self { return i } else { return nil } }
    public var boolean: Bool? { if case .boolean(let b) = self { return b } else { return nil } }
    public var array: [TOMLValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var table: TOMLTable? { if case .table(let t) = self { return t } else { return nil } }
}

/// A table: keys in document order.
public struct TOMLTable: Sendable, Equatable {
    public private(set) var keys: [String] = []
    private var values: [String: TOMLValue] = [:]

    public init() {}

    public subscript(key: String) -> TOMLValue? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    public static func == (a: TOMLTable, b: TOMLTable) -> Bool { a.values == b.values }
}

/// Where and why a document is not accepted.
public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int
    public let message: String
    public var description: String { "line \(line), column \(column): \(message)" }
}
