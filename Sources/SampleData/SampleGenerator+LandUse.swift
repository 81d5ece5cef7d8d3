import Foundation
import GeoCore
import VectorIO

extension SampleGenerator {
    /// The land-use layer, `landuse.gpkg` (layer `dltb`) in EPSG:4549 (zone 40 without the
    /// prefix, as 三调 databases are often delivered), with the 三调 fields: BSM, DLBM, DLMC,
    /// ZLDWDM (county 6, township 3, village 3 digits), TBMJ (the ellipsoidal area), KCDLBM,
    /// KCXS, KCMJ and TBDLMJ = TBMJ − KCMJ. Returns how many 图斑 it wrote.
    ///
    /// By default it covers a window around 莲都's seat in 100 m cells (the sample's projects
    /// there take 耕地); `landUseCity` covers the whole city in cells sized for `landUseCount`.
    func writeLandUse(terrain: Terrain, counties: [County], city: Geometry, reach: Double) throws -> Int {
        let towns = try Lishui.seats.map { (try project($0.lonLat), $0.urbanRadius) }
        let window: BoundingBox
        let cell: Double
        if options.landUseCity {
            let box = city.boundingBox!
            let area = try engine.make(city).planarArea()
            cell = (area / Double(options.landUseCount)).squareRoot()
            window = box
        } else {
            cell = 100
            let side = Double(options.landUseCount).squareRoot() * cell
            let seat = towns[0].0
            window = BoundingBox(seat.x - side / 2, seat.y - side / 2, seat.x + side / 2, seat.y + side / 2)
        }
        let prepared = try counties.map { c -> (EngineGeometry, PreparedGeometry) in
            let g = try engine.make(.multiPolygon(c.polygons))
            return (g, try g.prepared())
        }
        let generator = LandUseGenerator(
            terrain: terrain, seed: options.seed, towns: towns, reach: reach, window: window, cell: cell,
            counties: prepared.map { (polygon: $0.0, prepared: $0.1) }, engine: engine)
        let fields =
            ["BSM", "DLBM", "DLMC", "ZLDWDM"].map { FieldDefinition(name: $0, type: .text) }
            + [FieldDefinition(name: "TBMJ", type: .real), FieldDefinition(name: "KCDLBM", type: .text)]
            + ["KCXS", "KCMJ", "TBDLMJ"].map { FieldDefinition(name: $0, type: .real) }
        let w = try VectorWriter(
            path: path("landuse.gpkg"), format: .geoPackage, layerName: "dltb", crs: "EPSG:4549", geometryType: "MultiPolygon",
            fields: fields)
        var sequence = 0
        try generator.generate { t in
            sequence += 1
            let county = counties[t.county]
            let tbmj = (ellipsoid.area(try toGeo.transform(Geometry.polygon(t.polygon))) * 100).rounded() / 100
            let kcmj = (tbmj * t.deductRatio * 100).rounded() / 100
            let tbdlmj = ((tbmj - kcmj) * 100).rounded() / 100
            try w.write(
                geometry: .multiPolygon([t.polygon]),
                attributes: [
                    .text(county.code + String(format: "2120%08d", sequence)), .text(t.code), .text(t.name),
                    .text(county.code + String(format: "%03d%03d", t.township, t.village)), .real(tbmj),
                    t.deductRatio > 0 ? .text("1203") : .null, .real(t.deductRatio), .real(kcmj), .real(tbdlmj)
                ])
            if sequence % 50_000 == 0 { progress?("landuse \(sequence)") }
        }
        try w.close()
        return sequence
    }
}
