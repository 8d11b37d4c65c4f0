import AzureFiles
import Foundation
import Glibc
import SystemSupport

/// The operations, each returning the service's status, headers and body.
extension EmulatorCore {
    static let maxRange = 4 * 1024 * 1024

    func etag() -> String { "\"0x\(String(UInt64.random(in: 1...UInt64.max), radix: 16, uppercase: true))\"" }

    func metadata(from r: EmulatorRequest) -> ([[String]], EmulatorResponse?) {
        var out: [[String]] = []
        for (k, v) in r.headers where k.lowercased().hasPrefix("x-ms-meta-") {
            let name = String(k.dropFirst(10))
            guard let first = name.unicodeScalars.first,
                first == "_" || (first.properties.isAlphabetic && first.isASCII),
                name.unicodeScalars.allSatisfy({
                    $0.isASCII && ($0 == "_" || $0.properties.isAlphabetic || ("0"..."9").contains($0))
                })
            else {
                return (
                    [],
                    .error(
                        400, .invalidMetadata,
                        "The metadata specified is invalid. It has characters that are not permitted.")
                )
            }
            if out.contains(where: { $0[0].lowercased() == name.lowercased() }) {
                return ([], .error(400, .invalidMetadata, "Duplicate metadata name \(name)."))
            }
            out.append([name, v])
        }
        return (out, nil)
    }

    func quota(from r: EmulatorRequest, default d: Int?) -> (Int?, EmulatorResponse?) {
        guard let q = r.header("x-ms-share-quota") else { return (d, nil) }
        guard let v = Int(q), ShareQuota.isValid(v) else {
            return (
                nil,
                .error(
                    400, .invalidHeaderValue, "The value for one of the HTTP headers is not in the correct format.",
                    extra: [("HeaderName", "x-ms-share-quota"), ("HeaderValue", q)])
            )
        }
        return (v, nil)
    }

    func createShare(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        if s.exists { return .error(409, .shareAlreadyExists, "The specified share already exists.") }
        if let cap = settings.maxShares[s.account] ?? settings.maxShares["*"] {
            let shares =
                (try? FileManager.default.contentsOfDirectory(atPath: "\(s.accountDir)/.emulator/shares")) ?? []
            if shares.filter({ $0.hasSuffix(".json") }).count >= cap {
                // The service's answer to a share beyond the account's limit (the status is not documented;
                // clients key on the code).
                return .error(
                    409, .totalSharesCountExceedsAccountLimit,
                    "The total number of shares in the storage account exceeds the account limit.")
            }
        }
        let (meta, badMeta) = metadata(from: r)
        if let badMeta { return badMeta }
        let (quota, badQuota) = quota(from: r, default: 5120)
        if let badQuota { return badQuota }
        let m = ShareStore.Meta(quota: quota!, metadata: meta, etag: etag(), lastModified: now())
        do {
            try FileManager.default.createDirectory(atPath: s.dir, withIntermediateDirectories: true)
            try s.save(m)
        } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        onShareChange?(s.account, s.share, true)
        return EmulatorResponse(
            status: 201, headers: [("ETag", m.etag), ("Last-Modified", CivilTime(unixSeconds: m.lastModified).rfc1123)])
    }

    func getShareProperties(_ s: ShareStore, snapshot: String?) -> EmulatorResponse {
        guard let m = s.load() else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        if let snapshot, !FileManager.default.fileExists(atPath: "\(s.snapshotDir)/\(snapshot)") {
            return .error(404, .shareNotFound, "The specified share snapshot does not exist.")
        }
        var h: [(String, String)] = [
            ("ETag", m.etag), ("Last-Modified", CivilTime(unixSeconds: m.lastModified).rfc1123),
            ("x-ms-share-quota", String(m.quota)),
        ]
        for kv in m.metadata { h.append(("x-ms-meta-" + kv[0], kv[1])) }
        return EmulatorResponse(status: 200, headers: h)
    }

    /// Get Share Metadata (`restype=share&comp=metadata`): the metadata, ETag and Last-Modified.
    func getShareMetadata(_ s: ShareStore, snapshot: String?) -> EmulatorResponse {
        guard let m = s.load() else { return Self.shareNotFound }
        if let snapshot, !FileManager.default.fileExists(atPath: "\(s.snapshotDir)/\(snapshot)") {
            return .error(404, .shareNotFound, "The specified share snapshot does not exist.")
        }
        var h: [(String, String)] = [
            ("ETag", m.etag), ("Last-Modified", CivilTime(unixSeconds: m.lastModified).rfc1123),
        ]
        for kv in m.metadata { h.append(("x-ms-meta-" + kv[0], kv[1])) }
        return EmulatorResponse(status: 200, headers: h)
    }

    func setShareQuota(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard var m = s.load() else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        let (quota, bad) = quota(from: r, default: nil)
        if let bad { return bad }
        if let quota { m.quota = quota }
        m.etag = etag()
        m.lastModified = now()
        do { try s.save(m) } catch { return .error(500, .internalError, "storage: \(error)") }
        return EmulatorResponse(status: 200, headers: [("ETag", m.etag)])
    }

    func setShareMetadata(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard var m = s.load() else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        let (meta, bad) = metadata(from: r)
        if let bad { return bad }
        m.metadata = meta
        m.etag = etag()
        m.lastModified = now()
        do { try s.save(m) } catch { return .error(500, .internalError, "storage: \(error)") }
        return EmulatorResponse(
            status: 200, headers: [("ETag", m.etag), ("Last-Modified", CivilTime(unixSeconds: m.lastModified).rfc1123)])
    }

    func snapshotShare(_ s: ShareStore, _ r: EmulatorRequest) -> EmulatorResponse {
        guard let base = s.load() else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        // The snapshot's metadata: the request's x-ms-meta-*, else the share's (as the service does).
        let (given, bad) = metadata(from: r)
        if let bad { return bad }
        var ts = SAS.timestamp(now()).dropLast().description + ".0000000Z"
        let fm = FileManager.default
        var n = 0
        while fm.fileExists(atPath: "\(s.snapshotDir)/\(ts)") {
            n += 1
            ts = SAS.timestamp(now()).dropLast().description + String(format: ".%07dZ", n)
        }
        do {
            try fm.createDirectory(atPath: s.snapshotDir, withIntermediateDirectories: true)
            try fm.copyItem(atPath: s.dir, toPath: "\(s.snapshotDir)/\(ts)")
            var meta = base
            meta.metadata = given.isEmpty ? base.metadata : given
            let file = s.snapshotMetaFile(ts)
            try fm.createDirectory(
                atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try JSONEncoder().encode(meta).write(to: URL(fileURLWithPath: file))
        } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        return EmulatorResponse(status: 201, headers: [("x-ms-snapshot", ts), ("ETag", etag())])
    }

    /// Delete Share with `sharesnapshot=`: that snapshot only.
    func deleteSnapshot(_ s: ShareStore, _ ts: String) -> EmulatorResponse {
        guard s.hasSnapshot(ts) else {
            return .error(404, .shareSnapshotNotFound, "The specified share snapshot does not exist.")
        }
        do { try FileManager.default.removeItem(atPath: "\(s.snapshotDir)/\(ts)") } catch {
            return .error(500, .internalError, "storage: \(error)")
        }
        _ = unlink(s.snapshotMetaFile(ts))
        return EmulatorResponse(status: 202)
    }

    func shareStats(_ s: ShareStore) -> EmulatorResponse {
        guard s.exists else { return .error(404, .shareNotFound, "The specified share does not exist.") }
        var total: Int64 = 0
        if let e = FileManager.default.enumerator(atPath: s.dir) {
            while let rel = e.nextObject() as? String {
                if let a = try? FileManager.default.attributesOfItem(atPath: s.dir + "/" + rel),
                    a[.type] as? FileAttributeType == .typeRegular, let size = a[.size] as? Int64
                {
                    total += size
                }
            }
        }
        let xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><ShareStats><ShareUsageBytes>\(total)</ShareUsageBytes></ShareStats>"
        return EmulatorResponse(
            status: 200, headers: [("Content-Type", "application/xml")], body: .bytes(Array(xml.utf8)))
    }

    /// The page length a listing returns: `maxresults` capped at the emulator's page size; nil when invalid.
    func pageLength(_ q: [String: String]) -> Int? {
        guard let m = q["maxresults"] else { return pageSize }
        guard let v = Int(m), v > 0 else { return nil }
        return min(v, pageSize)
    }
}
