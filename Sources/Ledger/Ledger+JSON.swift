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

    /// Reads the document straight from its bytes, without building a JSON tree (reconcile reads a
    /// 10,000-entry ledger on every pass). Unknown keys are skipped.
    public init(reading p: inout JSONParser) throws {
        var version: Int?
        var entries: [String: Entry] = [:]
        var volumes: [String: Volume] = [:]
        try p.beginObject()
        while let k = try p.nextKey() {
            switch k {
            case "version": version = try Self.field("version", p.offset) { try p.readInt() }
            case "entries":
                try p.beginObject()
                while let name = try p.nextKey() { entries[name] = try Entry(reading: &p, name: name) }
            case "volumes":
                if try !p.readNull() {
                    try p.beginObject()
                    while let name = try p.nextKey() {
                        volumes[name] = try Volume(json: p.readValue(), path: "volumes.\(name)")
                    }
                }
            default: _ = try p.readValue()
            }
        }
        guard let version else { throw FormatError(path: "ledger.version", expected: "a value (missing)") }
        self.version = version
        self.entries = entries
        self.volumes = volumes
    }

    /// Runs a typed read, turning a parse error into a format error that names the key.
    static func field<T>(_ path: @autoclosure () -> String, _ offset: Int, _ read: () throws -> T) throws -> T {
        do { return try read() } catch let e as JSONParseError {
            throw FormatError(path: path(), expected: "\(e.reason) (byte \(e.offset))")
        }
    }
}

extension Ledger.Entry {
    var json: JSON {
        var o: [(String, JSON)] = [
            ("account", .string(account)), ("backend", .string(backend.rawValue)), ("createdAt", .int(createdAt)),
            ("credentialsPath", .string(credentialsPath)), ("gid", .int(Int(gid))),
        ]
        if let idleSince { o.append(("idleSince", .int(idleSince))) }
        if let keyID { o.append(("keyID", .string(keyID))) }
        o += [
            ("leases", .array(leases.map(\.json))), ("mounted", .bool(mounted)), ("mountpoint", .string(mountpoint)),
            ("optionsDigest", .string(optionsDigest)), ("share", .string(share)), ("source", .string(source)),
            ("uid", .int(Int(uid))),
            ("updatedAt", .int(updatedAt)), ("user", .string(user)),
        ]
        return .object(o)
    }

    /// One entry straight from the reader; `name` is its key in `entries` (error paths are built only on error).
    init(reading p: inout JSONParser, name: String) throws {
        var user: String?
        var uid: Int?
        var gid: Int?
        var backend: String?
        var account: String?
        var share: String?
        var source: String?
        var mountpoint: String?
        var digest: String?
        var cred: String?
        var mounted: Bool?
        var leases: [Ledger.Lease] = []
        var sawLeases = false
        var created: Int?
        var updated: Int?
        var idle: Int?
        var key: String?
        try p.beginObject()
        while let k = try p.nextKey() {
            switch k {
            case "user": user = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readString() }
            case "uid": uid = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readInt() }
            case "gid": gid = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readInt() }
            case "backend": backend = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readString() }
            case "account": account = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readOptionalString() }
            case "share": share = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readOptionalString() }
            case "source": source = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readString() }
            case "mountpoint": mountpoint = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readString() }
            case "optionsDigest": digest = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readString() }
            case "credentialsPath":
                cred = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readOptionalString() }
            case "mounted": mounted = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readBool() }
            case "createdAt": created = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readInt() }
            case "updatedAt": updated = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readInt() }
            case "idleSince": idle = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readOptionalInt() }
            case "keyID": key = try Ledger.field("entries.\(name).\(k)", p.offset) { try p.readOptionalString() }
            case "leases":
                sawLeases = true
                try Ledger.field("entries.\(name).\(k)", p.offset) { try p.beginArray() }
                while try p.nextElement() {
                    let n = leases.count
                    leases.append(try Ledger.Lease(reading: &p, entry: name, index: n))
                }
            default: _ = try p.readValue()
            }
        }
        let path = { "entries.\(name)" }
        func need<T>(_ v: T?, _ k: String) throws -> T {
            guard let v else { throw Ledger.FormatError(path: "\(path()).\(k)", expected: "a value (missing)") }
            return v
        }
        guard let u32 = UInt32(exactly: try need(uid, "uid")), let g32 = UInt32(exactly: try need(gid, "gid")) else {
            throw Ledger.FormatError(path: path(), expected: "uid and gid as unsigned 32-bit integers")
        }
        if !sawLeases { throw Ledger.FormatError(path: "\(path()).leases", expected: "a value (missing)") }
        self.init(
            user: try need(user, "user"), uid: u32, gid: g32, backend: Backend(rawValue: try need(backend, "backend")),
            account: account, share: share,
            source: try need(source, "source"), mountpoint: try need(mountpoint, "mountpoint"),
            optionsDigest: try need(digest, "optionsDigest"),
            credentialsPath: cred, mounted: try need(mounted, "mounted"), leases: leases,
            now: try need(created, "createdAt"))
        updatedAt = try need(updated, "updatedAt")
        idleSince = idle
        keyID = key
    }
}

extension Ledger.Lease {
    init(reading p: inout JSONParser, entry: String, index: Int) throws {
        var session: String?
        var pid: Int?
        var start: Int?
        var boot: String?
        var created: Int?
        try p.beginObject()
        while let k = try p.nextKey() {
            switch k {
            case "session":
                session = try Ledger.field("entries.\(entry).leases[\(index)].\(k)", p.offset) { try p.readString() }
            case "pid":
                pid = try Ledger.field("entries.\(entry).leases[\(index)].\(k)", p.offset) { try p.readOptionalInt() }
            case "pidStartTime":
                start = try Ledger.field("entries.\(entry).leases[\(index)].\(k)", p.offset) { try p.readOptionalInt() }
            case "bootID":
                boot = try Ledger.field("entries.\(entry).leases[\(index)].\(k)", p.offset) {
                    try p.readOptionalString()
                }
            case "createdAt":
                created = try Ledger.field("entries.\(entry).leases[\(index)].\(k)", p.offset) { try p.readInt() }
            default: _ = try p.readValue()
            }
        }
        try self.init(
            session: session, pid: pid, start: start, boot: boot, created: created,
            path: "entries.\(entry).leases[\(index)]")
    }

    init(session: String?, pid: Int?, start: Int?, boot: String?, created: Int?, path: String) throws {
        guard let session else { throw Ledger.FormatError(path: "\(path).session", expected: "a value (missing)") }
        guard let created else { throw Ledger.FormatError(path: "\(path).createdAt", expected: "a value (missing)") }
        guard pid.map({ Int32(exactly: $0) != nil }) ?? true, start.map({ $0 >= 0 }) ?? true else {
            throw Ledger.FormatError(path: path, expected: "pid and pidStartTime in range")
        }
        self.init(
            session: session, pid: pid.map { Int32($0) }, pidStartTime: start.map { UInt64($0) }, bootID: boot,
            createdAt: created)
    }

    var json: JSON {
        var o: [(String, JSON)] = []
        if let bootID { o.append(("bootID", .string(bootID))) }
        o.append(("createdAt", .int(createdAt)))
        if let pid { o.append(("pid", .int(Int(pid)))) }
        if let pidStartTime { o.append(("pidStartTime", .int(Int(clamping: pidStartTime)))) }
        o.append(("session", .string(session)))
        return .object(o)
    }
}

extension Ledger.Volume {
    var json: JSON {
        var o: [(String, JSON)] = [
            ("account", .string(account)), ("credentialsPath", .string(credentialsPath)),
        ]
        if let keyID { o.append(("keyID", .string(keyID))) }
        o += [
            ("mounted", .bool(mounted)), ("mountpoint", .string(mountpoint)), ("name", .string(name)),
            ("optionsDigest", .string(optionsDigest)),
            ("readOnly", .bool(readOnly)), ("share", .string(share)), ("source", .string(source)),
            ("updatedAt", .int(updatedAt)),
        ]
        return .object(o)
    }

    init(json: JSON, path: String) throws {
        let r = Fields(json, path: path)
        self.init(
            name: try r.string("name"), account: try r.string("account"), share: try r.string("share"),
            source: try r.string("source"),
            mountpoint: try r.string("mountpoint"), readOnly: try r.bool("readOnly"),
            optionsDigest: try r.string("optionsDigest"),
            credentialsPath: try r.optionalString("credentialsPath"), mounted: try r.bool("mounted"),
            keyID: try r.optionalString("keyID"), now: try r.int("updatedAt"))
    }
}

/// Typed access to an object's members, with errors that name the key (a volume record; the entries and
/// leases are read straight from the bytes).
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
        guard let v = try value(key) else {
            throw Ledger.FormatError(path: "\(path).\(key)", expected: "a value (missing)")
        }
        return v
    }

    func fail(_ key: String, _ what: String) -> Ledger.FormatError {
        Ledger.FormatError(path: "\(path).\(key)", expected: what)
    }

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

    func bool(_ key: String) throws -> Bool {
        guard let b = try required(key).boolValue else { throw fail(key, "true or false") }
        return b
    }
}
