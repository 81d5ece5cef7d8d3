import GeoCore
import LayerStore

/// A topology report as `onemap topology --format json` and `onemap load --json` give it: the
/// findings' ids, areas, places and counties, without their shapes (those go to GeoJSON or a
/// GeoPackage).
extension LandUseTopology {
    public struct Summary: Encodable, Sendable {
        public struct Item: Encodable, Sendable {
            public var ids: [String]
            public var areaM2: Double
            public var lon: Double
            public var lat: Double
            public var county: String?

            public func encode(to encoder: Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(ids, forKey: .ids)
                try c.encode(areaM2, forKey: .areaM2)
                try c.encode(lon, forKey: .lon)
                try c.encode(lat, forKey: .lat)
                // Said as null, not left out: a finding outside every county is worth seeing.
                try c.encode(county, forKey: .county)
            }
            enum CodingKeys: String, CodingKey { case ids, areaM2, lon, lat, county }
        }

        public struct Findings: Encodable, Sendable {
            public var count: Int
            public var areaM2: Double
            public var items: [Item]

            init(_ findings: [Finding]) {
                count = findings.count
                areaM2 = findings.reduce(0) { $0 + $1.areaM2 }
                items = findings.map { Item(ids: $0.ids, areaM2: $0.areaM2, lon: $0.place.x, lat: $0.place.y, county: $0.county) }
            }
        }

        public var layer: String
        public var version: Int
        public var features: Int
        public var boundary: String
        public var minimumAreaM2: Double
        public var overlaps: Findings
        public var gaps: Findings
        public var seconds: Double
    }
}

extension LandUseTopology.Report {
    public var summary: LandUseTopology.Summary {
        .init(
            layer: layer, version: version, features: features, boundary: boundary, minimumAreaM2: minimumAreaM2,
            overlaps: .init(overlaps), gaps: .init(gaps), seconds: seconds)
    }

    /// One line for a terminal: counts and areas of both kinds, and the time taken.
    public var line: String {
        let o = summary
        return "\(layer) #\(version): \(o.overlaps.count) overlaps (\(String(format: "%.1f", o.overlaps.areaM2)) m²), "
            + "\(o.gaps.count) gaps (\(String(format: "%.1f", o.gaps.areaM2)) m²) in \(String(format: "%.1f", seconds)) s"
    }
}

/// A load's report with its topology when the layer is a land-use layer (under the key
/// `topology`, beside the import's own): what `onemap load --json` prints per layer and what
/// `POST /v1/layers/{name}/reload` answers.
public struct LoadReport: Encodable, Sendable {
    public let report: ImportReport
    public let topology: LandUseTopology.Summary?
    /// For a farmland or land-use load: the 地类 worked out under each farmland parcel.
    public let parcelLandUse: ParcelLandUse.Report?

    public init(report: ImportReport, topology: LandUseTopology.Summary?, parcelLandUse: ParcelLandUse.Report? = nil) {
        self.report = report
        self.topology = topology
        self.parcelLandUse = parcelLandUse
    }

    public func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encodeIfPresent(topology, forKey: .topology)
        try c.encodeIfPresent(parcelLandUse, forKey: .parcelLandUse)
    }
    enum Key: String, CodingKey { case topology, parcelLandUse }
}
