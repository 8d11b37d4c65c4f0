/// The storage service's sort order for `x-ms-` header names in the Shared Key string-to-sign.
/// A port of the Azure SDK's `compare()` (azure-sdk-for-python `_shared/authentication.py`, taken from the
/// Azure C++ SDK): two weight tables; level 0 ignores punctuation such as `-` and weighs `_` before digits
/// before letters; level 1 breaks ties on `'` and `-`, including the SDK's odd index test. Not byte order.
public enum HeaderCollation {
    static let level0: [UInt16] = [
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
        0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x71c, 0x0, 0x71f, 0x721, 0x723, 0x725,
        0x0, 0x0, 0x0, 0x72d, 0x803, 0x0, 0x0, 0x733, 0x0, 0xd03, 0xd1a, 0xd1c, 0xd1e,
        0xd20, 0xd22, 0xd24, 0xd26, 0xd28, 0xd2a, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0, 0x0,
        0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25, 0xe2c, 0xe32, 0xe35, 0xe36, 0xe48, 0xe51,
        0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a, 0xe91, 0xe99, 0xe9f, 0xea2, 0xea4, 0xea6, 0xea7, 0xea9,
        0x0, 0x0, 0x0, 0x743, 0x744, 0x748, 0xe02, 0xe09, 0xe0a, 0xe1a, 0xe21, 0xe23, 0xe25,
        0xe2c, 0xe32, 0xe35, 0xe36, 0xe48, 0xe51, 0xe70, 0xe7c, 0xe7e, 0xe89, 0xe8a, 0xe91, 0xe99,
        0xe9f, 0xea2, 0xea4, 0xea6, 0xea7, 0xea9, 0x0, 0x74c, 0x0, 0x750, 0x0,
    ]

    static func level1(_ c: UInt8) -> UInt16 {
        switch c {
        case 39: return 0x8012  // '
        case 45: return 0x8212  // -
        default: return 0
        }
    }

    /// Weight of byte `c` at `level`; bytes above 127 (never in header names) weigh like ignorables.
    static func weight(_ c: UInt8, level: Int) -> UInt16 {
        guard c < 128 else { return 0 }
        return level == 0 ? level0[Int(c)] : level1(c)
    }

    /// -1, 0 or 1 as the SDK's `compare(lhs, rhs)`.
    public static func compare(_ lhs: String, _ rhs: String) -> Int {
        let l = Array(lhs.utf8)
        let r = Array(rhs.utf8)
        let levels = 2
        var level = 0
        var i = 0
        var j = 0
        while level < levels {
            if level == levels - 1 && i != j {
                return i > j ? -1 : 1
            }
            let w1: UInt16 = i < l.count ? weight(l[i], level: level) : 1
            let w2: UInt16 = j < r.count ? weight(r[j], level: level) : 1
            if w1 == 1 && w2 == 1 {
                i = 0
                j = 0
                level += 1
            } else if w1 == w2 {
                i += 1
                j += 1
            } else if w1 == 0 {
                i += 1
            } else if w2 == 0 {
                j += 1
            } else {
                return w1 < w2 ? -1 : 1
            }
        }
        return 0
    }

    /// Sorts (name, value) pairs by name with ``compare(_:_:)``; stable for equal names.
    public static func sorted(_ headers: [(String, String)]) -> [(String, String)] {
        // Python's sorted(key=cmp_to_key(compare)) is stable; so is this insertion into an indexed sort.
        headers.enumerated().sorted { a, b in
            let c = compare(a.element.0, b.element.0)
            return c != 0 ? c < 0 : a.offset < b.offset
        }.map(\.element)
    }
}
