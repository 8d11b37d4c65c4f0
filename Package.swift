// swift-tools-version:6.2
import PackageDescription

/// pus-mount: per-user Azure Files shares for multi-user compute nodes.
/// Dependency direction (see ../shared/ARCHITECTURE.md):
/// pus-mount -> PusMountCLI -> Orchestrator -> {AzureFiles, Mounting, Credentials, Ledger} -> SystemSupport.
let package = Package(
    name: "pus-mount",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pus-mount", targets: ["pus-mount"]),
        .executable(name: "azfiles-emulator", targets: ["azfiles-emulator"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
    ],
    targets: [
        // C libraries from Debian, one Swift owner each.
        // Each resolves its library with dlopen on first use (see its shim.h), so none links one: a warm
        // attach maps neither libcurl, libcrypto nor libmount (with libblkid, libselinux, libpcre2).
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CLibMount", providers: [.apt(["libmount-dev"])]),

        // Wrappers for what Swift cannot call (prctl is variadic; closefrom and fallocate are GNU extensions).
        .systemLibrary(name: "CSupport"),
        .target(name: "SystemSupport", dependencies: ["CSupport"]),
        // TOML 1.0 for the configuration (tested against Python's tomllib); no Foundation, no C++.
        .target(name: "TOML"),
        .target(
            name: "AzureFiles",
            dependencies: [
                "SystemSupport", "CCurl", "COpenSSL",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Storage",
            dependencies: [
                "AzureFiles", "SystemSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(name: "Mounting", dependencies: ["SystemSupport", "CLibMount"]),
        .target(name: "Credentials", dependencies: ["SystemSupport"]),
        .target(name: "Ledger", dependencies: ["SystemSupport"]),
        .target(
            name: "Orchestrator",
            dependencies: [
                "Storage", "AzureFiles", "Mounting", "Credentials", "Ledger", "SystemSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "PusMountCLI",
            dependencies: [
                "Orchestrator", "Storage", "AzureFiles", "Mounting", "Credentials", "Ledger", "SystemSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                "TOML",
            ]),
        .executableTarget(name: "pus-mount", dependencies: ["PusMountCLI"]),
        // Fuzz targets over every parser of untrusted bytes: libFuzzer with -sanitize=fuzzer -DLIBFUZZER
        // (scripts/fuzz.sh), otherwise a seeded replay-and-mutate driver.
        .systemLibrary(name: "CFuzz"),
        .executableTarget(
            name: "pus-fuzz",
            dependencies: [
                "PusMountCLI", "Orchestrator", "Mounting", "Ledger", "AzureFiles", "AzureFilesEmulator",
                "SystemSupport", "TOML", "CFuzz",
            ]),

        // The emulator's core (every operation, auth, storage) has no HTTP framework, so tests and the fuzz
        // target drive it directly; the executable puts it on Hummingbird.
        .target(name: "AzureFilesEmulator", dependencies: ["AzureFiles", "SystemSupport"]),
        .executableTarget(
            name: "azfiles-emulator",
            dependencies: [
                "AzureFilesEmulator", "AzureFiles", "SystemSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .target(
            name: "TestSupport", dependencies: ["CSupport", "SystemSupport", "Mounting", "Orchestrator", "AzureFiles"],
            path: "Tests/TestSupport"),
        .testTarget(
            name: "AzureFilesTests", dependencies: ["AzureFiles", "COpenSSL", "TestSupport"],
            resources: [.copy("Vectors")]),
        .testTarget(name: "SystemSupportTests", dependencies: ["SystemSupport", "TestSupport"]),
        .testTarget(
            name: "TOMLTests", dependencies: ["TOML", "SystemSupport", "TestSupport"], exclude: ["Corpus", "oracle.py"]),
        .testTarget(
            name: "EmulatorTests", dependencies: ["AzureFilesEmulator", "AzureFiles", "SystemSupport", "TestSupport"]),
        .testTarget(
            name: "MountingTests", dependencies: ["Mounting", "SystemSupport", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(name: "CredentialsTests", dependencies: ["Credentials", "SystemSupport", "TestSupport"]),
        .testTarget(
            name: "LedgerTests", dependencies: ["Ledger", "SystemSupport", "TestSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "OrchestratorTests",
            dependencies: [
                "Orchestrator", "Ledger", "Mounting", "Credentials", "Storage", "AzureFiles", "SystemSupport",
                "TestSupport",
                "PusMountCLI", .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "AzureFiles", "AzureFilesEmulator", "Storage", "Mounting", "Credentials", "Ledger", "Orchestrator",
                "PusMountCLI", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
    ],
    swiftLanguageModes: [.v6]
)
