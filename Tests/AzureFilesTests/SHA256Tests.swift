import AzureFiles
import COpenSSL
import SystemSupport
import Testing

/// The Swift SHA-256 against libcrypto's SHA256(): every length from 0 to 300 bytes (all padding cases around
/// the 55/56/64-byte boundaries, several blocks) with random contents, some long inputs, and the FIPS 180-4
/// examples.
@Suite struct SHA256Tests {
    static func openssl(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let n = bytes.withUnsafeBufferPointer { pus_ssl_sha256($0.baseAddress, $0.count, &out) }
        precondition(n == 32, "libcrypto's SHA256 is not available")
        return out
    }

    @Test func agreesWithLibcryptoOnEveryShortLength() {
        var rng = SystemRandomNumberGenerator()
        for n in 0...300 {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(SystemSupport.SHA256.hash(bytes) == Self.openssl(bytes), "length \(n)")
        }
    }

    @Test func agreesWithLibcryptoOnLongInputs() {
        var rng = SystemRandomNumberGenerator()
        for n in [1_000, 4_095, 4_096, 65_537, 1 << 20] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(SystemSupport.SHA256.hash(bytes) == Self.openssl(bytes), "length \(n)")
        }
    }

    @Test func fipsExamples() {
        #expect(
            Crypto.hex(SystemSupport.SHA256.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            Crypto.hex(SystemSupport.SHA256.hash([]))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            Crypto.hex(Crypto.sha256(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }
}
