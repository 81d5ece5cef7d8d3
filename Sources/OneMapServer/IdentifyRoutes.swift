import Features
import Foundation
import Hummingbird
import LayerStore

/// `GET /v1/identify?lon=&lat=[&layers=a,b][&tolerance=m][&geometry=false]`: the features of
/// every layer the caller may see at a point, for the viewer's popups and a planner's "what is here".
struct IdentifyRoutes {
    let store: Store
    let identify: Identify
    let access: AccessNotes

    init(store: Store, access: AccessNotes) {
        self.store = store
        self.access = access
        identify = Identify(catalog: FeatureCatalog(store: store))
    }

    func register(on router: some RouterMethods<OneMapRequestContext>) {
        router.get("v1/identify", use: handle)
    }

    static let parameters: Set<String> = ["lon", "lat", "layers", "tolerance", "geometry"]

    @Sendable func handle(request: Request, context: OneMapRequestContext) async throws -> Response {
        let q = QueryParameters(query: request.uri.query)
        if let unknown = q.pairs.first(where: { !Self.parameters.contains($0.name) }) {
            throw Problem(
                .badRequest, "bad parameter",
                "unknown parameter '\(unknown.name)'; identify takes \(Self.parameters.sorted().joined(separator: ", "))")
        }
        func number(_ name: String, required: Bool) throws -> Double? {
            let values = q.pairs.filter { $0.name == name }
            guard values.count <= 1 else { throw Problem(.badRequest, "bad parameter", "\(name) is given \(values.count) times") }
            guard let raw = values.first?.value else {
                if required { throw Problem(.badRequest, "bad parameter", "\(name) is required") }
                return nil
            }
            guard let v = Double(raw), v.isFinite else { throw Problem(.badRequest, "bad parameter", "\(name)=\(raw) is not a number") }
            return v
        }
        let lon = try number("lon", required: true)!, lat = try number("lat", required: true)!
        let tolerance = try number("tolerance", required: false) ?? Identify.defaultToleranceM
        let layers = q["layers"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        let withGeometry: Bool
        switch q["geometry"] ?? "true" {
        case "true", "1": withGeometry = true
        case "false", "0": withGeometry = false
        case let other: throw Problem(.badRequest, "bad parameter", "geometry=\(other) must be true or false")
        }
        let identify = self.identify
        do {
            let caller = context.caller
            let hits = try await store.read { db in
                try identify.identify(lon: lon, lat: lat, layers: layers, toleranceM: tolerance, for: caller, db: db)
            }
            // Each restricted layer's hits on record, with how many.
            let restricted = Dictionary(grouping: hits.filter(\.restricted), by: \.layer).mapValues(\.count)
            for (layer, count) in restricted.sorted(by: { $0.key < $1.key }) {
                access.note(
                    caller, requestID: RequestLog.id(request, context), route: "GET /v1/identify", layer: layer,
                    what: "lon=\(lon)&lat=\(lat)&tolerance=\(tolerance)", returned: count)
            }
            return Response(
                status: .ok, headers: [.contentType: "application/geo+json"],
                body: .init(byteBuffer: ByteBuffer(bytes: Identify.geoJSON(hits, lon: lon, lat: lat, geometry: withGeometry))))
        } catch let e as FeatureError {
            throw Problem(.badRequest, "bad parameter", e.description)
        }
    }
}

/// The same lookup for the command line (`onemap identify`), which reaches the feature
/// module through this one.
public enum IdentifyLookup {
    public struct Result: Sendable {
        /// The GeoJSON FeatureCollection `/v1/identify` answers.
        public let json: [UInt8]
        /// One block per layer, for a person at a terminal.
        public let text: String
        public let count: Int
    }

    public static func run(
        store: Store, lon: Double, lat: Double, layers: [String]?, toleranceM: Double = Identify.defaultToleranceM,
        geometry: Bool = true, for caller: Caller = .anonymous
    ) throws -> Result {
        let identify = Identify(catalog: FeatureCatalog(store: store))
        let hits: [Identify.Hit]
        do {
            hits = try store.pool.read { db in
                try identify.identify(lon: lon, lat: lat, layers: layers, toleranceM: toleranceM, for: caller, db: db)
            }
        } catch let e as FeatureError {
            throw IdentifyError(message: e.description)
        } catch let e as StoreError {
            throw IdentifyError(message: e.description)
        }
        var text = String(format: "%.6f, %.6f: ", lon, lat)
        text += hits.isEmpty ? "no features of any layer here\n" : "\(hits.count) feature\(hits.count == 1 ? "" : "s")\n"
        var current: String?
        for h in hits {
            if h.layer != current {
                text += "\(h.title) (\(h.layer))\n"
                current = h.layer
            }
            var line = "  \(h.id)"
            if let a = h.areaM2 { line += String(format: "  %.2f m² (%.3f 亩)", a, a * 15 / 10_000) }
            if h.areaM2 == nil { line += String(format: "  %.2f m away", h.distanceM) }
            text += line + "\n"
            let props = h.properties.map { "\($0.name)=\($0.value.stringValue ?? "null")" }.joined(separator: "  ")
            if !props.isEmpty { text += "    \(props)\n" }
        }
        return Result(json: Identify.geoJSON(hits, lon: lon, lat: lat, geometry: geometry), text: text, count: hits.count)
    }

    public struct IdentifyError: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }
}
