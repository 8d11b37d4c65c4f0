import Foundation
import SystemSupport
import TOML
import TestSupport
import Testing

/// pus-mount's TOML parser against Python's tomllib (an independent implementation) on the compliance corpus
/// in Corpus/ (valid, invalid, and valid-but-refused documents) and on randomised configurations.
@Suite struct TOMLOracleTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

    /// The oracle's verdict on each file.
    func oracle(_ args: [String]) throws -> [String: JSON] {
        let r = try Run.run("/usr/bin/env", ["python3", "\(Self.here)/oracle.py"] + args)
        #expect(r.status == 0, "oracle: \(r.stderr)")
        var out: [String: JSON] = [:]
        for line in r.stdout.split(separator: "\n") {
            // Tagged values: two levels per TOML level.
            let doc = try JSONParser.parse(Array(line.utf8), maxDepth: 1024)
            out[doc["file"]?.stringValue ?? ""] = doc
        }
        return out
    }

    /// A tomllib value as a TOMLValue; nil when it holds what pus-mount refuses (date-times, integers beyond 64 bits).
    func value(_ tagged: JSON) -> TOMLValue? {
        if let s = tagged["s"]?.stringValue { return .string(s) }
        if let b = tagged["b"]?.boolValue { return .boolean(b) }
        if let i = tagged["i"]?.stringValue { return Int(i).map { .integer($0) } }
        if let f = tagged["f"]?.stringValue { return Double(f).map { .float($0) } }
        if let a = tagged["a"]?.arrayValue {
            let items = a.map(value)
            return items.contains { $0 == nil } ? nil : .array(items.map { $0! })
        }
        if let t = tagged["t"]?.objectValue {
            var table = TOMLTable()
            for (k, v) in t {
                guard let x = value(v) else { return nil }
                table[k] = x
            }
            return .table(table)
        }
        return nil
    }

    enum Verdict: Equatable {
        case same, bothRefused, refusedAsDocumented
        case disagree(String)
    }

    func compare(_ path: String, _ o: JSON) -> Verdict {
        let ours: Result<TOMLTable, TOMLError>
        do { ours = .success(try TOML.parse(bytes: try Syscalls.readFile(path))) } catch let e as TOMLError {
            ours = .failure(e)
        } catch {
            return .disagree("unexpected error \(error)")
        }
        let theirsOK = o["ok"]?.boolValue == true
        switch (theirsOK, ours) {
        case (false, .failure(let e)):
            return e.line >= 1 && e.column >= 1 ? .bothRefused : .disagree("no position")
        case (false, .success):
            return .disagree("accepted; tomllib: \(o["error"]?.stringValue ?? "")")
        case (true, let r):
            guard let expected = value(o["value"]!) else {
                // Date-times and big integers: refused on purpose, with a message that says so.
                if case .failure(let e) = r,
                    e.message.contains("date-times are not supported") || e.message.contains("out of range")
                {
                    return .refusedAsDocumented
                }
                return .disagree("should be refused as documented, got \(r)")
            }
            switch r {
            case .success(let t):
                return .table(t) == expected ? .same : .disagree("different value: \(t) vs \(expected)")
            case .failure(let e): return .disagree("refused: \(e)")
            }
        }
    }

    @Test func theComplianceCorpusAgreesWithTomllib() throws {
        var files: [String: [String]] = [:]
        for kind in ["valid", "invalid", "refused"] {
            files[kind] = try FileManager.default.contentsOfDirectory(atPath: "\(Self.here)/Corpus/\(kind)").sorted()
                .map { "\(Self.here)/Corpus/\(kind)/\($0)" }
        }
        let verdicts = try oracle(["files"] + files.values.flatMap { $0 })
        var counts: [String: Int] = [:]
        for (kind, list) in files {
            for f in list {
                let o = try #require(verdicts[f])
                let v = compare(f, o)
                switch kind {
                case "valid": #expect(v == .same, "\(f): \(v)")
                case "invalid": #expect(v == .bothRefused, "\(f): \(v)")
                default: #expect(v == .refusedAsDocumented, "\(f): \(v)")
                }
                counts[kind, default: 0] += 1
            }
        }
        print(
            "TOML corpus: \(counts["valid"] ?? 0) valid, \(counts["invalid"] ?? 0) invalid, \(counts["refused"] ?? 0) valid but refused on purpose; all agree with tomllib"
        )
        #expect((counts["valid"] ?? 0) >= 70 && (counts["invalid"] ?? 0) >= 100)
    }

    @Test func randomisedConfigurationsAgreeWithTomllib() throws {
        let dir = TempDir("pus-toml")
        let seed = ProcessInfo.processInfo.environment["PUS_TOML_SEED"] ?? "20261126"
        let n = 2000
        let verdicts = try oracle(["random", dir.path, seed, String(n)])
        #expect(verdicts.count == n)
        var tally: [String: Int] = [:]
        for (f, o) in verdicts.sorted(by: { $0.key < $1.key }) {
            let v = compare(f, o)
            switch v {
            case .same: tally["same", default: 0] += 1
            case .bothRefused: tally["both refused", default: 0] += 1
            case .refusedAsDocumented: tally["refused as documented", default: 0] += 1
            case .disagree(let why):
                Issue.record(
                    "\(f) (seed \(seed)): \(why)\n\(String(decoding: (try? Syscalls.readFile(f)) ?? [], as: UTF8.self))"
                )
            }
        }
        print(
            "TOML randomised (seed \(seed)): \(n) documents: \(tally.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))"
        )
        #expect((tally["same"] ?? 0) > n / 3 && (tally["both refused"] ?? 0) > n / 10)
    }

    @Test func errorsNameTheLineAndColumn() {
        for (text, line, column) in [
            ("a = 1\nb = \n", 2, 5), ("[a]\n[a]\n", 2, 3), ("x = \"abc\n", 1, 9), ("a = 1\n\n  b = 0x\n", 3, 8),
        ] {
            do {
                _ = try TOML.parse(text)
                Issue.record("\(text.debugDescription) must be refused")
            } catch let e as TOMLError {
                #expect(e.line == line && e.column == column, "\(text.debugDescription): \(e)")
            } catch { Issue.record("\(error)") }
        }
    }

    /// Nesting (arrays, inline tables) and dotted keys (in key/value lines and headers) are bounded at 64: up
    /// to the bound pus-mount reads what tomllib reads, the same value; past it, one clean error with the line
    /// (tomllib reads some of these and overflows Python's stack on the deepest; pus-mount crashed on 50,000
    /// levels before the bound). And 50,000 `[[x]]` headers read into 50,000 tables, as tomllib does (appending
    /// no longer copies the array: BENCHMARKS.md has the time).
    @Test func nestingAndKeysAreBoundedAndAgreeWithTomllibWithinTheBound() throws {
        let dir = TempDir()
        var cases: [(path: String, within: Bool)] = []
        for d in [1, 10, 64, 65, 2_000] {
            let docs = [
                "arrays": "a = " + String(repeating: "[", count: d) + "1" + String(repeating: "]", count: d) + "\n",
                "inline": "a = " + String(repeating: "{ b = ", count: d) + "1" + String(repeating: " }", count: d)
                    + "\n",
                "dotted": Array(repeating: "k", count: d).joined(separator: ".") + " = 1\n",
                "header": "[" + Array(repeating: "t", count: d).joined(separator: ".") + "]\nx = 1\n",
            ]
            for (kind, text) in docs { cases.append((dir.write("\(kind)-\(d).toml", text), d <= 64)) }
        }
        let many = dir.write("tables-50000.toml", String(repeating: "[[x]]\ny = 1\n", count: 50_000))
        let verdicts = try oracle(["files"] + cases.map(\.path) + [many])
        for c in cases {
            let o = try #require(verdicts[c.path], "no oracle line for \(c.path)")
            let ours = Result { try TOML.parse(bytes: try Syscalls.readFile(c.path)) }
            if c.within {
                let want = try #require(o["value"].flatMap(value), "tomllib refused \(c.path): \(o)")
                #expect((try? ours.get()).map { TOMLValue.table($0) } == want, "\(c.path) differs from tomllib")
            } else {
                switch ours {
                case .success: Issue.record("\(c.path) must be refused")
                case .failure(let e as TOMLError):
                    #expect(e.line == 1 || e.line == 2, "\(c.path): \(e)")
                    #expect(e.message.contains("more than 64"), "\(c.path): \(e.message)")
                case .failure(let e): Issue.record("\(c.path): \(e)")
                }
            }
        }
        let t = try TOML.parse(bytes: try Syscalls.readFile(many))
        guard case .array(let tables)? = t["x"] else {
            Issue.record("no array of tables")
            return
        }
        #expect(tables.count == 50_000)
        #expect(
            (verdicts[many]?["value"]?["t"]?["x"]?["a"]?.arrayValue?.count) == 50_000, "tomllib reads the same number")
    }
}
