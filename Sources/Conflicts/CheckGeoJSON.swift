import Foundation
import GeoCore
import LayerStore

/// The geometry of a check as a GeoJSON FeatureCollection, for QGIS and for the report's map:
/// the site, each conflicting feature, and the pieces that make the conflict
/// (overlaps, the part outside an `outside` layer, the part in a pipeline corridor).
public enum CheckGeoJSON {
    public static func collection(_ outcome: CheckOutcome) -> [String: Any] {
        let titles = Dictionary(outcome.result.layers.map { ($0.layer, $0.title) }, uniquingKeysWith: { a, _ in a })
        var features: [[String: Any]] = [
            [
                "type": "Feature", "geometry": GeoJSON.object(outcome.site.geometry),
                "properties": ["role": "site", "areaM2": outcome.site.areaM2, "areaMu": AreaUnit.mu(fromM2: outcome.site.areaM2)]
            ]
        ]
        for p in outcome.pieces {
            var props: [String: Any] = ["role": p.role.rawValue, "layer": p.layer, "title": titles[p.layer] ?? p.layer]
            if let id = p.featureId { props["featureId"] = id }
            if let s = p.severity { props["severity"] = s.rawValue }
            if p.role != .feature { props["areaM2"] = p.areaM2; props["areaMu"] = AreaUnit.mu(fromM2: p.areaM2) }
            features.append(["type": "Feature", "geometry": GeoJSON.object(p.geometry), "properties": props])
        }
        return ["type": "FeatureCollection", "features": features]
    }

    public static func data(_ outcome: CheckOutcome) throws -> Data {
        let titles = Dictionary(outcome.result.layers.map { ($0.layer, $0.title) }, uniquingKeysWith: { a, _ in a })
        var w = GeoJSONWriter()
        w.raw("{\"type\":\"FeatureCollection\",\"features\":[")
        w.feature(
            outcome.site.geometry,
            properties: [("role", "site"), ("areaM2", outcome.site.areaM2), ("areaMu", AreaUnit.mu(fromM2: outcome.site.areaM2))])
        for p in outcome.pieces {
            var props: [(String, Any)] = [("role", p.role.rawValue), ("layer", p.layer), ("title", titles[p.layer] ?? p.layer)]
            if let id = p.featureId { props.append(("featureId", id)) }
            if let s = p.severity { props.append(("severity", s.rawValue)) }
            if p.role != .feature { props.append(("areaM2", p.areaM2)); props.append(("areaMu", AreaUnit.mu(fromM2: p.areaM2))) }
            w.raw(",")
            w.feature(p.geometry, properties: props)
        }
        w.raw("]}")
        return Data(w.text.utf8)
    }
}
