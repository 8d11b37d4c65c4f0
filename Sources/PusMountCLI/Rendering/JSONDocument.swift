import SystemSupport

extension JSON {
    /// The version of every JSON document pus-mount prints (`--json` results and errors) and of each audit
    /// line: fields are only ever added within a version; a removal or a change of meaning bumps it.
    static let documentVersion = 1

    /// A top-level document: `"version"` first, then `fields`.
    static func document(_ fields: [(String, JSON)]) -> JSON {
        .object([("version", .int(documentVersion))] + fields.filter { $0.0 != "version" })
    }
}
