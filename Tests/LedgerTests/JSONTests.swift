import Foundation
import SystemSupport
import Testing

/// The hand-written JSON codec against Foundation's JSONSerialization as the reference, and its bounds.
@Suite struct JSONTests {
    @Test(arguments: [
        "{}", "[]", "0", "-0", "1.5", "-2.5e3", "1E+2", "true", "false", "null", "\"\"",
        "\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\ud83d\\ude00\"", "[1,[2,[3,{}]]]", "{\"a\":{\"b\":[null,true]},\"c\":\"é\"}",
        " \n\t{ \"k\" : 1 } \r\n",
        "9223372036854775807", "-9223372036854775808", "1e308",
    ])
    func agreesWithFoundation(_ text: String) throws {
        let mine = try JSONParser.parse(Array(text.utf8))
        let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        let back = try JSONSerialization.jsonObject(with: Data(mine.serialized()), options: [.fragmentsAllowed])
        func canonical(_ o: Any) throws -> Data {
            try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .fragmentsAllowed])
        }
        #expect(try canonical(back) == canonical(theirs), "\(text)")
        #expect(try JSONParser.parse(mine.serialized(pretty: true)) == mine)
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "'a'", "01", "1.", ".5", "+1", "1e", "NaN", "Infinity", "-",
        "tru", "nul",
        "\"unterminated", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"a\u{1}b\"", "[1 2]", "{\"a\" 1}", "1 2", "[]]",
        "1e658", "-1e400",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(throws: JSONParseError.self, "\(text.debugDescription)") { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func integersBeyondInt64AreDoubles() throws {
        #expect(try JSONParser.parse(Array("-9223372036854775808".utf8)) == .int(Int.min))
        #expect(try JSONParser.parse(Array("18446744073709551616".utf8)) == .double(18_446_744_073_709_551_616))
    }

    @Test func nestingIsBounded() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(deep.utf8), maxDepth: 64) }
        let ok = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONParser.parse(Array(ok.utf8), maxDepth: 64) }
    }
}

/// The base64 codec against Foundation's (the reference), on random bytes and on hostile text.
@Suite struct Base64Tests {
    @Test func agreesWithFoundationOnRandomBytes() {
        var rng = SystemRandomNumberGenerator()
        for n in Array(0...70) + [511, 512, 513, 4096] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let mine = Base64.encode(bytes)
            #expect(mine == Data(bytes).base64EncodedString())
            #expect(Base64.decode(mine) == bytes)
        }
    }

    @Test(arguments: [
        "", "=", "==", "A", "AB", "ABC", "ABCD", "AB==", "ABC=", "A===", "AQ==", "AR==", "AAE=", "AAF=",
        "ab cd", "abcd\n", "ab-_", "abc%", "QUJD", "YQ==YQ==", "ü+/=", "//8=", "++++",
    ])
    func decodingAgreesWithFoundation(_ text: String) {
        #expect(Base64.decode(text) == Data(base64Encoded: text).map { Array($0) }, "\(text.debugDescription)")
    }

    @Test func foundationsOdditiesAreRefused() {
        #expect(Data(base64Encoded: "====") != nil && Base64.decode("====") == nil)
        #expect(Data(base64Encoded: "AB=C") != nil && Base64.decode("AB=C") == nil)
    }
}

/// Issue 15, item 10: invalid UTF-8 inside a string is an error, as in Python's json, never replaced silently
/// (the ledger, the emulator's records and every reply are read with this reader).
@Suite struct JSONUTF8Tests {
    @Test(
        arguments: [[0xff], [0xc3], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80]]
            as [[UInt8]])
    func invalidUTF8InAStringIsRefused(_ bad: [UInt8]) {
        let plain = Array("{\"a\": \"x".utf8) + bad + Array("y\"}".utf8)
        let escaped = Array("{\"a\": \"\\n".utf8) + bad + Array("\"}".utf8)
        for doc in [plain, escaped] {
            #expect(throws: (any Error).self, "\(bad) was accepted") { try JSONParser.parse(doc) }
        }
    }

    @Test func validUTF8IsKept() throws {
        let doc = try JSONParser.parse(Array("{\"a\": \"Ωé\\u00e9😀\"}".utf8))
        #expect(doc["a"]?.stringValue == "Ωéé😀")
    }
}
