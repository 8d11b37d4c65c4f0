import SystemSupport

/// The ledger's JSON form, written and read by hand (no Codable, no Foundation): keys sorted, two-space
/// indent, `"key" : value` as the earlier JSONEncoder wrote it. Unknown keys are ignored on read (a later
/// minor addition), missing optional keys read as nil; a missing required key or a wrong type is an error
/// naming the key.
extension Ledger {
    /// A value that is not what the format says.
    struct FormatError: Error, CustomStringConvertible {
        let path: String
        let expected: String
        var description: String { "\(path): expected \(expected)" }
    }

    /// The JSON document.
    public var json: JSON {
        .object([
            ("entries", .object(entries.keys.sorted().map { ($0, entries[$0]!.json) })),
            ("version", .int(version)),
            ("volumes", .object(volumes.keys.sorted().map { ($0, volumes[$0]!.json) })),
        ])
    }

    /// Reads the document.
    public init(json: JSON) throws {
        let r = Fields(json, path: "ledger")
        version = try r.int("version")
        entries = [:]
        for (name, value) in try r.object("entries") { entries[name] = try Entry(json: value, path: "entries.\(name)") }
        volumes = [:]
        for (name, value) in try r.optionalObject("volumes") ?? [] { volumes[name] = try Volume(json: value, path: "volumes.\(name)") }
    }
}

extension Ledger.Entry {
    var json: JSON {
        var o: [(String, JSON)] = [
            ("account", .string(account)), ("backend", .string(backend)), ("createdAt", .int(createdAt)),
            ("credentialsPath", .string(credentialsPath)), ("gid", .int(Int(gid))),
        ]
        if let idleSince { o.append(("idleSince", .int(idleSince))) }
        if let keyID { o.append(("keyID", .string(keyID))) }
        o += [
            ("leases", .array(leases.map(\.json))), ("mounted", .bool(mounted)), ("mountpoint", .string(mountpoint)),
            ("optionsDigest", .string(optionsDigest)), ("share", .string(share)), ("source", .string(source)), ("uid", .int(Int(uid))),
            ("updatedAt", .int(updatedAt)), ("user", .string(user)),
        ]
        return .object(o)
    }

    init(json: JSON, path: String) throws {
        let r = Fields(json, path: path)
        self.init(user: try r.string("user"), uid: try r.uint32("uid"), gid: try r.uint32("gid"), backend: try r.string("backend"),
                  account: try r.optionalString("account"), share: try r.optionalString("share"), source: try r.string("source"),
                  mountpoint: try r.string("mountpoint"), optionsDigest: try r.string("optionsDigest"),
                  credentialsPath: try r.optionalString("credentialsPath"), mounted: try r.bool("mounted"),
                  leases: try r.array("leases").enumerated().map { try Ledger.Lease(json: $1, path: "\(path).leases[\($0)]") },
                  now: try r.int("createdAt"))
        updatedAt = try r.int("updatedAt")
        idleSince = try r.optionalInt("idleSince")
        keyID = try r.optionalString("keyID")
    }
}

extension Ledger.Lease {
    var json: JSON {
        var o: [(String, JSON)] = []
        if let bootID { o.append(("bootID", .string(bootID))) }
        o.append(("createdAt", .int(createdAt)))
        if let pid { o.append(("pid", .int(Int(pid)))) }
        if let pidStartTime { o.append(("pidStartTime", .int(Int(clamping: pidStartTime)))) }
        o.append(("session", .string(session)))
        return .object(o)
    }

    init(json: JSON, path: String) throws {
        let r = Fields(json, path: path)
        let pid = try r.optionalInt("pid")
        let start = try r.optionalInt("pidStartTime")
        guard pid.map({ Int32(exactly: $0) != nil }) ?? true, start.map({ $0 >= 0 }) ?? true else {
            throw Ledger.FormatError(path: path, expected: "pid and pidStartTime in range")
        }
        self.init(session: try r.string("session"), pid: pid.map { Int32($0) }, pidStartTime: start.map { UInt64($0) },
                  bootID: try r.optionalString("bootID"), createdAt: try r.int("createdAt"))
    }
}

extension Ledger.Volume {
    var json: JSON {
        var o: [(String, JSON)] = [
            ("account", .string(account)), ("credentialsPath", .string(credentialsPath)),
        ]
        if let keyID { o.append(("keyID", .string(keyID))) }
        o += [
            ("mounted", .bool(mounted)), ("mountpoint", .string(mountpoint)), ("name", .string(name)), ("optionsDigest", .string(optionsDigest)),
            ("readOnly", .bool(readOnly)), ("share", .string(share)), ("source", .string(source)), ("updatedAt", .int(updatedAt)),
        ]
        return .object(o)
    }

    init(json: JSON, path: String) throws {
        let r = Fields(json, path: path)
        self.init(name: try r.string("name"), account: try r.string("account"), share: try r.string("share"), source: try r.string("source"),
                  mountpoint: try r.string("mountpoint"), readOnly: try r.bool("readOnly"), optionsDigest: try r.string("optionsDigest"),
                  credentialsPath: try r.optionalString("credentialsPath"), mounted: try r.bool("mounted"),
                  keyID: try r.optionalString("keyID"), now: try r.int("updatedAt"))
    }
}

/// Typed access to an object's members, with errors that name the key.
private struct Fields {
    let members: [(String, JSON)]
    let path: String
    let isObject: Bool

    init(_ json: JSON, path: String) {
        self.path = path
        isObject = json.objectValue != nil
        members = json.objectValue ?? []
    }

    func value(_ key: String) throws -> JSON? {
        guard isObject else { throw Ledger.FormatError(path: path, expected: "an object") }
        return members.first { $0.0 == key }?.1
    }

    func required(_ key: String) throws -> JSON {
        guard let v = try value(key) else { throw Ledger.FormatError(path: "\(path).\(key)", expected: "a value (missing)") }
        return v
    }

    func fail(_ key: String, _ what: String) -> Ledger.FormatError { Ledger.FormatError(path: "\(path).\(key)", expected: what) }

    func string(_ key: String) throws -> String {
        guard let s = try required(key).stringValue else { throw fail(key, "a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        guard let v = try value(key), !v.isNull else { return nil }
        guard let s = v.stringValue else { throw fail(key, "a string or null") }
        return s
    }

    func int(_ key: String) throws -> Int {
        guard let i = try required(key).intValue else { throw fail(key, "an integer") }
        return i
    }

    func optionalInt(_ key: String) throws -> Int? {
        guard let v = try value(key), !v.isNull else { return nil }
        guard let i = v.intValue else { throw fail(key, "an integer or null") }
        return i
    }

    func uint32(_ key: String) throws -> UInt32 {
        guard let v = UInt32(exactly: try int(key)) else { throw fail(key, "an unsigned 32-bit integer") }
        return v
    }

    func bool(_ key: String) throws -> Bool {
        guard let b = try required(key).boolValue else { throw fail(key, "true or false") }
        return b
    }

    func array(_ key: String) throws -> [JSON] {
        guard let a = try required(key).arrayValue else { throw fail(key, "an array") }
        return a
    }

    func object(_ key: String) throws -> [(String, JSON)] {
        guard let o = try required(key).objectValue else { throw fail(key, "an object") }
        return o
    }

    func optionalObject(_ key: String) throws -> [(String, JSON)]? {
        guard let v = try value(key), !v.isNull else { return nil }
        guard let o = v.objectValue else { throw fail(key, "an object") }
        return o
    }
}
