import AzureFiles
import Glibc
import Ledger
import Mounting
import Orchestrator
import SystemSupport
import TOML

/// Reads and checks `pus-mount.toml`: the file must be root-owned and not writable by group or others;
/// every key must be known (a typo is an error, not a silent default); values are type- and range-checked.
/// Every failure is a ``PusError`` of kind `.config` (exit 78) naming the file, the key and the fix.
public enum ConfigLoader {
    public static func load(path: String, requireRootOwned: Bool = true) throws -> Config {
        guard let st = try? Syscalls.fileStatus(path) else {
            throw PusError(
                .config, "cannot read config file \(path)",
                hint: "create it (see /usr/share/doc/pus-mount/pus-mount.toml.example) or pass --config PATH")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw PusError(
                .config, "config file \(path) is not a regular file",
                hint: "pass the path of pus-mount.toml with --config")
        }
        if requireRootOwned {
            try FilePolicy.checkRootOwned(path: path, st: st, kind: "config file", allowGroupOtherRead: true)
        }
        let bytes: [UInt8]
        do { bytes = try Syscalls.readFile(path) } catch {
            throw PusError(.config, "cannot read config file \(path): \(error)")
        }
        return try parse(bytes: bytes, source: path)
    }

    /// Parses TOML text into a ``Config``.
    public static func parse(_ text: String, source: String) throws -> Config {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// Parses the bytes of a TOML file (invalid UTF-8 and control characters are errors with line and column).
    public static func parse(bytes: [UInt8], source: String) throws -> Config {
        let table: TOMLTable
        do { table = try TOML.parse(bytes: bytes) } catch let e as TOMLError {
            throw PusError(
                .config, "\(source): line \(e.line), column \(e.column): \(e.message)", hint: "see pus-mount.toml(5)")
        }
        var c = Config()
        let root = Reader(table: table, path: "", source: source)
        let backendKey = try root.string("backend")
        if let b = backendKey {
            guard let backend = Backend.known.first(where: { $0.rawValue == b }) else {
                throw PusError(
                    .config, "\(source): backend = \"\(b)\" is not known", hint: "use \"azure\" or \"local\"")
            }
            c.backend = backend
        }
        if let az = try root.table("azure") {
            c.endpointSuffix = try az.string("endpoint_suffix") ?? c.endpointSuffix
            for acct in try az.tables("accounts") {
                guard let name = try acct.string("name"), let keyFile = try acct.string("key_file") else {
                    throw PusError(.config, "\(source): every [[azure.accounts]] needs name and key_file")
                }
                guard name.utf8.count >= 3, name.utf8.count <= 24,
                    name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber) })
                else {
                    throw PusError(
                        .config, "\(source): azure.accounts name \"\(name)\" is not a storage account name",
                        hint: "3-24 lower-case letters and digits")
                }
                var a = Config.Account(name: name, keyFile: keyFile)
                a.weight = try acct.int("weight", in: 0...1000) ?? 1
                a.fileEndpoint = try acct.string("file_endpoint")
                a.blobEndpoint = try acct.string("blob_endpoint")
                for (key, e, service) in [
                    ("file_endpoint", a.fileEndpoint, "file"), ("blob_endpoint", a.blobEndpoint, "blob"),
                ] {
                    guard let e,
                        !(e.hasPrefix("https://") || e.hasPrefix("http://")) || e.contains(where: { $0.isWhitespace })
                    else { continue }
                    throw PusError(
                        .config, "\(source): azure.accounts \(key) \"\(e)\" must start with http:// or https://",
                        hint:
                            "for example https://<account>.\(service).core.windows.net or http://127.0.0.1:10000/<account> (emulator)"
                    )
                }
                a.smbHost = try acct.string("smb_host")
                a.softDelete = try acct.bool("soft_delete")
                a.maxShares = try acct.int("max_shares", in: 1...1_000_000)
                a.draining = try acct.bool("draining") ?? false
                if let p = try acct.string("profile") {
                    guard let profile = Config.MountProfile(rawValue: p) else {
                        throw PusError(
                            .config, "\(source): azure.accounts profile = \"\(p)\" is not known",
                            hint: "use \"standard\" or \"premium\" (SSD shares: SMB multichannel)")
                    }
                    a.profile = profile
                }
                if let n = try acct.int("max_channels", in: 1...4) {
                    guard a.profile == .premium else {
                        throw PusError(
                            .config, "\(source): azure.accounts max_channels applies to profile = \"premium\" only",
                            hint: "multichannel is for premium (SSD) shares")
                    }
                    a.maxChannels = n
                }
                try acct.finish()
                c.accounts.append(a)
            }
            try az.finish()
        }
        if let local = try root.table("local") {
            c.localRoot = try local.absolutePath("root") ?? c.localRoot
            try local.finish()
        }
        if let shares = try root.table("shares") {
            c.sharePrefix = try shares.string("prefix") ?? c.sharePrefix
            guard ShareName.prefixIsValid(c.sharePrefix) else {
                throw PusError(
                    .config, "\(source): shares.prefix \"\(c.sharePrefix)\" is not valid",
                    hint: "1-20 lower-case letters and digits")
            }
            c.quotaGiB = try shares.int("quota_gib", in: ShareQuota.range) ?? c.quotaGiB
            try shares.finish()
        }
        if let mount = try root.table("mount") {
            c.mountRoot = try mount.absolutePath("root") ?? c.mountRoot
            c.vers = try mount.string("vers") ?? c.vers
            c.mountOptions = try mount.strings("options") ?? c.mountOptions
            c.fileMode = try mount.string("file_mode") ?? c.fileMode
            c.dirMode = try mount.string("dir_mode") ?? c.dirMode
            c.mountTimeoutSeconds = try mount.int("timeout_seconds", in: 1...3600) ?? c.mountTimeoutSeconds
            c.lingerSeconds = try mount.int("linger_seconds", in: 0...86400) ?? c.lingerSeconds
            c.probeTimeoutSeconds = try mount.int("probe_timeout_seconds", in: 1...600) ?? c.probeTimeoutSeconds
            try mount.finish()
        }
        if let users = try root.table("users") {
            c.minUID = try users.int("min_uid", in: 1...Int(Int32.max)) ?? c.minUID
            c.denyUsers = try users.strings("deny") ?? c.denyUsers
            try users.finish()
        }
        if let blob = try root.table("blob") {
            c.blobEnabled = try blob.bool("enabled") ?? c.blobEnabled
            try blob.finish()
        }
        if let nodes = try root.table("nodes") {
            // Address = node name: how `where` names a client the service and DNS leave nameless.
            for k in nodes.table.keys {
                guard let name = try nodes.string(k) else { continue }
                guard let address = Net.canonicalAddress(k) else {
                    throw PusError(
                        .config, "\(source): nodes key \"\(k)\" is not an IP address",
                        hint: "write each node as \"10.0.0.17\" = \"node17\"")
                }
                guard (1...253).contains(name.utf8.count),
                    name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) })
                else {
                    throw PusError(
                        .config, "\(source): nodes name for \(k) is not a host name",
                        hint: "1-253 letters, digits, '-', '.' and '_'")
                }
                c.nodeNames[address] = name
            }
            try nodes.finish()
        }
        if let sas = try root.table("sas") {
            c.sasMaxExpiryHours = try sas.int("max_expiry_hours", in: 1...8760) ?? c.sasMaxExpiryHours
            try sas.finish()
        }
        if let paths = try root.table("paths") {
            c.stateDir = try paths.absolutePath("state_dir") ?? c.stateDir
            c.credentialsDir = try paths.absolutePath("credentials_dir") ?? c.credentialsDir
            c.auditLog = try paths.absolutePath("audit_log") ?? c.auditLog
            try paths.finish()
        }
        if let retry = try root.table("retry") {
            c.retryMaxAttempts = try retry.int("max_attempts", in: 1...20) ?? c.retryMaxAttempts
            c.retryInitialDelayMs = try retry.int("initial_delay_ms", in: 0...60_000) ?? c.retryInitialDelayMs
            c.retryTotalSeconds = try retry.int("total_seconds", in: 0...600) ?? c.retryTotalSeconds
            c.requestTimeoutSeconds = try retry.int("request_timeout_seconds", in: 1...600) ?? c.requestTimeoutSeconds
            try retry.finish()
        }
        for v in try root.tables("volumes") {
            guard let name = try v.string("name"), let account = try v.string("account"),
                let share = try v.string("share"),
                let mp = try v.absolutePath("mountpoint")
            else {
                throw PusError(.config, "\(source): every [[volumes]] needs name, account, share and mountpoint")
            }
            guard (1...63).contains(name.utf8.count),
                name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") })
            else {
                throw PusError(
                    .config, "\(source): volumes name \"\(name)\" is not valid",
                    hint: "1-63 lower-case letters, digits, '-' and '_'")
            }
            guard ShareName.isValid(share) else {
                throw PusError(
                    .config, "\(source): volume \(name): share \"\(share)\" is not a valid share name",
                    hint: "3-63 lower-case letters, digits and single hyphens")
            }
            var vol = Config.Volume(name: name, account: account, share: share, mountpoint: mp)
            vol.readOnly = try v.bool("read_only") ?? true
            try v.finish()
            c.volumes.append(vol)
        }
        try root.finish()
        if backendKey == nil {
            // A file that names accounts means Azure; without either, nothing says which: a silent fallback to
            // local disk would let users believe their files persist.
            guard !c.accounts.isEmpty else {
                throw PusError(
                    .config, "\(source): backend is not set and there is no [[azure.accounts]]",
                    hint:
                        "add backend = \"local\" for a directory per user on this node, or [[azure.accounts]] for Azure Files"
                )
            }
            c.backend = .azure
        }
        try validate(c, source: source)
        return c
    }

    static func validate(_ c: Config, source: String) throws {
        if Providers.usesAzureAccounts(c.backend) && c.accounts.isEmpty {
            throw PusError(.config, "\(source): backend = \"\(c.backend)\" needs at least one [[azure.accounts]]")
        }
        for (key, mode) in [("mount.file_mode", c.fileMode), ("mount.dir_mode", c.dirMode)] {
            guard mode.count == 4, mode.hasPrefix("0"), mode.allSatisfy({ ("0"..."7").contains($0) }) else {
                throw PusError(
                    .config, "\(source): \(key) = \"\(mode)\" is not an octal mode", hint: "write it like \"0600\"")
            }
        }
        if !c.vers.allSatisfy({ $0.isNumber || $0 == "." }) || c.vers.isEmpty {
            throw PusError(
                .config, "\(source): mount.vers = \"\(c.vers)\" is not a protocol version",
                hint: "for example \"3.0\" or \"3.1.1\"")
        }
        for o in c.mountOptions {
            if let why = CIFSOptions.problem(with: o) {
                throw PusError(
                    .config, "\(source): mount.options entry \"\(o)\" is not allowed: \(why)",
                    hint:
                        "one option per entry; credentials, user, uid, gid, sec, vers and the modes are set by pus-mount"
                )
            }
        }
        let names = c.accounts.map(\.name)
        if Set(names).count != names.count {
            throw PusError(.config, "\(source): an account is listed twice in [[azure.accounts]]")
        }
        for v in c.volumes where !names.contains(v.account) {
            throw PusError(
                .config, "\(source): volume \(v.name) names account \(v.account), which is not in [[azure.accounts]]")
        }
        let volumeNames = c.volumes.map(\.name)
        if Set(volumeNames).count != volumeNames.count {
            throw PusError(.config, "\(source): a volume name is listed twice in [[volumes]]")
        }
        for v in c.volumes where v.mountpoint == c.mountRoot || v.mountpoint.hasPrefix(c.mountRoot + "/") {
            throw PusError(
                .config,
                "\(source): volume \(v.name) mountpoint \(v.mountpoint) lies under mount.root (\(c.mountRoot)), where users' mounts go",
                hint: "mount shared volumes elsewhere, e.g. /mnt/datasets/\(v.name)")
        }
    }

    /// Walks one TOML table, remembering the keys read so ``finish()`` can reject the rest.
    final class Reader {
        let table: TOMLTable
        let path: String
        let source: String
        var seen: Set<String> = []

        init(table: TOMLTable, path: String, source: String) {
            self.table = table
            self.path = path
            self.source = source
        }

        func key(_ k: String) -> String { path.isEmpty ? k : "\(path).\(k)" }

        func value(_ k: String) -> TOMLValue? {
            seen.insert(k)
            return table[k]
        }

        func typeError(_ k: String, _ expected: String) -> PusError {
            PusError(.config, "\(source): \(key(k)) must be \(expected)")
        }

        func string(_ k: String) throws -> String? {
            guard let v = value(k) else { return nil }
            guard let s = v.string else { throw typeError(k, "a string") }
            return s
        }

        func absolutePath(_ k: String) throws -> String? {
            guard let s = try string(k) else { return nil }
            guard s.hasPrefix("/"), !s.split(separator: "/").contains(".."), !s.contains(",") else {
                throw PusError(.config, "\(source): \(key(k)) = \"\(s)\" must be an absolute path without '..' or ','")
            }
            return s.count > 1 && s.hasSuffix("/") ? String(s.dropLast()) : s
        }

        func int(_ k: String, in range: ClosedRange<Int>) throws -> Int? {
            guard let v = value(k) else { return nil }
            guard let i = v.integer else { throw typeError(k, "an integer") }
            guard range.contains(i) else {
                throw PusError(
                    .config, "\(source): \(key(k)) = \(i) is out of range \(range.lowerBound)...\(range.upperBound)")
            }
            return i
        }

        func bool(_ k: String) throws -> Bool? {
            guard let v = value(k) else { return nil }
            guard let b = v.boolean else { throw typeError(k, "true or false") }
            return b
        }

        func strings(_ k: String) throws -> [String]? {
            guard let v = value(k) else { return nil }
            guard let a = v.array else { throw typeError(k, "an array of strings") }
            return try a.map { item in
                guard let s = item.string else { throw typeError(k, "an array of strings") }
                return s
            }
        }

        func table(_ k: String) throws -> Reader? {
            guard let v = value(k) else { return nil }
            guard let t = v.table else { throw typeError(k, "a table ([\(key(k))])") }
            return Reader(table: t, path: key(k), source: source)
        }

        func tables(_ k: String) throws -> [Reader] {
            guard let v = value(k) else { return [] }
            guard let a = v.array else { throw typeError(k, "an array of tables ([[\(key(k))]])") }
            return try a.map { item in
                guard let t = item.table else { throw typeError(k, "an array of tables ([[\(key(k))]])") }
                return Reader(table: t, path: key(k), source: source)
            }
        }

        func finish() throws {
            for k in table.keys where !seen.contains(k) {
                throw PusError(
                    .config, "\(source): unknown key \(key(k))", hint: "check the spelling against pus-mount.toml(5)")
            }
        }
    }
}

extension ShareName {
    /// A share prefix: 1-20 lower-case letters and digits.
    static func prefixIsValid(_ p: String) -> Bool {
        (1...20).contains(p.count) && p.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) }
    }
}
