import ArgumentParser
import Foundation
import SampleData

struct Sample: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate the synthetic Lishui sample layers and project sites, deterministically.")

    @Option(help: "Where to write the files.") var out = "sampledata"
    @Option(help: "The random seed: the same seed gives byte-identical files.") var seed: UInt64 = 2026
    @Option(help: "How many farmland parcels (永久基本农田图斑) to make.") var farmlandCount = 20_000
    @Option(help: "The real city and county boundaries (GeoJSON with XZQDM, XZQMC).") var admin = "sampledata/lishui_admin.geojson"
    @Option(help: "About how many land-use 图斑 (三调 地类图斑) to make; 0 for none.") var landUseCount = 6_400
    @Flag(help: "Cover the whole city with land-use 图斑 (else a window around 莲都's seat in 100 m cells).") var landUseCity = false
    @Flag(help: "Machine-readable output.") var json = false

    func validate() throws {
        guard farmlandCount > 0 else { throw ValidationError("--farmland-count must be at least 1") }
        guard landUseCount >= 0 else { throw ValidationError("--land-use-count must be 0 or more") }
    }

    func run() async throws {
        var generator = try SampleGenerator(
            options: .init(
                out: out, seed: seed, farmlandCount: farmlandCount, adminPath: admin, landUseCount: landUseCount,
                landUseCity: landUseCity),
            progress: json || !Terminal.stdoutIsTTY
                ? nil
                : { step in
                    FileHandle.standardOutput.write(Data("\r\u{1B}[K\(step)…".utf8))
                })
        let report = try generator.run()
        if json { try Terminal.printJSON(report); return }
        if Terminal.stdoutIsTTY { print("\r\u{1B}[K", terminator: "") }
        print("Wrote \(report.files.count) files to \(out) in \(String(format: "%.1f", report.seconds)) s:")
        for (layer, n) in report.counts.sorted(by: { $0.key < $1.key }) { print("  \(layer): \(n)") }
        print(
            "  farmland blocks \(Int(report.farmlandBlockSizeM)) m, reaching \(Int(report.farmlandReachM)) m from the rivers; \(report.invalidFarmland) broken rings on purpose"
        )
    }
}
