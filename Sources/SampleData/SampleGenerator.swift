import Foundation
import GeoCore
import VectorIO

/// Generates the synthetic Lishui layers on the real county boundaries, in the formats users
/// really receive, deterministically from a seed. See sampledata/README.md for what is made.
public struct SampleGenerator {
    public struct Options {
        public var out: String
        public var seed: UInt64
        public var farmlandCount: Int
        /// The real boundaries (city + nine counties), lon/lat.
        public var adminPath: String
        /// About how many land-use 图斑 (三调 地类图斑) to make: around 莲都's seat in 100 m
        /// cells, or over the whole city with `landUseCity`.
        public var landUseCount: Int
        public var landUseCity: Bool
        public init(
            out: String, seed: UInt64, farmlandCount: Int, adminPath: String, landUseCount: Int = 6_400, landUseCity: Bool = false
        ) {
            self.out = out; self.seed = seed; self.farmlandCount = farmlandCount; self.adminPath = adminPath
            self.landUseCount = landUseCount; self.landUseCity = landUseCity
        }
    }

    public struct Report: Codable {
        public var files: [String]
        public var counts: [String: Int]
        public var farmlandBlockSizeM: Double
        public var farmlandReachM: Double
        public var invalidFarmland: Int
        public var seconds: Double
    }

    struct County { let code: String; let name: String; let polygons: [Polygon] }

    let options: Options
    let progress: ((String) -> Void)?
    let toGK: CoordinateTransform
    let toGeo: CoordinateTransform
    let engine = GeometryEngine()
    let ellipsoid = Ellipsoid.cgcs2000
    var rng: SeededRandom

    /// The date GDAL stamps into files, fixed so the same seed gives the same bytes.
    static let fileDate = "2026-01-01T00:00:00.000Z"
    static let fileDay = "2026-01-01"

    public init(options: Options, progress: ((String) -> Void)? = nil) throws {
        self.options = options
        self.progress = progress
        toGK = try CoordinateTransform(from: "EPSG:4490", to: "EPSG:4549")
        toGeo = try CoordinateTransform(from: "EPSG:4549", to: "EPSG:4490")
        rng = SeededRandom(seed: options.seed, stream: 1)
    }

    func path(_ name: String) -> String { (options.out as NSString).appendingPathComponent(name) }

    func project(_ c: Coordinate) throws -> Coordinate { try toGK.transform(c) }
    func geographic(_ g: Geometry) throws -> Geometry { try toGeo.transform(g) }

    public mutating func run() throws -> Report {
        let started = Date()
        guard options.farmlandCount > 0 else { throw SampleError("--farmland-count must be at least 1") }
        try FileManager.default.createDirectory(atPath: path("projects"), withIntermediateDirectories: true)
        VectorConfig.makeOutputDeterministic(date: Self.fileDate)

        let (city, counties) = try readAdmin()
        var box = city.boundingBox!
        box = BoundingBox(box.minX - 2000, box.minY - 2000, box.maxX + 2000, box.maxY + 2000)
        var terrain = Terrain(counties: counties.map(\.polygons), box: box, cell: 250)
        progress?("rivers")
        let (rivers, sources) = try makeRivers(terrain: terrain)
        terrain.setRivers(rivers)
        // Overlays run in lon/lat, the CRS the files are written in: a shared edge computed in
        // metres would bend differently on each side once unprojected, leaving slivers.
        let cityEngine = try engine.make(try geographic(city))

        var counts: [String: Int] = [:]
        var files: [String] = []

        progress?("urban_boundary")
        let urban = try makeUrban(cityEngine)
        try writeGeoJSON("urban_boundary.geojson", urban, fields: ["BSM", "XZQMC", "GHFQMC"].map { FieldDefinition(name: $0, type: .text) })
        counts["urban_boundary"] = urban.count; files.append("urban_boundary.geojson")

        progress?("protected_area")
        let reserves = try makeReserves(cityEngine)
        try writeGeoJSON(
            "protected_area.geojson", reserves, fields: ["BSM", "ZRBHDMC", "GNFQ"].map { FieldDefinition(name: $0, type: .text) })
        counts["protected_area"] = reserves.count; files.append("protected_area.geojson")

        progress?("water_source")
        let (water, lakes) = try makeWater(cityEngine)
        try writeGeoJSON("water_source.geojson", water, fields: ["BSM", "SYMC", "BHQJB"].map { FieldDefinition(name: $0, type: .text) })
        counts["water_source"] = water.count; files.append("water_source.geojson")

        progress?("pipeline")
        let pipes = try makePipelines(cityEngine)
        try writeGeoJSON(
            "pipeline.geojson", pipes, geometryType: "LineString",
            fields: [
                FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "GDMC", type: .text),
                FieldDefinition(name: "GJ", type: .integer), FieldDefinition(name: "YL", type: .text)
            ])
        counts["pipeline"] = pipes.count; files.append("pipeline.geojson")

        progress?("ecological_redline")
        let redlines = try makeRedlines(cityEngine, terrain: terrain, sources: sources, counties: counties)
        try writeRedlines(redlines)
        counts["ecological_redline"] = redlines.count; files.append("ecological_redline.shp")

        progress?("farmland")
        let towns = try Lishui.seats.map { (try project($0.lonLat), $0.urbanRadius * 0.55) }
        let lakeLines = try lakes.map { (try $0.0.map(project), $0.1) }
        var farmland = FarmlandGenerator(
            terrain: terrain, seed: options.seed, count: options.farmlandCount,
            towns: towns, lakes: lakeLines)
        try farmland.plan()
        let anchors = try ProjectSites.farmlandAnchors.map(project)
        var nearest = [(Double, Polygon)?](repeating: nil, count: anchors.count)
        let invalid = try writeFarmland(farmland, counties: counties) { p in
            let c = p.polygon.exterior[0]
            for (i, a) in anchors.enumerated() {
                let d = hypot(c.x - a.x, c.y - a.y)
                if nearest[i] == nil || d < nearest[i]!.0 { nearest[i] = (d, p.polygon) }
            }
        }
        counts["farmland"] = options.farmlandCount; files.append("farmland.gpkg")

        if options.landUseCount > 0 {
            progress?("landuse")
            counts["landuse"] = try writeLandUse(terrain: terrain, counties: counties, city: city, reach: farmland.reach)
            files.append("landuse.gpkg")
        }

        progress?("projects")
        let sites = try ProjectSites(
            generator: self, terrain: terrain, farmlandReach: farmland.reach,
            layers: ProjectSites.Layers(urban: urban, reserves: reserves, water: water, pipes: pipes, redlines: redlines),
            nearestFarmland: nearest.compactMap { $0?.1 })
        files += try sites.write()

        return Report(
            files: files, counts: counts, farmlandBlockSizeM: farmland.blockSize, farmlandReachM: farmland.reach,
            invalidFarmland: invalid, seconds: Date().timeIntervalSince(started))
    }

    // MARK: Admin

    func readAdmin() throws -> (Geometry, [County]) {
        let src = try VectorSource(path: options.adminPath)
        guard let code = src.fields.firstIndex(where: { $0.name == "XZQDM" }),
            let name = src.fields.firstIndex(where: { $0.name == "XZQMC" })
        else {
            throw SampleError("\(options.adminPath): needs XZQDM and XZQMC fields")
        }
        var city: Geometry?
        var counties: [County] = []
        while let f = try src.next() {
            guard let g = f.geometry, case .text(let c) = f.attributes[code], case .text(let n) = f.attributes[name] else { continue }
            let projected = try toGK.transform(g)
            if c.hasSuffix("00") { city = projected } else { counties.append(County(code: c, name: n, polygons: projected.polygons)) }
        }
        guard let city, !counties.isEmpty else { throw SampleError("\(options.adminPath): needs the city (…00) and its counties") }
        return (city, counties.sorted { $0.code < $1.code })
    }

    // MARK: Rivers

    mutating func makeRivers(terrain: Terrain) throws -> ([[Coordinate]], [Coordinate]) {
        var rivers: [[Coordinate]] = []
        var sources: [Coordinate] = []
        for r in Lishui.rivers {
            let line = Shapes.meander(try r.path.map(project), step: 400, amplitude: 450, rng: &rng)
            rivers.append(line)
            sources.append(line[0])
        }
        // Side valleys: streams that climb away from the main rivers. Their heads are the
        // river sources that red lines protect.
        let mains = rivers
        var made = 0, tries = 0
        while made < 70 && tries < 2000 {
            tries += 1
            let main = rng.pick(mains)
            let i = 1 + rng.int(main.count - 2)
            let a = main[i - 1], b = main[i]
            let side: Double = rng.unit() < 0.5 ? 1 : -1
            var heading = atan2(b.y - a.y, b.x - a.x) + side * rng.range(0.9, 2.2)
            var p = b
            var stream = [p]
            let steps = 8 + rng.int(22)
            for _ in 0..<steps {
                heading += rng.range(-0.35, 0.35)
                p = Coordinate(p.x + 500 * cos(heading), p.y + 500 * sin(heading))
                guard terrain.countyIndex(at: p) != nil else { break }
                stream.append(p)
            }
            guard stream.count >= 6 else { continue }
            rivers.append(stream)
            sources.append(stream[stream.count - 1])
            made += 1
        }
        return (rivers, sources)
    }

    // MARK: Layers kept in memory (they are small)

    struct Item {
        var geometry: Geometry  // lon/lat, EPSG:4490
        var attributes: [AttributeValue]
    }

    /// A natural shape made in metres around a projected centre, returned in lon/lat.
    func blob(_ centre: Coordinate, _ radius: Double, vertices: Int = 64, rng: inout SeededRandom) throws -> EngineGeometry {
        try engine.make(try geographic(.polygon(Polygon([Shapes.blob(centre: centre, radius: radius, vertices: vertices, rng: &rng)]))))
    }

    /// Buffers a lon/lat geometry by metres (in the projected CRS), returned in lon/lat.
    func buffer(_ g: EngineGeometry, _ metres: Double) throws -> EngineGeometry {
        let projected = try engine.make(try toGK.transform(try g.value()))
        return try engine.make(try geographic(try projected.buffer(metres, quadrantSegments: 6).value()))
    }

    mutating func makeUrban(_ city: EngineGeometry) throws -> [Item] {
        var items: [Item] = []
        var n = 0
        func add(_ g: EngineGeometry, _ county: String, _ zone: String) throws {
            guard !g.isEmpty else { return }
            n += 1
            items.append(Item(geometry: try g.value(), attributes: [.text(String(format: "CZKFBJ%04d", n)), .text(county), .text(zone)]))
        }
        for seat in Lishui.seats {
            let c = try project(seat.lonLat)
            let r = seat.urbanRadius
            let core = try blob(c, r, rng: &rng).intersection(city)
            let angle = rng.range(0, 2 * .pi)
            let flex = try blob(Coordinate(c.x + 0.95 * r * cos(angle), c.y + 0.95 * r * sin(angle)), 0.5 * r, rng: &rng)
                .intersection(city).difference(core)
            let angle2 = angle + rng.range(2.0, 4.2)
            let special = try blob(
                Coordinate(c.x + 1.45 * r * cos(angle2), c.y + 1.45 * r * sin(angle2)), 0.22 * r, vertices: 32, rng: &rng
            )
            .intersection(city).difference(core.union(flex))
            try add(core, seat.name, "城镇集中建设区")
            try add(flex, seat.name, "城镇弹性发展区")
            try add(special, seat.name, "特别用途区")
        }
        return items
    }

    mutating func makeReserves(_ city: EngineGeometry) throws -> [Item] {
        var items: [Item] = []
        var n = 0
        for reserve in Lishui.reserves {
            var core: EngineGeometry? = nil
            for (centre, radius) in reserve.cores {
                let b = try blob(try project(centre), radius, vertices: 72, rng: &rng)
                core = try core.map { try $0.union(b) } ?? b
            }
            let inner = try core!.intersection(city)
            let bufferOuter = try buffer(core!, reserve.bufferGrowth).intersection(city)
            let outer = try buffer(core!, reserve.bufferGrowth + reserve.experimentalGrowth).intersection(city)
            for (zone, g) in [("核心区", inner), ("缓冲区", try bufferOuter.difference(inner)), ("实验区", try outer.difference(bufferOuter))] {
                n += 1
                items.append(
                    Item(geometry: try g.value(), attributes: [.text(String(format: "ZRBHD%04d", n)), .text(reserve.name), .text(zone)]))
            }
        }
        return items
    }

    /// Returns the zones, and the lakes (lon/lat line, half width) where no farmland can be.
    mutating func makeWater(_ city: EngineGeometry) throws -> ([Item], [([Coordinate], Double)]) {
        var items: [Item] = []
        var lakes: [([Coordinate], Double)] = []
        var n = 0
        for r in Lishui.reservoirs {
            let line = try engine.make(.lineString(r.lake))
            let first = try buffer(line, r.halfWidth + 300).intersection(city)
            let second = try buffer(line, r.halfWidth + 2500).intersection(city).difference(first)
            for (level, g) in [("一级", first), ("二级", second)] {
                n += 1
                items.append(
                    Item(
                        geometry: try g.value(),
                        attributes: [.text(String(format: "YYSY%04d", n)), .text("\(r.name)饮用水水源保护区"), .text(level)]))
            }
            lakes.append((r.lake, r.halfWidth))
        }
        return (items, lakes)
    }

    mutating func makePipelines(_ city: EngineGeometry) throws -> [Item] {
        var items: [Item] = []
        for (i, p) in Lishui.pipelines.enumerated() {
            let line = Shapes.meander(try p.path.map(project), step: 300, amplitude: 160, rng: &rng)
            // The city's data stops at its boundary: keep the longest piece inside.
            let inside = try engine.make(try geographic(.lineString(line))).intersection(city).value().lineStrings
            guard let piece = inside.max(by: { Shapes.totalLength($0) < Shapes.totalLength($1) }) else { continue }
            items.append(
                Item(
                    geometry: .lineString(piece),
                    attributes: [.text(String(format: "GD%04d", i + 1)), .text(p.name), .integer(Int64(p.diameter)), .text(p.pressure)]))
        }
        return items
    }

    /// 60 red-line polygons: big ones on the ridges, smaller ones at river sources, none
    /// overlapping another, some with an enclave (hole), none over a town centre.
    mutating func makeRedlines(_ city: EngineGeometry, terrain: Terrain, sources: [Coordinate], counties: [County]) throws -> [Item] {
        var placed: [(Coordinate, Double)] = []
        var items: [Item] = []
        let towns = try Lishui.seats.map { (try project($0.lonLat), $0.urbanRadius) }
        let box = BoundingBox(
            terrain.minX, terrain.minY, terrain.minX + Double(terrain.cols) * terrain.cell,
            terrain.minY + Double(terrain.rows) * terrain.cell)
        var tries = 0
        while items.count < 60 && tries < 20_000 {
            tries += 1
            let atSource = items.count % 3 == 2
            let centre: Coordinate
            let radius: Double
            if atSource {
                centre = rng.pick(sources)
                radius = rng.range(1200, 2600)
            } else {
                centre = Coordinate(rng.range(box.minX, box.maxX), rng.range(box.minY, box.maxY))
                guard terrain.distanceToRiver(at: centre) > 2500 else { continue }
                radius = rng.range(1800, 4800)
            }
            guard let county = terrain.countyIndex(at: centre) else { continue }
            let reach = radius * 1.5
            guard placed.allSatisfy({ hypot($0.0.x - centre.x, $0.0.y - centre.y) > $0.1 + reach }),
                towns.allSatisfy({ hypot($0.0.x - centre.x, $0.0.y - centre.y) > $0.1 * 1.6 + reach })
            else { continue }
            var g = try blob(centre, radius, vertices: 96, rng: &rng).intersection(city)
            if rng.unit() < 0.25 {
                let hole = try blob(
                    Coordinate(centre.x + rng.range(-0.2, 0.2) * radius, centre.y + rng.range(-0.2, 0.2) * radius),
                    radius * rng.range(0.12, 0.25), vertices: 24, rng: &rng)
                g = try g.difference(hole)
            }
            guard !g.isEmpty else { continue }
            placed.append((centre, reach))
            let type = atSource ? "水源涵养" : (rng.unit() < 0.5 ? "生物多样性维护" : "水土保持")
            let value = try g.value()
            let area = ellipsoid.area(value)
            let n = items.count + 1
            let c = counties[county]
            items.append(
                Item(
                    geometry: value,
                    attributes: [
                        .text(String(format: "STHX%04d", n)),
                        .text("\(c.name)\(type)生态保护红线\(n)号"),
                        .text(type), .text(c.code), .real((area * 100).rounded() / 100)
                    ]))
        }
        guard items.count == 60 else { throw SampleError("could place only \(items.count) red lines") }
        return items
    }

    // MARK: Writing

    func writeGeoJSON(_ name: String, _ items: [Item], geometryType: String = "MultiPolygon", fields: [FieldDefinition]) throws {
        let w = try VectorWriter(
            path: path(name), format: .geoJSON, layerName: (name as NSString).deletingPathExtension,
            crs: "EPSG:4490", geometryType: geometryType, fields: fields,
            layerOptions: ["RFC7946=NO"])  // full precision: shared edges must stay shared
        for item in items {
            let g = item.geometry
            try w.write(geometry: geometryType == "MultiPolygon" ? .multiPolygon(g.polygons) : g, attributes: item.attributes)
        }
        try w.close()
    }

    func writeRedlines(_ items: [Item]) throws {
        let fields = [
            FieldDefinition(name: "BSM", type: .text), FieldDefinition(name: "HXMC", type: .text),
            FieldDefinition(name: "HXLX", type: .text), FieldDefinition(name: "XZQDM", type: .text),
            FieldDefinition(name: "MJ", type: .real)
        ]
        // GBK text and no .cpg, the way many exchange Shapefiles arrive.
        let w = try VectorWriter(
            path: path("ecological_redline.shp"), format: .shapefile, layerName: "ecological_redline",
            crs: "EPSG:4490", geometryType: "Polygon", fields: fields, rawEncoding: "GBK",
            layerOptions: ["DBF_DATE_LAST_UPDATE=\(Self.fileDay)"])
        for item in items {
            try w.write(geometry: .multiPolygon(item.geometry.polygons), attributes: item.attributes)
        }
        try w.close()
    }

    /// Streams the farmland GeoPackage in EPSG:4528 (zone 40 with the prefix). Returns how many
    /// parcels carry a deliberately broken ring.
    func writeFarmland(_ farmland: FarmlandGenerator, counties: [County], observe: (FarmlandGenerator.Parcel) -> Void) throws -> Int {
        let fields =
            ["BSM", "TBBH", "DLBM", "DLMC", "ZLDWMC", "XZQDM"].map { FieldDefinition(name: $0, type: .text) }
            + [FieldDefinition(name: "TBMJ", type: .real)]
        let w = try VectorWriter(
            path: path("farmland.gpkg"), format: .geoPackage, layerName: "yjjbnt",
            crs: "EPSG:4528", geometryType: "MultiPolygon", fields: fields)
        var sequence = 0
        var invalid = 0
        var villageCounters: [Int: Int] = [:]
        let classes = [("0101", "水田"), ("0101", "水田"), ("0101", "水田"), ("0102", "水浇地"), ("0103", "旱地"), ("0103", "旱地")]
        try farmland.generate { p in
            sequence += 1
            if p.invalid { invalid += 1 }
            observe(p)
            let county = counties[p.county]
            let tbbh = (villageCounters[p.villageKey] ?? 0) + 1
            villageCounters[p.villageKey] = tbbh
            // The declared area (TBMJ) is the ellipsoidal area of the intended (valid) shape.
            var valid = p.polygon
            if p.invalid { var r = valid.rings[0]; r.swapAt(1, 2); valid.rings[0] = r }
            let area = ellipsoid.area(try toGeo.transform(Geometry.polygon(valid)))
            let cls = classes[Int(SeededRandom.hash(options.seed, sequence, 1, 0xD1) % UInt64(classes.count))]
            let prefixed = Geometry.multiPolygon([Polygon(p.polygon.rings.map { $0.map { Coordinate($0.x + 40_000_000, $0.y) } })])
            try w.write(
                geometry: prefixed,
                attributes: [
                    .text(county.code + String(format: "2110%08d", sequence)), .text(String(format: "%04d", tbbh)),
                    .text(cls.0), .text(cls.1), .text("\(county.name)\(p.village)"), .text(county.code),
                    .real((area * 100).rounded() / 100)
                ])
            if sequence % 20_000 == 0 { progress?("farmland \(sequence)") }
        }
        try w.close()
        return invalid
    }
}
