import AzureFiles
import Glibc
import Mounting
import Storage
import SystemSupport

/// `pus-mount doctor`: the preflight an administrator runs on a node before trusting it with users' sessions
/// (SPEC.md): each check one verdict (ok / warn / fail) with what was found and, when not ok, the fix.
public struct DoctorCheck: Sendable {
    public enum Status: String, Sendable { case ok, warn, fail }
    public var name: String
    public var status: Status
    public var detail: String
    public var fix: String?

    public init(_ name: String, _ status: Status, _ detail: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.detail = detail
        self.fix = fix
    }
}

/// Where the doctor looks; tests point these at fixtures.
public struct DoctorEnvironment: Sendable {
    public var procFilesystems = "/proc/filesystems"
    public var modulesDirectory = "/lib/modules"
    public var kernelRelease = KeyRefresh.kernelRelease
    public var helperPaths = ["/sbin/mount.cifs", "/usr/sbin/mount.cifs"]
    public var ownMountNamespace = "/proc/self/ns/mnt"
    public var initMountNamespace = "/proc/1/ns/mnt"
    public var tcpTimeout = 5.0
    public init() {}
}

extension Node {
    /// Runs every check that applies to the configured backend. `configSource` says where the config came
    /// from (a path, or the embedded defaults); the config file itself was checked when it was loaded.
    /// `configured` is false when the commands run on the embedded defaults because no configuration file
    /// exists: an administrator's commands work, but the PAM module and the units do nothing (a warning).
    public func doctor(
        configSource: String, configured: Bool = true, environment env: DoctorEnvironment = DoctorEnvironment()
    ) -> [DoctorCheck] {
        var out: [DoctorCheck] = [
            configured
                ? DoctorCheck("config", .ok, configSource)
                : DoctorCheck(
                    "config", .warn,
                    "not configured: logins get no storage (the PAM module and the units do nothing); commands typed here run on the \(configSource)",
                    fix:
                        "write /etc/pus-mount/pus-mount.toml (example: /usr/share/doc/pus-mount/pus-mount.toml.example)"
                )
        ]
        out.append(Self.namespaceCheck(env))
        out.append(contentsOf: stateChecks())
        out.append(contentsOf: provider.checks(env))
        return out
    }

    static func namespaceCheck(_ env: DoctorEnvironment) -> DoctorCheck {
        guard let own = Syscalls.readLink(env.ownMountNamespace) else {
            return DoctorCheck("mount namespace", .warn, "cannot read \(env.ownMountNamespace)")
        }
        guard let initial = Syscalls.readLink(env.initMountNamespace) else {
            return DoctorCheck(
                "mount namespace", .warn,
                "this process's is \(own); \(env.initMountNamespace) cannot be read here (\(String(cString: strerror(errno)))), so it cannot be compared with init's",
                fix:
                    "make sure pus-mount's units have no PrivateMounts/PrivateTmp/ProtectSystem/ProtectHome and callers do not unshare -m"
            )
        }
        if own == initial { return DoctorCheck("mount namespace", .ok, "the host's (\(own))") }
        return DoctorCheck(
            "mount namespace", .fail, "a private one (\(own), init has \(initial)): mounts made here never reach users",
            fix:
                "run pus-mount in the host namespace: no PrivateMounts/PrivateTmp/ProtectSystem/ProtectHome in its unit, no unshare -m"
        )
    }

    func stateChecks() -> [DoctorCheck] {
        var out = [Self.directoryCheck("state directory", config.stateDir, wantMode: 0o700)]
        do {
            let l = try ledger.read()
            out.append(
                DoctorCheck(
                    "ledger", .ok, "\(config.ledgerPath): \(l.entries.count) user(s), \(l.volumes.count) volume(s)"))
        } catch {
            out.append(
                DoctorCheck("ledger", .fail, ErrorText.short(error), fix: "pus-mount reconcile --rebuild-ledger"))
        }
        out.append(Self.auditLogCheck(config.auditLog))
        return out
    }

    /// The audit log as every command will open it: root-owned 0600/0640, along directories only root controls.
    static func auditLogCheck(_ path: String) -> DoctorCheck {
        do {
            try FilePolicy.checkRootControlledPath(path, kind: "audit log", forbiddenMode: 0o137)
        } catch let e as any ExplainedError {
            return DoctorCheck("audit log", .fail, e.message, fix: e.hint)
        } catch {
            return DoctorCheck("audit log", .fail, "\(error)")
        }
        let exists = (try? Syscalls.linkStatus(path)) != nil
        return DoctorCheck(
            "audit log", .ok, exists ? "\(path): root-owned, not writable by others" : "\(path) (created on first use)")
    }

    /// A directory pus-mount owns: root's, not writable by others (and exactly `wantMode` when given).
    static func directoryCheck(_ name: String, _ path: String, wantMode: mode_t?) -> DoctorCheck {
        guard let st = try? Syscalls.linkStatus(path) else {
            return DoctorCheck(name, .warn, "\(path) does not exist yet (created on first use)")
        }
        let mode = st.st_mode & 0o7777
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            return DoctorCheck(name, .fail, "\(path) is not a directory", fix: "move it away; pus-mount creates it")
        }
        if st.st_uid != 0 || mode & 0o022 != 0 || (wantMode.map { mode != $0 } ?? false) {
            let want = String(wantMode ?? 0o755, radix: 8)
            return DoctorCheck(
                name, .fail, "\(path) is owned by uid \(st.st_uid) with mode \(String(mode, radix: 8))",
                fix: "chown root:root \(path) && chmod \(want) \(path)")
        }
        return DoctorCheck(name, .ok, "\(path) (root, \(String(mode, radix: 8)))")
    }

    static func helperCheck(_ env: DoctorEnvironment) -> DoctorCheck {
        if let p = env.helperPaths.first(where: { access($0, X_OK) == 0 }) { return DoctorCheck("mount.cifs", .ok, p) }
        return DoctorCheck(
            "mount.cifs", .fail, "not found (\(env.helperPaths.joined(separator: ", ")))",
            fix: "apt-get install cifs-utils")
    }

    /// cifs in /proc/filesystems (loaded or built in), else a module for the running kernel on disk.
    static func kernelCifsCheck(_ env: DoctorEnvironment) -> DoctorCheck {
        let release = env.kernelRelease
        let fs = (try? Syscalls.readFile(env.procFilesystems)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if fs.split(separator: "\n").contains(where: {
            $0.split(whereSeparator: { $0 == "\t" || $0 == " " }).last == "cifs"
        }) {
            return DoctorCheck("kernel cifs", .ok, "cifs is registered in kernel \(release)")
        }
        let dir = "\(env.modulesDirectory)/\(release)"
        let candidates = ["kernel/fs/smb/client/cifs.ko", "kernel/fs/cifs/cifs.ko"].flatMap { p in
            ["", ".xz", ".zst", ".gz"].map { "\(dir)/\(p)\($0)" }
        }
        if let m = candidates.first(where: { access($0, R_OK) == 0 }) {
            return DoctorCheck("kernel cifs", .ok, "module \(m) (loaded on the first mount)")
        }
        return DoctorCheck(
            "kernel cifs", .fail,
            "kernel \(release) has no cifs: not in \(env.procFilesystems), no cifs.ko under \(dir)",
            fix:
                "boot a kernel with CIFS support (Debian: linux-image-amd64 ships cifs.ko); containers use the host's kernel"
        )
    }

    /// SMB encryption in transit needs SMB 3.1.1 on the Linux client: `vers = "3.0"` (the design's default)
    /// leaves it off, which is worth knowing (a warning, not a failure); a premium account's multichannel needs
    /// a 5.x kernel or later.
    func encryptionCheck(_ env: DoctorEnvironment) -> DoctorCheck {
        let premium = config.accounts.filter { $0.profile == .premium }.map(\.name)
        let major = Int(env.kernelRelease.split(separator: ".").first ?? "") ?? 0
        if !premium.isEmpty && major < 5 {
            return DoctorCheck(
                "smb dialect", .warn,
                "kernel \(env.kernelRelease) is older than 5.x: SMB multichannel (profile = \"premium\": \(premium.joined(separator: ", "))) will not be used",
                fix: "boot a newer kernel, or use profile = \"standard\"")
        }
        if config.vers == "3.0" {
            return DoctorCheck(
                "smb dialect", .warn, "mount.vers = \"3.0\": SMB encryption in transit is off",
                fix: "set mount.vers = \"3.1.1\" (Linux encrypts SMB 3.1.1 to Azure Files)")
        }
        return DoctorCheck("smb dialect", .ok, "mount.vers = \"\(config.vers)\"")
    }

    func accountChecks(_ a: AccountSpec, _ az: AzureStorage, _ env: DoctorEnvironment) -> [DoctorCheck] {
        var out: [DoctorCheck] = []
        let name = "account \(a.name)"
        // DNS and TCP 445 to the SMB host.
        switch Net.connect(host: a.smbHost, port: 445, timeout: env.tcpTimeout) {
        case .success(let address):
            out.append(DoctorCheck("\(name): SMB", .ok, "\(a.smbHost) (\(address)) answers on TCP 445"))
        case .failure(let why):
            out.append(
                DoctorCheck(
                    "\(name): SMB", .fail, "\(a.smbHost): \(why.description)",
                    fix: why.isDNS
                        ? "check smb_host and DNS (private endpoints need their private DNS zone)"
                        : "allow outbound TCP 445 to \(a.smbHost) (many ISPs and firewalls block it)"))
        }
        // HTTPS with an authenticated call, per key; clock skew from the service's Date.
        for (which, key) in [("key1", a.keys.key1)] + (a.keys.key2.map { [("key2", $0)] } ?? []) {
            let t0 = Clock.monotonicSeconds()
            do {
                let date = try az.verify(key: key, of: a)
                let ms = Int((Clock.monotonicSeconds() - t0) * 1000)
                out.append(
                    DoctorCheck(
                        "\(name): REST \(which)", .ok,
                        "\(a.endpoint.baseURL) accepted an authenticated request in \(ms) ms"))
                if which == "key1" { out.append(Self.skewCheck(name, serviceDate: date)) }
            } catch {
                let e = ErrorText.short(error)
                let auth = e.contains("403") || e.contains(AzureError.Code.authenticationFailed.rawValue)
                out.append(
                    DoctorCheck(
                        "\(name): REST \(which)", .fail, "\(a.endpoint.baseURL): \(e)",
                        fix: auth
                            ? "copy the key exactly from the Azure portal (Access keys) into the key file"
                            : "check file_endpoint / endpoint_suffix, DNS, proxy settings and outbound HTTPS (443)"))
            }
        }
        // Capacity: users' shares against max_shares, and whether placement sends new users here.
        if a.maxShares != nil || a.draining {
            let u = az.usage(of: a)
            let counted = u.shares.map { "\($0)\(a.maxShares.map { " of \($0)" } ?? "") users' shares" } ?? "?"
            if let e = u.error {
                out.append(DoctorCheck("\(name): capacity", .warn, "could not count its shares: \(e)"))
            } else if a.draining {
                out.append(DoctorCheck("\(name): capacity", .ok, "\(counted); draining: takes no new users"))
            } else if u.full {
                out.append(
                    DoctorCheck(
                        "\(name): capacity", .warn, "\(counted): full, new users go to other accounts",
                        fix: "add an account, or raise max_shares where the service allows more"))
            } else {
                out.append(DoctorCheck("\(name): capacity", .ok, counted))
            }
        }
        // [blob] enabled: the Blob endpoint answers an authenticated request too (List Containers).
        if config.blobEnabled {
            let t0 = Clock.monotonicSeconds()
            do {
                try az.blobClient(a).probe()
                let ms = Int((Clock.monotonicSeconds() - t0) * 1000)
                out.append(
                    DoctorCheck(
                        "\(name): Blob", .ok, "\(a.blobEndpoint.baseURL) accepted an authenticated request in \(ms) ms")
                )
            } catch {
                out.append(
                    DoctorCheck(
                        "\(name): Blob", .fail, "\(a.blobEndpoint.baseURL): \(ErrorText.short(error))",
                        fix: "check blob_endpoint / endpoint_suffix and outbound HTTPS, or set [blob] enabled = false"))
            }
        }
        return out
    }

    static func skewCheck(_ name: String, serviceDate: String?) -> DoctorCheck {
        guard let d = serviceDate, let service = CivilTime.parseRFC1123(d) else {
            return DoctorCheck("\(name): clock", .warn, "the service sent no readable Date header")
        }
        let skew = Clock.unixSeconds() - service
        let text = "this node is \(abs(skew)) s \(skew >= 0 ? "ahead of" : "behind") the service"
        if abs(skew) > 600 {
            return DoctorCheck(
                "\(name): clock", .fail, text,
                fix:
                    "synchronise the clock (systemd-timesyncd, chrony): Azure rejects requests more than 15 minutes off and SAS start times go wrong"
            )
        }
        if abs(skew) > 60 {
            return DoctorCheck("\(name): clock", .warn, text, fix: "synchronise the clock (systemd-timesyncd, chrony)")
        }
        return DoctorCheck("\(name): clock", .ok, text)
    }
}
