import COpenSSL
import SystemSupport

/// HMAC-SHA256 and MD5 over OpenSSL's libcrypto, opened on first use (COpenSSL: a command that signs nothing
/// never maps it); SHA-256 in Swift, hex and base64.
public enum Crypto {
    /// HMAC-SHA256 of `message` with `key` (HMAC(3)). An empty key is allowed (unlike EVP_MAC_init).
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(pus_ssl_max_md_size()))
        let keyCopy = key.isEmpty ? [0] : key
        let n = keyCopy.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                pus_ssl_hmac_sha256(
                    k.baseAddress, Int32(key.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self), m.count, &out)
            }
        }
        guard n > 0 else { libcryptoMissing() }
        return Array(out[0..<Int(n)])
    }

    /// MD5 digest of `bytes` (EVP_Digest; the File service's Content-MD5, not for security).
    public static func md5(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(pus_ssl_max_md_size()))
        let n = bytes.withUnsafeBytes { pus_ssl_md5($0.baseAddress, $0.count, &out) }
        guard n > 0 else { libcryptoMissing() }
        return Array(out[0..<Int(n)])
    }

    /// An MD5 digest fed in pieces: a blob's Content-MD5 over a file read block by block (memory stays flat).
    public final class MD5Stream {
        var context: UnsafeMutableRawPointer?

        public init() {
            guard let c = pus_ssl_md5_begin() else { Crypto.libcryptoMissing() }
            context = c
        }

        deinit {
            var scratch = [UInt8](repeating: 0, count: Int(pus_ssl_max_md_size()))
            if let context { _ = pus_ssl_md5_end(context, &scratch) }
        }

        public func update(_ bytes: UnsafeRawBufferPointer) {
            guard let context, bytes.count > 0 else { return }
            guard pus_ssl_md5_update(context, bytes.baseAddress, bytes.count) == 1 else { Crypto.libcryptoMissing() }
        }

        /// The digest; the stream is spent afterwards.
        public func finish() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: Int(pus_ssl_max_md_size()))
            guard let c = context else { return [] }
            context = nil
            let n = pus_ssl_md5_end(c, &out)
            guard n > 0 else { Crypto.libcryptoMissing() }
            return Array(out[0..<Int(n)])
        }
    }

    /// Nothing can be signed without libcrypto: the package depends on libssl3, so this is a broken install.
    static func libcryptoMissing() -> Never {
        let why = pus_ssl_load_error().map { String(cString: $0) } ?? "a digest failed"
        fatalError("libcrypto.so.3 could not be used (\(why)): install libssl3")
    }

    /// SHA-256 digest of `bytes` (in Swift: ``SHA256``; libcrypto's SHA256() would initialise all of OpenSSL on
    /// a warm attach, which sends no request).
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { SHA256.hash(bytes) }

    /// Lower-case hex of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Standard base64 with padding.
    public static func base64(_ bytes: [UInt8]) -> String { Base64.encode(bytes) }

    /// Decodes standard base64; nil when the text is not valid base64.
    public static func base64Decode(_ text: String) -> [UInt8]? { Base64.decode(text) }
}
