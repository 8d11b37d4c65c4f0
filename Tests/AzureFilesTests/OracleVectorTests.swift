import Foundation
import SystemSupport
import Testing

@testable import AzureFiles

/// Byte-for-byte comparison with vectors the official Azure SDK produced (Tests/Oracle/make_vectors.py).
/// CI regenerates them from the SDK and points PUS_ORACLE_VECTORS at the fresh file; without it the
/// committed copy (made by the same script) is used.
struct OracleVectors: Decodable {
    struct Request: Decodable {
        let name: String
        let method: String
        let url: String
        let headers: [String: String]
        // swift-format-ignore: AlwaysUseLowerCamelCase
        // (the vector files' key, decoded as is)
        let string_to_sign: String
        let authorization: String
    }
    struct SASVector: Decodable {
        let name: String
        let kind: String
        let inputs: [String: String]
        // swift-format-ignore: AlwaysUseLowerCamelCase
        // (the vector files' key, decoded as is)
        let string_to_sign: String
        let token: String
    }
    let account: String
    let key: String
    let version: String
    let raw: [Request]
    let sdk: [Request]
    let sas: [SASVector]

    static func load() throws -> OracleVectors {
        let url: URL
        if let path = ProcessInfo.processInfo.environment["PUS_ORACLE_VECTORS"] {
            url = URL(fileURLWithPath: path)
        } else {
            url = try #require(
                Bundle.module.url(forResource: "vectors", withExtension: "json", subdirectory: "Vectors"))
        }
        return try JSONDecoder().decode(OracleVectors.self, from: Data(contentsOf: url))
    }
}

/// Splits a URL into its path (as sent) and raw query.
func pathAndQuery(_ url: String) -> (String, String) {
    let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? Substring(url)
    let pathStart = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
    let rest = afterScheme[pathStart...]
    if let q = rest.firstIndex(of: "?") { return (String(rest[..<q]), String(rest[rest.index(after: q)...])) }
    return (String(rest), "")
}

@Suite struct OracleVectorTests {
    let vectors: OracleVectors
    let key: SharedKey

    init() throws {
        vectors = try OracleVectors.load()
        key = try #require(SharedKey(account: vectors.account, key: Secret(vectors.key)))
    }

    @Test func pinnedVersionMatchesSDK() {
        #expect(vectors.version == FilesAPI.version)
    }

    @Test func rawRequestsSignIdentically() throws {
        #expect(vectors.raw.count >= 10)
        for v in vectors.raw + vectors.sdk {
            let (path, query) = pathAndQuery(v.url)
            let headers = v.headers.filter { $0.key != "Authorization" }.map { ($0.key, $0.value) }
            let sts = SharedKey.stringToSign(
                account: vectors.account, method: v.method, path: path, query: query, headers: headers)
            #expect(sts == v.string_to_sign, "\(v.name): string-to-sign differs")
            #expect(
                key.authorization(method: v.method, path: path, query: query, headers: headers) == v.authorization,
                "\(v.name)")
        }
    }

    @Test func sasTokensMatch() throws {
        #expect(vectors.sas.count >= 11)
        #expect(Set(vectors.sas.map(\.kind)) == ["share", "file", "account", "container", "blob"])
        for v in vectors.sas {
            let i = v.inputs
            switch v.kind {
            case "account":
                let f = SAS.AccountFields(
                    permissions: i["permissions"]!, services: i["services"]!, resourceTypes: i["resource_types"]!,
                    start: i["start"], expiry: i["expiry"]!, ip: i["ip"], protocolName: i["protocol"])
                #expect(SAS.accountStringToSign(account: vectors.account, fields: f) == v.string_to_sign, "\(v.name)")
                #expect(SAS.accountToken(key: key, fields: f) == v.token, "\(v.name)")
            default:
                let resource: SAS.Resource
                switch v.kind {
                case "share": resource = .share(i["share"]!)
                case "file": resource = .file(share: i["share"]!, path: i["path"]!)
                case "container": resource = .container(i["container"]!)
                default: resource = .blob(container: i["container"]!, name: i["path"]!)
                }
                let f = SAS.ServiceFields(
                    permissions: i["permissions"]!, start: i["start"], expiry: i["expiry"], ip: i["ip"],
                    protocolName: i["protocol"])
                #expect(
                    SAS.serviceStringToSign(account: vectors.account, resource: resource, fields: f)
                        == v.string_to_sign, "\(v.name)")
                #expect(SAS.serviceToken(key: key, resource: resource, fields: f) == v.token, "\(v.name)")
            }
        }
    }

    @Test func collationPutsUnderscoreBeforeDigits() {
        let names = ["x-ms-meta-i0", "x-ms-meta-i_", "x-ms-meta-i1", "x-ms-meta-a_b", "x-ms-meta-ab", "x-ms-meta-zeta"]
        let sorted = HeaderCollation.sorted(names.map { ($0, "") }).map(\.0)
        #expect(
            sorted == [
                "x-ms-meta-a_b", "x-ms-meta-ab", "x-ms-meta-i_", "x-ms-meta-i0", "x-ms-meta-i1", "x-ms-meta-zeta",
            ])
        #expect(sorted != names.sorted())
    }
}
