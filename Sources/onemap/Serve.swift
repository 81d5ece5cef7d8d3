import ArgumentParser
import Foundation
import Hummingbird
import LayerStore
import OneMapServer

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve the API over HTTP.")

    @OptionGroup var database: DatabaseOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Flag(help: "Let anonymous callers post checks (for demos; not for production).") var open = false
    @Option(help: "Largest request body, in bytes.") var maxBody = 8 << 20
    @Option(help: "Most vertices a site may have.") var maxVertices = 200_000
    @Option(help: "Where `make vendor` put MapLibre GL JS for the viewer.") var vendor = "vendor/maplibre"

    func run() async throws {
        let path = Store.resolvePath(database.db)
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no database at \(path): load one first with `onemap load`")
        }
        let store = try Store(path: path)
        if open {
            FileHandle.standardError.write(Data("warning: --open lets anyone on the network post checks; use it only for demos\n".utf8))
        }
        let config = ServerConfiguration(host: host, port: port, open: open,
                                         limits: .init(maxBodyBytes: maxBody, maxSiteVertices: maxVertices),
                                         vendorDirectory: vendor)
        print("OneMap serving \(path) at http://\(host):\(port)")
        try await buildApplication(store: store, configuration: config).runService()
    }
}
