import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// Delete Share (with soft delete as a server setting), Undelete Share, List Shares with `include=deleted,
/// metadata,snapshots`, and List Handles (azure-files-protocol-2.md sections 7 and 8).
extension EmulatorCore {
    /// Where soft-deleted versions of a share are kept: `<account>/.emulator/deleted/<share>/<version>/` holding
    /// `content/`, `meta.json`, `snapshots/` and `deleted-at` (unix seconds).
    func deletedDir(account: String, share: String) -> String { "\(dataDir)/\(account)/.emulator/deleted/\(share)" }

    struct DeletedVersion {
        let share: String
        let version: String
        let dir: String
        let deletedAt: Int
        let meta: ShareStore.Meta?
        let remainingDays: Int
    }

    /// The restorable deleted versions of `share` (expired ones are purged on the way).
    func deletedVersions(account: String, share: String) -> [DeletedVersion] {
        let fm = FileManager.default
        let base = deletedDir(account: account, share: share)
        let days = settings.softDeleteDays ?? 0
        return ((try? fm.contentsOfDirectory(atPath: base)) ?? []).sorted().compactMap { v in
            let dir = "\(base)/\(v)"
            guard let text = try? String(contentsOfFile: "\(dir)/deleted-at", encoding: .utf8),
                let at = Int(text.trimmingWhitespace())
            else { return nil }
            let remaining = days - (now() - at) / 86_400
            if remaining <= 0 {
                try? fm.removeItem(atPath: dir)
                return nil
            }
            let meta = (try? Data(contentsOf: URL(fileURLWithPath: "\(dir)/meta.json"))).flatMap {
                try? JSONDecoder().decode(ShareStore.Meta.self, from: $0)
            }
            return DeletedVersion(
                share: share, version: v, dir: dir, deletedAt: at, meta: meta, remainingDays: remaining)
        }
    }

    func deleteShare(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        let fm = FileManager.default
        let snapshots = (try? fm.contentsOfDirectory(atPath: s.snapshotDir)) ?? []
        if !snapshots.isEmpty && r.header("x-ms-delete-snapshots") == nil {
            return .error(409, .shareHasSnapshots, "The share has snapshots and the operation requires no snapshots.")
        }
        if settings.softDeleteDays != nil {
            // Kept whole (data, metadata, snapshots) under a version id, as Undelete Share restores it.
            let version = String(format: "%016llX", UInt64(now()) << 20 | UInt64.random(in: 0..<(1 << 20)))
            let dir = "\(deletedDir(account: s.account, share: s.share))/\(version)"
            do {
                try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
                try fm.moveItem(atPath: s.dir, toPath: "\(dir)/content")
                try fm.moveItem(atPath: s.metaFile, toPath: "\(dir)/meta.json")
                if fm.fileExists(atPath: s.snapshotDir) {
                    try fm.moveItem(atPath: s.snapshotDir, toPath: "\(dir)/snapshots")
                }
                if fm.fileExists(atPath: s.propsDir) { try fm.moveItem(atPath: s.propsDir, toPath: "\(dir)/props") }
                try String(now()).write(toFile: "\(dir)/deleted-at", atomically: true, encoding: .utf8)
            } catch {
                return .error(500, .internalError, "storage: \(error)")
            }
        } else {
            try? fm.removeItem(atPath: s.snapshotDir)
            try? fm.removeItem(atPath: s.propsDir)
            try? fm.removeItem(atPath: s.dir)
            try? fm.removeItem(atPath: s.metaFile)
        }
        onShareChange?(s.account, s.share, false)
        return EmulatorResponse(status: 202)
    }

    /// Undelete Share: the path names the restored share; the headers name the deleted share and version.
    func undeleteShare(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let name = r.header("x-ms-deleted-share-name"), let version = r.header("x-ms-deleted-share-version")
        else {
            return .error(
                400, .missingRequiredHeader, "x-ms-deleted-share-name and x-ms-deleted-share-version are required.")
        }
        guard ShareName.isValid(name) else {
            return .error(400, .invalidHeaderValue, "x-ms-deleted-share-name is not a share name.")
        }
        if s.exists { return .error(409, .shareAlreadyExists, "The specified share already exists.") }
        guard let d = deletedVersions(account: s.account, share: name).first(where: { $0.version == version }),
            var meta = d.meta
        else {
            return .error(404, .shareNotFound, "The specified share does not exist.")
        }
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: AtomicFile.directory(of: s.metaFile), withIntermediateDirectories: true)
            try fm.moveItem(atPath: "\(d.dir)/content", toPath: s.dir)
            if fm.fileExists(atPath: "\(d.dir)/snapshots") {
                try fm.createDirectory(
                    atPath: AtomicFile.directory(of: s.snapshotDir), withIntermediateDirectories: true)
                try fm.moveItem(atPath: "\(d.dir)/snapshots", toPath: s.snapshotDir)
            }
            if fm.fileExists(atPath: "\(d.dir)/props") {
                try fm.createDirectory(atPath: AtomicFile.directory(of: s.propsDir), withIntermediateDirectories: true)
                try fm.moveItem(atPath: "\(d.dir)/props", toPath: s.propsDir)
            }
            meta.etag = etag()
            meta.lastModified = now()
            try s.save(meta)
            try fm.removeItem(atPath: d.dir)
        } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        onShareChange?(s.account, s.share, true)
        return EmulatorResponse(
            status: 201,
            headers: [
                ("ETag", meta.etag), ("Last-Modified", CivilTime(unixSeconds: meta.lastModified).rfc1123),
                ("x-ms-share-quota", String(meta.quota)),
            ])
    }

    func listShares(account: String, q: [String: String]) -> EmulatorResponse {
        let fm = FileManager.default
        let metaDir = "\(dataDir)/\(account)/.emulator/shares"
        let include = Set((q["include"] ?? "").split(separator: ",").map(String.init))
        var names = Set(
            ((try? fm.contentsOfDirectory(atPath: metaDir)) ?? []).filter { $0.hasSuffix(".json") }.map {
                String($0.dropLast(5))
            })
        if include.contains("deleted") {
            names.formUnion((try? fm.contentsOfDirectory(atPath: "\(dataDir)/\(account)/.emulator/deleted")) ?? [])
        }
        let prefix = q["prefix"] ?? ""
        guard let maxResults = pageLength(q) else {
            return .error(400, .outOfRangeQueryParameterValue, "maxresults must be positive.")
        }
        let startAfter = q["marker"].map { String($0.split(separator: "/").last ?? "") }
        var candidates = names.sorted().filter { $0.hasPrefix(prefix) }
        if let startAfter, !startAfter.isEmpty { candidates = candidates.filter { $0 >= startAfter } }
        let page = candidates.prefix(maxResults)
        let next = candidates.count > maxResults ? "/\(account)/\(candidates[maxResults])" : ""
        func properties(_ m: ShareStore.Meta?, extra: String = "") -> String {
            "<Properties><Last-Modified>\(CivilTime(unixSeconds: m?.lastModified ?? 0).rfc1123)</Last-Modified><Etag>\(XMLElement.escape(m?.etag ?? ""))</Etag><Quota>\(m?.quota ?? 0)</Quota>\(extra)</Properties>"
        }
        func metadata(_ m: ShareStore.Meta?) -> String {
            include.contains("metadata")
                ? "<Metadata>" + (m?.metadata ?? []).map { "<\($0[0])>\(XMLElement.escape($0[1]))</\($0[0])>" }.joined()
                    + "</Metadata>" : ""
        }
        var xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://emulator/\(account)/\">"
        if !prefix.isEmpty { xml += "<Prefix>\(XMLElement.escape(prefix))</Prefix>" }
        if let m = q["marker"] { xml += "<Marker>\(XMLElement.escape(m))</Marker>" }
        if q["maxresults"] != nil { xml += "<MaxResults>\(maxResults)</MaxResults>" }
        xml += "<Shares>"
        for name in page {
            let store = ShareStore(root: dataDir, account: account, share: name)
            if let m = store.load() {
                if include.contains("snapshots") {
                    for ts in ((try? fm.contentsOfDirectory(atPath: store.snapshotDir)) ?? []).sorted() {
                        let own = (try? Data(contentsOf: URL(fileURLWithPath: store.snapshotMetaFile(ts)))).flatMap {
                            try? JSONDecoder().decode(ShareStore.Meta.self, from: $0)
                        }
                        xml +=
                            "<Share><Name>\(name)</Name><Snapshot>\(ts)</Snapshot>\(properties(own ?? m))\(metadata(own ?? m))</Share>"
                    }
                }
                xml += "<Share><Name>\(name)</Name>\(properties(m))\(metadata(m))</Share>"
            }
            if include.contains("deleted") {
                for d in deletedVersions(account: account, share: name) {
                    let extra =
                        "<DeletedTime>\(CivilTime(unixSeconds: d.deletedAt).rfc1123)</DeletedTime><RemainingRetentionDays>\(d.remainingDays)</RemainingRetentionDays>"
                    xml +=
                        "<Share><Name>\(name)</Name><Deleted>true</Deleted><Version>\(d.version)</Version>\(properties(d.meta, extra: extra))\(metadata(d.meta))</Share>"
                }
            }
        }
        xml += "</Shares><NextMarker>\(XMLElement.escape(next))</NextMarker></EnumerationResults>"
        return EmulatorResponse(
            status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }

    /// List Handles on a share, a directory (recursively with `x-ms-recursive: true`) or a file; the handles
    /// come from the server setting (samba in the end-to-end test). Paged by `maxresults` and an index marker.
    func listHandles(_ s: ShareStore, path: String, _ r: EmulatorRequest) -> EmulatorResponse {
        guard s.exists else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        if !path.isEmpty && s.kind(path) == nil { return Self.notFound }
        let recursive = r.header("x-ms-recursive") == "true"
        let all = (settings.handles?(s.account, s.share) ?? []).filter { h in
            if path.isEmpty { return recursive || !h.path.contains("/") }
            if h.path == path { return true }
            guard h.path.hasPrefix(path + "/") else { return false }
            return recursive || !h.path.dropFirst(path.count + 1).contains("/")
        }
        let q = r.query
        guard let maxResults = pageLength(q) else {
            return .error(400, .outOfRangeQueryParameterValue, "maxresults must be positive.")
        }
        // The marker is this emulator's own (an index into the handles): anything else a client sends is refused,
        // never used to index (a negative one trapped).
        var start = 0
        if let m = q["marker"], !m.isEmpty {
            guard let v = Int(m), v >= 0 else {
                return .error(
                    400, .invalidQueryParameterValue, "The marker is not valid.",
                    extra: [("QueryParameterName", "marker")])
            }
            start = v
        }
        let page = all.dropFirst(start).prefix(maxResults)
        let next = start + page.count < all.count ? String(start + page.count) : ""
        var xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Entries>"
        for (i, h) in page.enumerated() {
            xml +=
                "<Handle><HandleId>\(start + i + 1)</HandleId><Path>\(XMLElement.escape(h.path))</Path><FileId>\(start + i + 1)</FileId>"
                + "<SessionId>\(start + i + 1)</SessionId><ClientIp>\(XMLElement.escape(h.clientIP))</ClientIp><ClientName>\(XMLElement.escape(h.clientName))</ClientName>"
                + "<OpenTime>\(CivilTime(unixSeconds: h.openTime).rfc1123)</OpenTime></Handle>"
        }
        xml += "</Entries><NextMarker>\(next)</NextMarker></EnumerationResults>"
        return EmulatorResponse(
            status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }
}
