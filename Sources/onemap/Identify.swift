import ArgumentParser
import Foundation
import LayerStore
import OneMapServer

struct IdentifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "identify",
        abstract: "Show the features of every public layer at a point (what is here?).",
        discussion: """
            Polygons that contain the point (a point on an edge counts) and lines or points within --tolerance
            metres. LON and LAT are CGCS2000 (EPSG:4490) degrees. --json prints the GeoJSON FeatureCollection
            that GET /v1/identify answers.
            """)

    @Argument(help: "Longitude in degrees.") var lon: Double
    @Argument(help: "Latitude in degrees.") var lat: Double
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only these layers, comma-separated.") var layers: String?
    @Option(help: "Metres within which lines and points count.") var tolerance: Double = 5
    @Flag(help: "Print GeoJSON.") var json = false

    func validate() throws {
        guard (-180...180).contains(lon), (-90...90).contains(lat) else {
            throw ValidationError("\(lon), \(lat) is not a longitude -180…180 and a latitude -90…90")
        }
        guard tolerance >= 0, tolerance <= 1000 else { throw ValidationError("--tolerance must be 0 to 1000 metres") }
    }

    func run() async throws {
        let store = try await database.open()
        let wanted = layers?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let result: IdentifyLookup.Result
        do {
            result = try IdentifyLookup.run(store: store, lon: lon, lat: lat, layers: wanted, toleranceM: tolerance, for: .localUser)
        } catch let e as IdentifyLookup.IdentifyError {
            throw ValidationError(e.message)
        }
        if json {
            FileHandle.standardOutput.write(Data(result.json + Array("\n".utf8)))
        } else {
            print(result.text, terminator: "")
        }
    }
}
