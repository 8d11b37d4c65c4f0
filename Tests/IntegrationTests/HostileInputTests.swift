import Foundation
import TestSupport
import Testing

/// The hostile-input table: names, configurations, key files, HTTP replies (real loopback HTTP from a scripted
/// server: 4xx/5xx, garbage, truncated, slow, silent, huge), a full state directory, and bad arguments. Every row
/// asserts the documented exit status, one clear line naming what was wrong, no secret in the output, and that
/// nothing was left behind: the directory tree (files, modes, sizes, contents) and the mount table are as before.
/// (Not compared: lock files, kept by design; the audit log and the service-stats counters, which record
/// failures; and the directories a node keeps anyway: the state directory, mount.root, local.root and a user's
/// provisioned directory, like a share.)
@Suite(.serialized) struct HostileInputTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var testDescription: String { what }
        var what: String
        var args: [String]
        var status: Int32
        var message: String
        /// Config: nil = local backend default; "azure" = the scripted server's account; or a full text with
        /// `$DIR` and `$KEY` placeholders.
        var config: String? = nil
        var extra = ""
        var reply: (@Sendable (Int, String) -> RawHTTPServer.Reply)? = nil
        var keyText: String? = nil
        var keyMode: mode_t = 0o600
        var setup: (@Sendable (TempDir) throws -> Void)? = nil
        var namespace = false
        var maxSeconds: Double? = nil
        /// Peak RSS bound in KiB, measured with GNU time (which forks the command from a small process).
        var maxRSSKiB: Int? = nil
    }

    static let key = Data((0..<64).map { UInt8(truncatingIfNeeded: $0 * 13 + 5) }).base64EncodedString()
    static let u = TestUsers.name(48)

    static func local(_ what: String, _ args: [String], _ status: Int32, _ message: String, extra: String = "") -> Row {
        Row(what: what, args: args, status: status, message: message, extra: extra)
    }

    /// List Shares finding nothing (what provision and a first attach ask before Create Share).
    static let emptyShareListing = RawHTTPServer.response(
        200,
        body:
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults><Shares /><NextMarker /></EnumerationResults>"
    )

    /// A server whose `n`-th answer is `reply(n)`. provision first lists the user's shares with deleted ones
    /// (none may be buried under a new share): that listing is answered empty and not counted, so `n` = 0 is
    /// the Create Share these rows are about.
    static func http(
        _ what: String, _ status: Int32, _ message: String, args: [String] = ["provision", u], seconds: Double = 12,
        _ reply: @escaping @Sendable (Int) -> RawHTTPServer.Reply
    ) -> Row {
        let listsFirst = args.first == "provision"
        return Row(
            what: what, args: args, status: status, message: message, config: "azure",
            reply: { n, line in
                if listsFirst && line.contains("include=deleted") { return emptyShareListing }
                return reply(listsFirst ? max(0, n - 1) : n)
            }, maxSeconds: seconds)
    }

    /// Share properties saying the share is the test user's, then `listing` for every directory listing.
    static func listing(
        _ what: String, _ status: Int32, _ message: String, seconds: Double = 12, _ listing: RawHTTPServer.Reply
    ) -> Row {
        Row(
            what: what, args: ["ls", u], status: status, message: message, config: "azure",
            reply: { _, line in
                line.contains("comp=list")
                    ? listing
                    : RawHTTPServer.response(200, headers: [("x-ms-share-quota", "5"), ("x-ms-meta-pus_user", u)])
            }, maxSeconds: seconds)
    }

    static func config(_ what: String, _ text: String, _ message: String, status: Int32 = 78) -> Row {
        Row(what: what, args: ["attach", u], status: status, message: message, config: text)
    }

    static let base = """
        [local]
        root = "$DIR/local"
        [mount]
        root = "$DIR/mnt"
        [paths]
        state_dir = "$DIR/state"
        credentials_dir = "$DIR/creds"
        audit_log = "$DIR/audit.jsonl"

        """
    static let account = """
        [[azure.accounts]]
        name = "hostile"
        key_file = "$DIR/account.key"
        file_endpoint = "$ENDPOINT"
        smb_host = "127.0.0.1"

        """

    static var rows: [Row] {
        var r: [Row] = []
        // Names: refused before any file, mount or request (65), or unknown / refused by policy (67).
        let bad = [
            "a,uid=0", "../x", "x/y", "a\nb", String(repeating: "a", count: 300), "ünïcode", "a=b", " alice", ".hidden",
            "",
            "a b", "a\tb", "a;b", "a|b", "a`id`", "$(id)", "a*", "a?", "a[1]", "{a}", "a<b", "a>b", "a\\b", "a\"b",
            "a'b", "a&b",
            "a!b", "a#b", "a%b", "a^b", "a~b", "a+b", "a:b", "a\u{7f}", "\u{200b}alice", "-x", "--", "a\u{1b}[2J",
        ]
        for (i, n) in bad.enumerated() {
            r.append(
                local(
                    "name #\(i) \(n.debugDescription)", ["attach", "--", n], 65,
                    n.isEmpty ? "empty" : "invalid user name"))
        }
        r.append(local("a bare -x is a usage error", ["attach", "-x"], 64, "Error:"))
        for (n, msg) in [
            ("nosuchuser-pus", "unknown user"), ("root", "users.deny"), (TestUsers.lowUID, "min_uid"),
            ("daemon", "min_uid"),
        ] {
            r.append(local("user \(n)", ["attach", n], 67, msg))
        }
        r.append(local("a user in users.deny", ["attach", u], 67, "users.deny", extra: "[users]\ndeny = [\"\(u)\"]\n"))
        // Configurations (78), each naming the key and the fix.
        let b = base
        r += [
            config("unknown top-level key", "bakend = \"local\"\n" + b, "unknown key bakend"),
            config("a NUL byte hiding the rest", "backend = \"local\"\n\u{0}\n" + b, "control character"),
            config("an escape sequence in a comment", "backend = \"local\" # \u{1b}[2J\n" + b, "control character"),
            config(
                "unknown key in a table", "backend = \"local\"\n" + b + "[sas]\nmax_expiry_hour = 3\n",
                "unknown key sas.max_expiry_hour"),
            config("unknown backend", "backend = \"nfs\"\n" + b, "backend = \"nfs\" is not known"),
            config("no backend and no accounts", b, "backend is not set"),
            config("azure without accounts", "backend = \"azure\"\n" + b, "at least one [[azure.accounts]]"),
            config(
                "bad account name",
                "backend = \"azure\"\n" + b + account.replacingOccurrences(of: "\"hostile\"", with: "\"Bad_Name\""),
                "not a storage account name"),
            config(
                "weight is a string", "backend = \"azure\"\n" + b + account + "weight = \"1\"\n",
                "weight must be an integer"),
            config("weight out of range", "backend = \"azure\"\n" + b + account + "weight = 5000\n", "out of range"),
            config("quota out of range", "backend = \"local\"\n" + b + "[shares]\nquota_gib = 0\n", "out of range"),
            config("bad share prefix", "backend = \"local\"\n" + b + "[shares]\nprefix = \"Pus-X\"\n", "shares.prefix"),
            config(
                "file_mode not octal",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\nfile_mode = \"600\"\n"),
                "not an octal mode"),
            config(
                "dir_mode 8",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\ndir_mode = \"0800\"\n"),
                "not an octal mode"),
            config(
                "vers injection",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\nvers = \"3.0,uid=0\"\n"),
                "not a protocol version"),
            config(
                "option with a comma",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\noptions = [\"ro,uid=0\"]\n"),
                "not allowed"),
            config(
                "sec=krb5 reserved",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\noptions = [\"sec=krb5\"]\n"),
                "sec is set by pus-mount"),
            config(
                "noperm refused",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\noptions = [\"noperm\"]\n"),
                "weaken the per-user isolation"),
            config(
                "suid refused",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\noptions = [\"suid\"]\n"), "not allowed"),
            config(
                "options not an array",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\noptions = \"serverino\"\n"),
                "array of strings"),
            config(
                "relative mount.root",
                "backend = \"local\"\n" + b.replacingOccurrences(of: "root = \"$DIR/mnt\"", with: "root = \"mnt\""),
                "must be an absolute path"),
            config(
                "dotdot in state_dir",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "state_dir = \"$DIR/state\"", with: "state_dir = \"$DIR/../state\""),
                "without '..'"),
            config(
                "comma in credentials_dir",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(
                        of: "credentials_dir = \"$DIR/creds\"", with: "credentials_dir = \"$DIR/a,uid=0\""),
                "without '..' or ','"),
            config(
                "timeout out of range",
                "backend = \"local\"\n"
                    + b.replacingOccurrences(of: "[mount]\n", with: "[mount]\ntimeout_seconds = 0\n"), "out of range"),
            config("min_uid 0", "backend = \"local\"\n" + b + "[users]\nmin_uid = 0\n", "out of range"),
            config("deny not strings", "backend = \"local\"\n" + b + "[users]\ndeny = [1, 2]\n", "array of strings"),
            config(
                "volume without share",
                "backend = \"azure\"\n" + b + account
                    + "[[volumes]]\nname = \"v\"\naccount = \"hostile\"\nmountpoint = \"/mnt/v\"\n",
                "needs name, account, share and mountpoint"),
            config(
                "volume with a bad name",
                "backend = \"azure\"\n" + b + account
                    + "[[volumes]]\nname = \"V V\"\naccount = \"hostile\"\nshare = \"data\"\nmountpoint = \"/mnt/v\"\n",
                "volumes name"),
            config(
                "volume on an unknown account",
                "backend = \"azure\"\n" + b + account
                    + "[[volumes]]\nname = \"v\"\naccount = \"nope\"\nshare = \"data\"\nmountpoint = \"/mnt/v\"\n",
                "not in [[azure.accounts]]"),
            config(
                "volume under mount.root",
                "backend = \"azure\"\n" + b + account
                    + "[[volumes]]\nname = \"v\"\naccount = \"hostile\"\nshare = \"data\"\nmountpoint = \"$DIR/mnt/v\"\n",
                "lies under mount.root"),
            config(
                "volume share invalid",
                "backend = \"azure\"\n" + b + account
                    + "[[volumes]]\nname = \"v\"\naccount = \"hostile\"\nshare = \"Data--x\"\nmountpoint = \"/mnt/v\"\n",
                "not a valid share name"),
            config("an account listed twice", "backend = \"azure\"\n" + b + account + account, "listed twice"),
            config(
                "a file:// endpoint",
                "backend = \"azure\"\n" + b + account.replacingOccurrences(of: "$ENDPOINT", with: "file:///etc/passwd"),
                "http:// or https://"),
            config(
                "a gopher:// endpoint",
                "backend = \"azure\"\n" + b
                    + account.replacingOccurrences(of: "$ENDPOINT", with: "gopher://127.0.0.1/x"), "http:// or https://"
            ),
            config("TOML syntax error", "backend = \"local\n" + b, "line 1"),
            config("a value where a table belongs", "backend = \"local\"\nusers = 3\n" + b, "users must be a table"),
            config("not TOML at all", "\u{0}\u{1}\u{2}binary", "control character"),
        ]
        r.append(
            Row(
                what: "config file writable by others", args: ["attach", u], status: 78, message: "chown root:root",
                config: "backend = \"local\"\n" + b, setup: { d in chmod(d.file("pus-mount.toml"), 0o666) }))
        r.append(
            Row(
                what: "config file owned by a user", args: ["attach", u], status: 78, message: "owned by uid 42048",
                config: "backend = \"local\"\n" + b, setup: { d in chown(d.file("pus-mount.toml"), 42048, 100) }))
        r.append(
            Row(
                what: "config path that does not exist", args: ["--config", "/nonexistent/pus.toml", "attach", u],
                status: 78,
                message: "cannot read config file"))
        r.append(
            Row(
                what: "config path that is a directory", args: ["--config", "/tmp", "attach", u], status: 78,
                message: "not a regular file"))
        // Key files (78), and a key the service rejects (77).
        let azure = "azure"
        r += [
            Row(
                what: "key file missing", args: ["provision", u], status: 78, message: "does not exist", config: azure,
                reply: { _, _ in .close },
                setup: { d in unlink(d.file("account.key")) }),
            Row(
                what: "key file readable by others", args: ["provision", u], status: 78, message: "chmod 0600",
                config: azure, reply: { _, _ in .close }, keyMode: 0o644),
            Row(
                what: "key file owned by a user", args: ["provision", u], status: 78, message: "owned by uid 42048",
                config: azure, reply: { _, _ in .close },
                setup: { d in chown(d.file("account.key"), 42048, 100) }),
            Row(
                what: "key file is a symlink", args: ["provision", u], status: 78, message: "symbolic link",
                config: azure, reply: { _, _ in .close },
                setup: { d in
                    unlink(d.file("account.key"))
                    symlink(d.file("real.key"), d.file("account.key"))
                }),
            Row(
                what: "key file empty", args: ["provision", u], status: 78, message: "is empty", config: azure,
                reply: { _, _ in .close }, keyText: ""),
            Row(
                what: "key file with three lines", args: ["provision", u], status: 78, message: "more than two lines",
                config: azure, reply: { _, _ in .close },
                keyText: key + "\n" + key + "\n" + key + "\n"),
            Row(
                what: "key file not base64", args: ["provision", u], status: 78, message: "not valid base64",
                config: azure, reply: { _, _ in .close },
                keyText: "not base64 at all!"),
            Row(
                what: "second key not base64", args: ["provision", u], status: 78, message: "line 2", config: azure,
                reply: { _, _ in .close },
                keyText: key + "\n%%%\n"),
            http("a key the service rejects", 77, "AuthenticationFailed") { _ in
                RawHTTPServer.azureError(403, "AuthenticationFailed")
            },
        ]
        // HTTP replies: statuses, garbage, truncation, silence, huge bodies.
        r += [
            http("403 authorization failure", 77, "AuthorizationFailure") { _ in
                RawHTTPServer.azureError(403, "AuthorizationFailure")
            },
            http("400 bad header", 1, "InvalidHeaderValue") { _ in RawHTTPServer.azureError(400, "InvalidHeaderValue")
            },
            // Server text that would drive a terminal or split a log line: ESC sequences, an OSC title, BEL, CR,
            // and &#10; in <Code>: escaped, one line (issue 15, item 8).
            http("server text with control characters", 1, "Evil\\x0a\\x0dCode") { _ in
                RawHTTPServer.response(
                    400,
                    headers: [
                        ("Content-Type", "application/xml"), ("x-ms-error-code", "Evil\u{1b}]0;pwned\u{07}"),
                        ("x-ms-request-id", "id\u{1b}[2J\u{07}"),
                    ],
                    body: "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>Evil&#10;&#13;Code&#27;[31m</Code>"
                        + "<Message>cleared\u{1b}[2J\u{1b}]0;title\u{07}\r now&#10;a second line</Message></Error>")
            },
            http("a request id with an escape sequence", 1, "id\\x1b[2J") { _ in
                RawHTTPServer.azureError(400, "InvalidHeaderValue", headers: [("x-ms-request-id", "id\u{1b}[2J")])
            },
            // No Azure error code: not an Azure Files endpoint (a wrong file_endpoint, a proxy, a web server): 69
            // with the fix, not "HTTP 404 (HTTP 404): HTTP 404" and exit 1 (issue 15, item 11).
            http("401 without body", 69, "answered HTTP 401 without an Azure error code") { _ in
                RawHTTPServer.response(401)
            },
            http("a web server's plain 404 (a wrong file_endpoint)", 69, "does not look like an Azure Files endpoint") {
                _ in
                RawHTTPServer.response(404, body: "<html><body>Not Found</body></html>")
            },
            http("InvalidUri (file_endpoint names another account)", 78, "InvalidUri") { _ in
                RawHTTPServer.azureError(400, "InvalidUri")
            },
            // get into a directory that does not exist: said as such before any request, no temp file name.
            http(
                "get into a missing directory", 65, "the directory /nonexistent-pus-dir does not exist",
                args: ["get", u, "f.txt", "/nonexistent-pus-dir/out.txt"]
            ) { _ in RawHTTPServer.azureError(500, "InternalError") },
            http("404 on create", 1, "ResourceNotFound") { _ in RawHTTPServer.azureError(404, "ResourceNotFound") },
            http("409 share being deleted", 75, "ShareBeingDeleted") { _ in
                RawHTTPServer.azureError(409, "ShareBeingDeleted")
            },
            http("409 then a share of someone else", 77, "belongs to user mallory") { n in
                n == 0
                    ? RawHTTPServer.azureError(409, "ShareAlreadyExists")
                    : RawHTTPServer.response(
                        200, headers: [("x-ms-share-quota", "5"), ("x-ms-meta-pus_user", "mallory")])
            },
            http("409 then a share without owner", 77, "no pus-mount user") { n in
                n == 0
                    ? RawHTTPServer.azureError(409, "ShareAlreadyExists")
                    : RawHTTPServer.response(200, headers: [("x-ms-share-quota", "5")])
            },
            http("412 precondition", 1, "ConditionNotMet") { _ in RawHTTPServer.azureError(412, "ConditionNotMet") },
            http("429 throttled throughout", 75, "ServerBusy") { _ in RawHTTPServer.azureError(429, "ServerBusy") },
            http("500 throughout", 75, "InternalError") { _ in RawHTTPServer.azureError(500, "InternalError") },
            http("502 throughout", 75, "HTTP 502") { _ in RawHTTPServer.response(502) },
            http("503 with a Retry-After beyond the budget", 75, "ServerBusy", seconds: 5) { _ in
                RawHTTPServer.azureError(503, "ServerBusy", headers: [("Retry-After", "3600")])
            },
            http("504 throughout", 75, "HTTP 504") { _ in RawHTTPServer.response(504) },
            http("garbage instead of HTTP", 75, "broke off") { _ in .bytes(Array("SSH-2.0-OpenSSH_9.2\r\n\r\n".utf8)) },
            http("binary garbage", 75, "broke off") { _ in .bytes((0..<512).map { UInt8(truncatingIfNeeded: $0 * 7) })
            },
            http("truncated status line", 75, "broke off") { _ in .bytes(Array("HTTP/1.1 20".utf8)) },
            http("truncated headers", 75, "broke off") { _ in .bytes(Array("HTTP/1.1 201 Created\r\nContent-Len".utf8))
            },
            http("truncated body", 75, "broke off") { _ in
                .bytes(Array("HTTP/1.1 500 Err\r\nContent-Length: 100\r\n\r\n<Error>".utf8))
            },
            http("closed without a word", 75, "broke off") { _ in .close },
            http("silent: accepts, never answers", 75, "did not answer", seconds: 8) { _ in .stall },
            http("a drip of one byte a second", 75, "did not answer", seconds: 8) { _ in
                .drip("HTTP/1.1 201 Created\r\n\r\n", interval: 1)
            },
            {
                var row = http("500 with a 400 MiB body", 75, "InternalError", seconds: 10) { _ in
                    .stream(
                        head:
                            "HTTP/1.1 500 Server Error\r\nx-ms-error-code: InternalError\r\nContent-Length: 419430400\r\n\r\n",
                        pattern: "A", total: 400 << 20)
                }
                row.maxRSSKiB = 80_000
                return row
            }(),
            http("an error body two million levels deep", 75, "HTTP 500", seconds: 10) { _ in
                .stream(
                    head: "HTTP/1.1 500 Server Error\r\nContent-Length: 6000000\r\n\r\n", pattern: "<a>",
                    total: 6_000_000)
            },
            http("a redirect to file://", 1, "HTTP 302") { _ in
                RawHTTPServer.response(302, headers: [("Location", "file:///etc/passwd")])
            },
            listing(
                "a listing page of invalid XML", 1, "unreadable listing",
                RawHTTPServer.response(200, body: "<EnumerationResults><Entries><File>")),
            // Outside text in a message (here a path given on the command line) reaches stderr escaped.
            Row(
                what: "a --config path with an escape sequence",
                args: ["--config", "/nonexistent/\u{1b}]0;pwned\u{07}\u{1b}[2J.toml", "status"],
                status: 78, message: "cannot read config file /nonexistent/\\x1b]0;pwned\\x07"),
            // A server that repeats its NextMarker would keep a listing going forever (issue 15, item 7).
            listing(
                "a listing that repeats its NextMarker", 69, "the same NextMarker twice",
                RawHTTPServer.response(
                    200,
                    body:
                        "<?xml version=\"1.0\"?><EnumerationResults><Entries><File><Name>f</Name><Properties><Content-Length>1</Content-Length></Properties></File></Entries><NextMarker>again</NextMarker></EnumerationResults>"
                )),
            Row(
                what: "List Shares that repeats its NextMarker (undelete)", args: ["undelete", u], status: 69,
                message: "the same NextMarker twice",
                config: "azure",
                reply: { _, line in
                    line.contains("comp=list") && !line.contains("/pus-")
                        ? RawHTTPServer.response(
                            200,
                            body:
                                "<?xml version=\"1.0\"?><EnumerationResults><Shares></Shares><NextMarker>again</NextMarker></EnumerationResults>"
                        )
                        : RawHTTPServer.azureError(404, "ShareNotFound")
                }, maxSeconds: 12),
            listing(
                "a listing page nested two million deep", 1, "unreadable listing", seconds: 10,
                .stream(head: "HTTP/1.1 200 OK\r\nContent-Length: 6000000\r\n\r\n", pattern: "<a>", total: 6_000_000)),
            {
                var row = listing(
                    "a listing page of 100 MiB", 1, "larger than 32 MiB", seconds: 15,
                    .stream(
                        head: "HTTP/1.1 200 OK\r\nContent-Length: 104857600\r\n\r\n", pattern: " ", total: 100 << 20))
                row.maxRSSKiB = 100_000
                return row
            }(),
            http("share stats that are not XML", 1, "unreadable ShareStats", args: ["quota", u]) { n in
                n == 0
                    ? RawHTTPServer.response(200, headers: [("x-ms-share-quota", "5"), ("x-ms-meta-pus_user", u)])
                    : RawHTTPServer.response(200, body: "{}")
            },
        ]
        r.append(
            Row(
                what: "nothing listens on the endpoint", args: ["provision", u], status: 69, message: "cannot reach",
                config: azure.replacingOccurrences(of: "x", with: "x"), setup: nil))
        // Arguments.
        r += [
            local("--pid of no process", ["attach", u, "--pid", "999999"], 65, "no such process"),
            local("--pid 0", ["attach", u, "--pid", "0"], 65, "no such process"),
            local("--pid not a number", ["attach", u, "--pid", "x"], 64, "pid"),
            local("--session with a slash", ["attach", u, "--session", "a/b"], 65, "not a valid session id"),
            local(
                "--session of 200 characters", ["attach", u, "--session", String(repeating: "s", count: 200)], 65,
                "not a valid session id"),
            local("--session and --all", ["detach", u, "--session", "a", "--all"], 64, "exclude each other"),
            local("an unknown command", ["mount-everything"], 64, "Unexpected argument"),
            Row(
                what: "rebuild a ledger a newer pus-mount wrote", args: ["reconcile", "--rebuild-ledger"], status: 1,
                message: "format version 99",
                setup: { d in
                    try FileManager.default.createDirectory(atPath: d.file("state"), withIntermediateDirectories: true)
                    d.write("state/ledger.json", "{\"version\": 99, \"entries\": {}}\n", mode: 0o600)
                }),
            local("status of an invalid name", ["status", "a/b"], 65, "invalid user name"),
            local("a relative --metrics-file", ["reconcile", "--metrics-file", "m.prom"], 64, "absolute path"),
        ]
        let withAccount = azure
        r += [
            Row(
                what: "sas --expiry of 999999999999999d", args: ["sas", u, "--expiry", "999999999999999d"], status: 65,
                message: "too far away",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "sas --expiry of Int.max seconds", args: ["sas", u, "--expiry", "9223372036854775807s"],
                status: 65, message: "too far away",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "sas --expiry in the past", args: ["sas", u, "--expiry", "2001-01-01T00:00:00Z"], status: 65,
                message: "in the future",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "sas --start malformed", args: ["sas", u, "--start", "yesterday"], status: 65, message: "--start",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "sas --ip malformed", args: ["sas", u, "--ip", "10.0.0.300"], status: 65, message: "--ip",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "sas --permissions unknown", args: ["sas", u, "--permissions", "rwx"], status: 65,
                message: "--permissions",
                config: withAccount,
                reply: { n, _ in n == 0 ? RawHTTPServer.response(200, headers: [("x-ms-meta-pus_user", u)]) : .close }),
            Row(
                what: "sas --path escaping the share", args: ["sas", u, "--path", "../../etc/passwd"], status: 65,
                message: "'.' or '..'",
                config: withAccount,
                reply: { n, _ in n == 0 ? RawHTTPServer.response(200, headers: [("x-ms-meta-pus_user", u)]) : .close }),
            Row(
                what: "provision --quota 0", args: ["provision", u, "--quota", "0"], status: 65,
                message: "out of range", config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "quota --set 999999", args: ["quota", u, "--set", "999999"], status: 65, message: "out of range",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "put of a missing file", args: ["put", u, "/nonexistent/file"], status: 65,
                message: "not a readable regular file",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "put of a directory", args: ["put", u, "/tmp"], status: 65,
                message: "not a readable regular file", config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "get of a path with a backslash", args: ["get", u, "a\\b", "/tmp/x"], status: 65,
                message: "forbids", config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "ls of a path with ..", args: ["ls", u, "a/../b"], status: 65, message: "'.' or '..'",
                config: withAccount, reply: { _, _ in .close }),
            Row(
                what: "get over an existing file", args: ["get", u, "f", "/etc/hostname"], status: 65,
                message: "--force", config: withAccount, reply: { _, _ in .close }),
        ]
        // Planted files: never followed, never chmod'ed, never adopted (each row fails when the guard is removed).
        r += [
            Row(
                what: "the user's local directory owned by someone else", args: ["attach", u], status: 77,
                message: "owned by uid 42049",
                config: "backend = \"local\"\n" + b,
                setup: { d in
                    try FileManager.default.createDirectory(
                        atPath: d.file("local/\(u)"), withIntermediateDirectories: true)
                    chown(d.file("local/\(u)"), 42049, 100)
                }, namespace: true),
            Row(
                what: "a symlink planted at the mountpoint", args: ["attach", u], status: 73,
                message: "not a directory",
                config: "backend = \"local\"\n" + b,
                setup: { d in
                    try FileManager.default.createDirectory(atPath: d.file("victim"), withIntermediateDirectories: true)
                    try FileManager.default.createDirectory(atPath: d.file("mnt"), withIntermediateDirectories: true)
                    symlink(d.file("victim"), d.file("mnt/\(u)"))
                }, namespace: true),
            Row(
                what: "a symlink planted at the user's lock file", args: ["attach", u], status: 1,
                message: "symbolic links",
                config: "backend = \"local\"\n" + b,
                setup: { d in
                    try FileManager.default.createDirectory(
                        atPath: d.file("state/locks"), withIntermediateDirectories: true)
                    symlink(d.file("created-through-the-link"), d.file("state/locks/\(u).lock"))
                }, namespace: true),
            Row(
                what: "a symlink planted at the ledger", args: ["attach", u], status: 1, message: "symbolic links",
                config: "backend = \"local\"\n" + b,
                setup: { d in
                    try FileManager.default.createDirectory(atPath: d.file("state"), withIntermediateDirectories: true)
                    d.write("elsewhere.json", "{\"version\": 2, \"entries\": {}}\n", mode: 0o600)
                    symlink(d.file("elsewhere.json"), d.file("state/ledger.json"))
                }, namespace: true),
            Row(
                what: "a symlink planted at the credentials directory", args: ["attach", u, "--fake-mount"], status: 77,
                message: "not a directory",
                config: "azure",
                reply: { _, line in line.contains("include=deleted") ? emptyShareListing : RawHTTPServer.response(201)
                },
                setup: { d in
                    try FileManager.default.createDirectory(
                        atPath: d.file("elsewhere"), withIntermediateDirectories: true)
                    symlink(d.file("elsewhere"), d.file("creds"))
                }, namespace: true),
        ]
        // A state directory with no space left: the ledger is never half-written, nothing is mounted.
        // 75 (temporary), named by its directory (issue 15, item 11).
        r.append(
            Row(
                what: "ENOSPC on a new ledger", args: ["attach", u], status: 75,
                message: "no space left on the file system holding $DIR/state",
                config: "backend = \"local\"\n" + b, setup: { d in try fillState(d, ledger: false) }, namespace: true))
        r.append(
            Row(
                what: "ENOSPC on an existing ledger", args: ["attach", u], status: 75,
                message: "no space left on the file system holding $DIR/state",
                config: "backend = \"local\"\n" + b, setup: { d in try fillState(d, ledger: true) }, namespace: true))
        return r
    }

    /// A 256 KiB tmpfs at the state directory (inside the row's namespace: the setup runs there), filled up.
    @Sendable static func fillState(_ d: TempDir, ledger: Bool) throws {
        // The mount happens in the namespace (see run): here only the marker, and the user's local directory
        // (provisioning it is not undone by a failed attach, like a share; here it must not be the difference).
        d.write(".fill-state", ledger ? "ledger" : "empty")
        try FileManager.default.createDirectory(atPath: d.file("local/\(u)"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: d.file("mnt"), withIntermediateDirectories: true)
        chown(d.file("local/\(u)"), 42048, 100)
        chmod(d.file("local/\(u)"), 0o700)
    }

    /// Files, directories and modes under `path` (contents hashed), without lock files, the audit log and the
    /// service-stats counters (both record failures on purpose).
    static func snapshot(_ path: String) -> [String] {
        var out: [String] = []
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: path) else { return [] }
        while let rel = e.nextObject() as? String {
            if rel.hasSuffix(".lock") || rel.hasPrefix("state/locks") || rel == "audit.jsonl"
                || rel == "state/service-stats.json" || rel.hasPrefix("server-")
            {
                continue
            }
            let p = path + "/" + rel
            var st = stat()
            guard lstat(p, &st) == 0 else { continue }
            let isDir = (st.st_mode & S_IFMT) == S_IFDIR
            // The directory entries themselves (what they hold is compared like everything else).
            if isDir && ["state", "mnt", "local"].contains(rel) { continue }
            if isDir && rel == "local/\(u)" && st.st_uid == 42048
                && ((try? fm.contentsOfDirectory(atPath: p).isEmpty) ?? false)
            {
                continue
            }
            var line = "\(rel) \(String(st.st_mode, radix: 8)) \(st.st_uid):\(st.st_gid) \(st.st_size)"
            if (st.st_mode & S_IFMT) == S_IFREG, st.st_size < 1 << 20, let d = fm.contents(atPath: p) {
                line += " \(d.hashValue)"
            }
            out.append(line)
        }
        return out.sorted()
    }

    /// The table's size is part of the contract (it only grows).
    @Test func theTableHoldsAtLeastAHundredRows() {
        #expect(Self.rows.count >= 100, "\(Self.rows.count) rows")
    }

    /// One test case per row, named by the row: a failing row names itself.
    @Test(arguments: HostileInputTests.rows)
    func hostileInputIsRefusedCleanly(_ row: Row) throws {
        #expect(try run(row), "\(row.what)")
    }

    func run(_ row: Row) throws -> Bool {
        let dir = TempDir("pus-hostile")
        var server: RawHTTPServer?
        if let reply = row.reply { server = try RawHTTPServer(reply) }
        let endpoint = server?.endpoint(account: "hostile") ?? "http://127.0.0.1:9/hostile"
        dir.write("account.key", (row.keyText ?? Self.key) + (row.keyText == nil ? "\n" : ""), mode: row.keyMode)
        dir.write("real.key", Self.key + "\n", mode: 0o600)
        var text: String
        switch row.config {
        case nil: text = "backend = \"local\"\n" + Self.base + row.extra
        case "azure"?:
            text =
                "backend = \"azure\"\n" + Self.base + Self.account
                + "[retry]\nmax_attempts = 3\ninitial_delay_ms = 50\ntotal_seconds = 3\n" + row.extra
        case let t?: text = t
        }
        text = text.replacingOccurrences(of: "$DIR", with: dir.path).replacingOccurrences(
            of: "$ENDPOINT", with: endpoint)
        let cfg = dir.write("pus-mount.toml", text, mode: 0o644)
        try row.setup?(dir)
        let ns = try MountNamespace()
        if let fill = try? String(contentsOfFile: dir.file(".fill-state"), encoding: .utf8) {
            var prep =
                "mkdir -p \(dir.file("state")) && mount -t tmpfs -o size=256k,nr_inodes=64 full \(dir.file("state"))"
            if fill == "ledger" {
                prep +=
                    " && printf '{\"version\": 2, \"entries\": {}}\\n' > \(dir.file("state/ledger.json")) && chmod 600 \(dir.file("state/ledger.json"))"
            }
            prep +=
                " && mkdir -p \(dir.file("state/locks")) && (dd if=/dev/zero of=\(dir.file("state/filler")) bs=4k 2>/dev/null; true)"
            #expect(try ns.sh(prep).status == 0)
        }
        // Mounts under the row's own directory (every path its configuration names lies there): the rest of the
        // namespace's table is a copy of the host's, which can change for reasons of its own.
        func mounts() -> [String] {
            ns.mountinfo.split(separator: "\n").filter {
                $0.split(separator: " ").dropFirst(4).first?.hasPrefix(dir.path) == true
            }.map(String.init)
        }
        let before = Self.snapshot(dir.path)
        let mountsBefore = mounts()
        let args = row.args.first == "--config" ? row.args : ["--config", cfg] + row.args
        let t0 = Date()
        let rssFile = dir.file("server-rss")
        let r =
            row.maxRSSKiB == nil
            ? try ns.run(Binaries.pusMount, args)
            : try ns.run("/usr/bin/time", ["-f", "%M", "-o", rssFile, Binaries.pusMount] + args)
        let took = Date().timeIntervalSince(t0)
        let after = Self.snapshot(dir.path)
        let mountsAfter = mounts()
        var ok = true
        func check(_ cond: Bool, _ what: String) {
            if !cond {
                ok = false
                Issue.record("\(row.what): \(what) (exit \(r.status), stderr: \(r.stderr.debugDescription))")
            }
        }
        check(r.status == row.status, "exit status \(r.status), want \(row.status)")
        let lines = r.stderr.split(separator: "\n").filter {
            !$0.hasPrefix("pus-mount: notice:") && !$0.hasPrefix("pus-mount: warning:")
        }
        let message = row.message.replacingOccurrences(of: "$DIR", with: dir.path)
        check(r.stderr.lowercased().contains(message.lowercased()), "message lacks \"\(message)\"")
        if row.status != 64 {
            check(lines.count == 1 && lines[0].hasPrefix("pus-mount: error: "), "not one error line")
        }
        check(!r.stderr.contains(Self.key) && !r.stdout.contains(Self.key), "the key appears in the output")
        check(
            !r.stderr.unicodeScalars.contains {
                ($0.value < 0x20 && $0 != "\n") || $0.value == 0x7f || (0x80..<0xa0).contains($0.value)
            },
            "a control character reached stderr")
        check(before == after, "files changed: \(Set(after).symmetricDifference(before).sorted())")
        check(
            mountsBefore == mountsAfter,
            "mounts under the row's directory changed: \(Set(mountsAfter).symmetricDifference(mountsBefore).sorted())")
        if let max = row.maxSeconds { check(took < max, "took \(String(format: "%.1f", took)) s (at most \(max))") }
        if let max = row.maxRSSKiB {
            let kib =
                Int((try? String(contentsOfFile: rssFile, encoding: .utf8))?.split(separator: "\n").last ?? "") ?? -1
            check(kib > 0 && kib < max, "peak RSS \(kib) KiB (at most \(max))")
        }
        _ = server
        return ok
    }
}
