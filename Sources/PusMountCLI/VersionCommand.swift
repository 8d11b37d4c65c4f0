import ArgumentParser
import AzureFiles
import SystemSupport

/// `pus-mount version`
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version and the linked library versions.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let v = PusMountCommand.configuration.version
        if global.json {
            Output.stdout(
                JSON.document([
                    ("pus_mount", .string(v)), ("libcurl", .string(CurlTransport.version)),
                    ("api_version", .string(FilesAPI.version)),
                ]).text)
        } else {
            Output.stdout("pus-mount \(v)\n\(CurlTransport.version)\nAzure Files API \(FilesAPI.version)")
        }
    }
}
