import ArgumentParser
import Conflicts
import Foundation
import GeoCore
import LayerStore
import PostGISStore

/// `onemap check FILE` checks one site (the default), `onemap check batch FILE` many patches.
/// (A command with a positional argument of its own would take `batch` for the file.)
struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a site (项目用地红线) against every layer with a rule (合规性审查); `check batch` checks many.",
        subcommands: [CheckSite.self, CheckBatch.self], defaultSubcommand: CheckSite.self)
}

struct CheckSite: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Check a site (项目用地红线) against every layer with a rule (合规性审查).",
        discussion: """
            FILE is GeoJSON, WKT (with --crs), a 部标准格式 coordinate TXT (UTF-8 or GBK), a Shapefile or a
            GeoPackage; '-' reads standard input. Every check is recorded in the database (全留痕) unless
            --no-record is given. `onemap check batch` checks every patch of a file as its own site.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json, geojson, html }

    @Argument(help: "The site file, or - for standard input.") var file: String
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Only these layers, comma-separated.") var layers: String?
    @Option(help: "Output format: text, json, geojson or html.") var format: Format = .text
    @Option(help: "Write the output here instead of standard output.") var out: String?
    @Option(help: "The CRS of WKT, or of a file that declares none (e.g. EPSG:4528).") var crs: String?
    @Option(help: "Project code (项目代码) for the record.") var projectCode: String?
    @Option(help: "Project name (项目名称) for the record.") var projectName: String?
    @Flag(help: "Do not keep a record of this check.") var noRecord = false
    @Option(help: "Most vertices the site may have (the server's default too).") var maxVertices = SiteLimits.defaultMaxVertices
    @Option(
        help:
            "Most bytes the recorded answer and GeoJSON may take together, as `serve --max-answer`; a larger check is not recorded (with --no-record there is no cap)."
    )
    var maxAnswer = CheckRecords.defaultMaxAnswerBytes
    @Flag(help: "Check each feature of a GeoJSON FeatureCollection as its own site; prints a JSON array and, on stderr, the time per site.")
    var each = false

    func run() async throws {
        if each { return try await runEach() }
        let site: Site
        let format: SiteReader.Format
        let input: Data
        guard maxVertices >= 1, maxAnswer >= 1 else { throw ValidationError("--max-vertices and --max-answer must be at least 1") }
        let limits = SiteLimits(maxVertices: maxVertices)
        if file == "-" {
            input = FileHandle.standardInput.readDataToEndOfFile()
            (site, format) = try SiteReader.read(input, crs: crs, limits: limits)
        } else {
            input = FileManager.default.contents(atPath: file) ?? Data()
            (site, format) = try SiteReader.path(file, crs: crs, limits: limits)
        }
        let store = try await database.open()
        let wanted = layers?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        // The pieces (the geometry behind each conflict) only for what draws them or stores them.
        let keepPieces = !noRecord || self.format == .geojson || self.format == .html
        let outcome = try ConflictChecker(store: store).check(site, layers: wanted, keepPieces: keepPieces)
        var result = outcome.result
        if !noRecord {
            // On PostgreSQL the record is stored there, where every replica lists it, before the
            // answer is printed; the local copy keeps it too.
            let upstream = try database.upstream().map { PostGISRecords(location: $0) }
            defer { upstream?.close() }
            let record = try CheckRecords(store: store, maxAnswerBytes: maxAnswer, upstream: upstream).save(
                outcome,
                request: .init(
                    projectCode: projectCode, projectName: projectName, keyName: Caller.localUser.keyName,
                    inputFormat: format.rawValue, input: input))
            result = try JSONDecoder().decode(CheckResult.self, from: record.result)
        }
        let output: Data
        switch self.format {
        case .text: output = Data(CheckText.render(result).utf8)
        case .json:
            // The contract, without the record's fields.
            var plain = outcome.result
            plain.id = nil
            output = try plain.json() + Data("\n".utf8)
        case .geojson: output = try CheckGeoJSON.data(outcome) + Data("\n".utf8)
        case .html: output = Data(try CheckReport.html(result: result, geojson: try CheckGeoJSON.data(outcome)).utf8)
        }
        if let out {
            try output.write(to: URL(fileURLWithPath: out))
        } else {
            FileHandle.standardOutput.write(output)
        }
    }

    /// Many sites in one process: for planners screening candidate sites, and for the
    /// benchmark, which must time the checks and not process start-up.
    func runEach() async throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : (FileManager.default.contents(atPath: file) ?? Data())
        let json = try GeoJSON.parseJSON(data)
        guard let features = (json as? [String: Any])?["features"] as? [Any] else {
            throw ValidationError("--each needs a GeoJSON FeatureCollection")
        }
        let sites = try features.enumerated().map { i, f -> Site in
            do { return try SiteReader.geoJSON(json: f, limits: SiteLimits(maxVertices: maxVertices)) } catch {
                throw ValidationError("features[\(i)]: \(error)")
            }
        }
        let store = try await database.open()
        let checker = ConflictChecker(store: store, boxesInMemory: true)
        let wanted = layers?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        var results: [CheckResult] = []
        var times: [Double] = []
        // One untimed pass over all the sites first opens the readers and brings the pages they
        // touch into memory, as a running server has them (and as the benchmark's peers get).
        // Only the results are printed, so no check keeps its pieces.
        for site in sites { _ = try checker.check(site, layers: wanted, keepPieces: false) }
        // CPU time as well as wall time: on a shared machine the wall clock also counts the
        // time other processes had the core, the thread's CPU clock only this work.
        let cpu0 = Self.threadCPUTime()
        for site in sites {
            let t0 = DispatchTime.now().uptimeNanoseconds
            results.append(try checker.check(site, layers: wanted, keepPieces: false).result)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
        let cpuMean = (Self.threadCPUTime() - cpu0) * 1000 / Double(max(1, times.count))
        let sorted = times.sorted()
        let median = sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        FileHandle.standardError.write(
            Data(
                String(
                    format: "checked %d sites: median %.3f ms/site, mean %.3f ms/site, total %.1f ms; CPU %.3f ms/site\n",
                    times.count, median, times.reduce(0, +) / Double(max(1, times.count)), times.reduce(0, +),
                    cpuMean
                ).utf8))
        let output = try CheckResult.encoder().encode(results) + Data("\n".utf8)
        if let out { try output.write(to: URL(fileURLWithPath: out)) } else { FileHandle.standardOutput.write(output) }
    }

    /// Seconds of CPU this thread has used (GRDB runs a read on the calling thread).
    static func threadCPUTime() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
}
