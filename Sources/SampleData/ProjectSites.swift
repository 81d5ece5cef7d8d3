import Foundation
import GeoCore
import VectorIO

/// Example project footprints (项目用地红线) for the README and the conflict-check tests:
/// some clear, some restricted, some forbidden. Each is placed by searching for a spot that
/// meets its intent against the layers just generated, so the intent holds for any seed.
final class ProjectSites {
    struct Layers {
        var urban: [SampleGenerator.Item]
        var reserves: [SampleGenerator.Item]
        var water: [SampleGenerator.Item]
        var pipes: [SampleGenerator.Item]
        var redlines: [SampleGenerator.Item]
    }

    /// Points (lon/lat) near which the generator remembers the nearest farmland parcel.
    static let farmlandAnchors = [Coordinate(119.53, 28.42), Coordinate(119.922, 28.452)]

    let generator: SampleGenerator
    let terrain: Terrain
    let farmlandReach: Double
    let layers: Layers
    let nearestFarmland: [Polygon]
    var rng: SeededRandom
    var engine: GeometryEngine { generator.engine }
    /// The files written so far, and a line on each for MANIFEST.txt.
    var written: [String] = []
    var manifest: [String] = []
    // Unions of each layer, made once: every candidate site is tested against them.
    let redlines, water, reserves, pipeZone, urban: EngineGeometry

    init(generator: SampleGenerator, terrain: Terrain, farmlandReach: Double, layers: Layers, nearestFarmland: [Polygon]) throws {
        self.generator = generator
        self.terrain = terrain
        self.farmlandReach = farmlandReach
        self.layers = layers
        self.nearestFarmland = nearestFarmland
        rng = SeededRandom(seed: generator.options.seed, stream: 7)
        let engine = generator.engine
        // Sites are placed in metres, so the layers are projected back for the tests.
        func union(_ items: [SampleGenerator.Item]) throws -> EngineGeometry {
            try engine.make(try generator.toGK.transform(.collection(items.map(\.geometry)))).unaryUnion()
        }
        redlines = try union(layers.redlines)
        water = try union(layers.water)
        reserves = try union(layers.reserves)
        pipeZone = try union(layers.pipes).buffer(80)
        urban = try union(layers.urban)
    }

    func union(_ items: [SampleGenerator.Item], where keep: (SampleGenerator.Item) -> Bool = { _ in true }) throws -> EngineGeometry {
        let parts = items.filter(keep).map(\.geometry)
        return try engine.make(try generator.toGK.transform(.collection(parts))).unaryUnion()
    }

    func text(_ item: SampleGenerator.Item, _ i: Int) -> String {
        if case .text(let s) = item.attributes[i] { return s }
        return ""
    }

    /// Is this rectangle free of every control layer except those named in `allow`?
    func isFree(_ site: EngineGeometry, allowWater: Bool = false, allowReserve: Bool = false) throws -> Bool {
        if try redlines.intersects(site) { return false }
        if !allowWater, try water.intersects(site) { return false }
        if !allowReserve, try reserves.intersects(site) { return false }
        if try pipeZone.intersects(site) { return false }
        return try farFromFarmland(site)
    }

    /// No farmland: every corner is farther from a river than the farthest farmed block.
    func farFromFarmland(_ site: EngineGeometry) throws -> Bool {
        let box = try site.value().boundingBox!
        return [
            Coordinate(box.minX, box.minY), Coordinate(box.maxX, box.maxY), Coordinate(box.minX, box.maxY), Coordinate(box.maxX, box.minY)
        ]
        .allSatisfy { terrain.distanceToRiver(at: $0) > farmlandReach + 600 }
    }

    /// Tries random rectangles around `centre` until `accept` holds.
    func search(
        around centre: Coordinate, spread: Double, size: (Double, Double),
        accept: (EngineGeometry) throws -> Bool
    ) throws -> [Coordinate]? {
        for _ in 0..<4000 {
            let c = Coordinate(centre.x + rng.range(-spread, spread), centre.y + rng.range(-spread, spread))
            let ring = Shapes.rectangle(c.x, c.y, size.0, size.1, angle: rng.range(0, .pi))
            if try accept(try engine.make(.polygon(Polygon([ring])))) { return ring }
        }
        return nil
    }

    /// 莲都's built-up centre, where the clear sites go: no farmland is generated there (< 0.55
    /// of the radius).
    struct TownCentre {
        let centre: Coordinate
        let radius: Double
        let core: PreparedGeometry
    }

    func write() throws -> [String] {
        let liandu = TownCentre(
            centre: try generator.project(Lishui.seats[0].lonLat), radius: Lishui.seats[0].urbanRadius,
            core: try union(layers.urban) { text($0, 2) == "城镇集中建设区" }.prepared())
        // In order: each search draws from the one seeded generator.
        try writeOverSongyinFarmland()
        try writeClearInLiandu(liandu)
        try writeOnHillside()
        try writeAcrossRedLine()
        try writeInJiulongshanExperimentalZone()
        try writeInFengyangshanCore()
        try writeInJinshuitanSecondaryZone()
        try writeAcrossGasPipeline()
        try writeTwoParcelsInLiandu(liandu)
        try writeOnLianduEdgeFarmland()
        let listing = "file | intended verdict | because of\n" + manifest.joined(separator: "\n") + "\n"
        try listing.write(toFile: generator.path("projects/MANIFEST.txt"), atomically: true, encoding: .utf8)
        written.append("projects/MANIFEST.txt")
        return written
    }

    /// Notes a written site: its path for the caller, its line for MANIFEST.txt.
    func list(_ file: String, _ manifestLine: String) {
        written.append("projects/" + file)
        manifest.append(manifestLine)
    }

    /// A rectangle inside the town's centre, clear of every control layer.
    func clear(in town: TownCentre, _ size: (Double, Double)) throws -> [Coordinate]? {
        try search(around: town.centre, spread: town.radius * 0.3, size: size) { site in
            let b = try site.value().boundingBox!
            guard hypot((b.minX + b.maxX) / 2 - town.centre.x, (b.minY + b.maxY) / 2 - town.centre.y) < town.radius * 0.4 else {
                return false
            }
            return try town.core.containsProperly(site) && !redlines.intersects(site) && !water.intersects(site)
                && !reserves.intersects(site) && !pipeZone.intersects(site)
        }
    }

    /// P01: over farmland along the 松阴溪 — forbidden.
    func writeOverSongyinFarmland() throws {
        guard let parcel = nearestFarmland.first else { return }
        let c = parcel.exterior[0]
        let ring = Shapes.rectangle(c.x, c.y, 260, 180, angle: 0.3)
        try writeGeoJSON("P01-songyang-farmland.geojson", code: "2026-331124-01", name: "松阳县某物流仓储项目", [ring])
        list("P01-songyang-farmland.geojson", "P01-songyang-farmland.geojson | forbidden | 永久基本农田")
    }

    /// P02: inside 莲都 城镇集中建设区, nothing else — clear.
    func writeClearInLiandu(_ liandu: TownCentre) throws {
        guard let ring = try clear(in: liandu, (220, 160)) else { return }
        try writeGeoJSON("P02-liandu-clear.geojson", code: "2026-331102-02", name: "莲都区某社区服务中心", [ring])
        list("P02-liandu-clear.geojson", "P02-liandu-clear.geojson | clear | —")
    }

    /// P03: on a hillside outside every town — restricted (城镇开发边界外).
    func writeOnHillside() throws {
        guard
            let ring = try search(
                around: try generator.project(Coordinate(119.75, 28.60)), spread: 15000, size: (300, 200),
                accept: { site in
                    try !urban.intersects(site) && isFree(site)
                })
        else { return }
        try writeGeoJSON("P03-mountain-outside-urban.geojson", code: "2026-331102-03", name: "某山区光伏电站升压站", [ring])
        list("P03-mountain-outside-urban.geojson", "P03-mountain-outside-urban.geojson | restricted | 城镇开发边界(外)")
    }

    /// P04: across the edge of a red line — forbidden.
    func writeAcrossRedLine() throws {
        guard let red = layers.redlines.first?.geometry.polygons.first else { return }
        let c = try generator.project(red.exterior[red.exterior.count / 3])
        try writeGeoJSON("P04-redline-edge.geojson", code: "2026-331123-04", name: "某景区索道上站", [Shapes.rectangle(c.x, c.y, 240, 240)])
        list("P04-redline-edge.geojson", "P04-redline-edge.geojson | forbidden | 生态保护红线")
    }

    /// P05: in the 实验区 of 九龙山 only — restricted.
    func writeInJiulongshanExperimentalZone() throws {
        let jiulong = layers.reserves.filter { text($0, 1).hasPrefix("九龙山") }
        guard let exp = jiulong.first(where: { text($0, 2) == "实验区" }) else { return }
        let zone = try engine.make(try generator.toGK.transform(exp.geometry))
        let prepared = try zone.prepared()
        let c = try generator.project(Lishui.reserves[1].cores[0].0)
        guard
            let ring = try search(
                around: c, spread: 9000, size: (160, 120),
                accept: { site in
                    try prepared.containsProperly(site) && !urban.intersects(site) && isFree(site, allowReserve: true)
                })
        else { return }
        try writeGeoJSON("P05-jiulongshan-experimental.geojson", code: "2026-331123-05", name: "九龙山科研监测站", [ring])
        list("P05-jiulongshan-experimental.geojson", "P05-jiulongshan-experimental.geojson | restricted | 自然保护地(实验区), 城镇开发边界(外)")
    }

    /// P06: in the 核心区 of 凤阳山 — forbidden.
    func writeInFengyangshanCore() throws {
        let fengyang = try generator.project(Lishui.reserves[0].cores[0].0)
        try writeGeoJSON(
            "P06-fengyangshan-core.geojson", code: "2026-331181-06", name: "凤阳山某观景平台", [Shapes.rectangle(fengyang.x, fengyang.y, 120, 90)])
        list("P06-fengyangshan-core.geojson", "P06-fengyangshan-core.geojson | forbidden | 自然保护地(核心区)")
    }

    /// P07: in the 二级 zone of 紧水滩, as a GBK TXT — restricted.
    func writeInJinshuitanSecondaryZone() throws {
        guard let second = layers.water.first(where: { text($0, 1).hasPrefix("紧水滩") && text($0, 2) == "二级" }) else { return }
        let prepared = try engine.make(try generator.toGK.transform(second.geometry)).prepared()
        let c = try generator.project(Lishui.reservoirs[0].lake[1])
        guard
            let ring = try search(
                around: c, spread: 3000, size: (150, 110),
                accept: { site in
                    try prepared.containsProperly(site) && !urban.intersects(site) && isFree(site, allowWater: true)
                })
        else { return }
        try writeTXT("P07-jinshuitan-secondary.txt", gbk: true, [("P07-1", "紧水滩库区某农家乐", "商服用地", [ring])])
        list("P07-jinshuitan-secondary.txt", "P07-jinshuitan-secondary.txt (GBK) | restricted | 饮用水水源保护区(二级), 城镇开发边界(外)")
    }

    /// P08: across the 丽水—龙泉 gas pipeline — forbidden (no building within 5 m).
    func writeAcrossGasPipeline() throws {
        guard case .lineString(let pipeLonLat) = layers.pipes[1].geometry else { return }
        let pipe = try pipeLonLat.map(generator.project)
        let i = pipe.count / 2
        let a = pipe[i - 1], b = pipe[i]
        let angle = atan2(b.y - a.y, b.x - a.x) + .pi / 2
        try writeTXT(
            "P08-pipeline-crossing.txt", gbk: false,
            [("P08-1", "某县道改建工程", "交通运输用地", [Shapes.rectangle(b.x, b.y, 400, 40, angle: angle)])])
        list("P08-pipeline-crossing.txt", "P08-pipeline-crossing.txt | forbidden | 油气管道(5 m)")
    }

    /// P09: two parcels in 莲都, one with a courtyard hole — clear.
    func writeTwoParcelsInLiandu(_ liandu: TownCentre) throws {
        guard let a = try clear(in: liandu, (180, 140)), let b = try clear(in: liandu, (160, 120)) else { return }
        let cx = a.dropLast().reduce(0) { $0 + $1.x } / 4, cy = a.dropLast().reduce(0) { $0 + $1.y } / 4
        let hole = Array(Shapes.rectangle(cx, cy, 40, 30).reversed())
        try writeTXT(
            "P09-liandu-two-parcels.txt", gbk: false,
            [("P09-1", "莲都区某学校(教学区)", "科教用地", [a, hole]), ("P09-2", "莲都区某学校(运动场)", "科教用地", [b])])
        list("P09-liandu-two-parcels.txt", "P09-liandu-two-parcels.txt | clear | — (two parcels, one with a hole)")
    }

    /// P10: at the edge of 莲都's town, over farmland — forbidden.
    func writeOnLianduEdgeFarmland() throws {
        guard nearestFarmland.count > 1 else { return }
        let c = nearestFarmland[1].exterior[0]
        try writeGeoJSON(
            "P10-liandu-edge-farmland.geojson", code: "2026-331102-10", name: "莲都区城郊某产业园",
            [Shapes.rectangle(c.x, c.y, 400, 300, angle: 0.2)])
        list("P10-liandu-edge-farmland.geojson", "P10-liandu-edge-farmland.geojson | forbidden | 永久基本农田")
    }

    func writeGeoJSON(_ name: String, code: String, name projectName: String, _ rings: [[Coordinate]]) throws {
        let w = try VectorWriter(
            path: generator.path("projects/" + name), format: .geoJSON, layerName: (name as NSString).deletingPathExtension,
            crs: "EPSG:4490", geometryType: "Polygon",
            fields: [FieldDefinition(name: "projectCode", type: .text), FieldDefinition(name: "projectName", type: .text)],
            layerOptions: ["COORDINATE_PRECISION=8", "RFC7946=YES"])
        let g = try generator.geographic(.polygon(Polygon(rings)))
        try w.write(geometry: g, attributes: [.text(code), .text(projectName)])
        try w.close()
    }

    func writeTXT(_ name: String, gbk: Bool, _ parcels: [(String, String, String, [[Coordinate]])]) throws {
        let out = try parcels.map { p -> ProjectFile.Parcel in
            let area = generator.ellipsoid.area(try generator.geographic(.polygon(Polygon(p.3))))
            return ProjectFile.Parcel(
                code: p.0, name: p.1, use: p.2,
                rings: p.3.map { $0.map { Coordinate($0.x + 40_000_000, $0.y) } }, areaHectares: area / 10_000)
        }
        let text = ProjectFile.txt(out, date: "2026-1-1")
        let data: Data
        if gbk {
            guard let bytes = TextEncoding.encode(text, to: "GBK") else { throw SampleError("cannot encode \(name) as GBK") }
            data = Data(bytes)
        } else {
            data = Data(text.utf8)
        }
        try data.write(to: URL(fileURLWithPath: generator.path("projects/" + name)))
    }
}
