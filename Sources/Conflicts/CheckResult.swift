import Foundation
import GeoCore
import LandUse
import LayerStore

/// The answer of a conflict check: the JSON contract shared by `onemap check --format json`
/// and the API (which adds `id`, `createdAt`, `projectCode`, `projectName`).
public struct CheckResult: Codable, Sendable {
    public enum Verdict: String, Codable, Sendable {
        case forbidden, restricted, notice, clear
    }

    public struct SiteSummary: Codable, Sendable {
        public var areaM2: Double
        public var areaMu: Double
        public var areaHa: Double
        public var bbox: [Double]
    }

    public struct FeatureConflict: Codable, Sendable {
        public var id: String
        /// Absent for features listed only for context (the zones an `outside` site lies in).
        public var severity: Severity?
        public var overlapAreaM2: Double
        public var minDistanceM: Double?
        public var lengthM: Double?
        public var properties: [String: AttributeValue]

        /// `features` most severe first, then by overlap, largest first; ties keep their order.
        /// Sorted as indices: sorting the answers themselves would move each one's strings and
        /// attributes many times over.
        static func worstFirst(_ features: [FeatureConflict]) -> [FeatureConflict] {
            let order = features.indices.sorted { i, j in
                let a = (features[i].severity ?? .notice, features[i].overlapAreaM2)
                let b = (features[j].severity ?? .notice, features[j].overlapAreaM2)
                return a != b ? a > b : i < j
            }
            return order.map { features[$0] }
        }
    }

    public struct LayerConflict: Codable, Sendable {
        public var layer: String
        public var title: String
        /// The layer version checked (number and label): every layer with a rule is listed,
        /// conflict or not, so a layer missing from an answer shows. Absent only in records
        /// made before versions were listed.
        public var version: Int?
        public var versionLabel: String?
        public var severity: Severity
        public var conflict: Bool
        public var overlapAreaM2: Double
        public var overlapRatio: Double
        public var outsideAreaM2: Double?
        public var features: [FeatureConflict]
    }

    /// How much of each 地类 the site takes (用地预审), when a land-use layer is loaded and
    /// the check covers it.
    public struct LandUseAnswer: Codable, Equatable, Sendable {
        public struct GroupArea: Codable, Equatable, Sendable {
            public var netM2: Double
        }
        public var layer: String
        public var version: Int
        public var versionLabel: String
        /// The site's area on the layer (its 图斑 together), ellipsoidal CGCS2000.
        public var areaM2: Double
        public var byCode: [LandUseTally.Area]
        public var byClass: [LandUseTally.Area]
        /// 农用地, 建设用地 and 未利用地, every one listed.
        public var byGroup: [String: GroupArea]
        /// The 永久基本农田 in the site by the 地类 of the 图斑 it lies on (永农 on 非耕地 shows
        /// here), gross and net as `byCode`; absent without a farmland layer.
        public var farmlandByCode: [LandUseTally.Area]?
    }

    public var id: String?
    public var createdAt: String?
    public var projectCode: String?
    public var projectName: String?
    public var verdict: Verdict
    public var site: SiteSummary
    public var layers: [LayerConflict]
    public var landUse: LandUseAnswer?
    public var warnings: [String]

    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    /// The bytes `encoder()` gives, written directly (see `CheckResultJSON`).
    public func json() throws -> Data { try CheckResultJSON.encode(self) }
}

/// A piece of geometry behind a conflict, for the GeoJSON output and the report's map.
public struct ConflictPiece: Sendable {
    public enum Role: String, Sendable { case overlap, outside, corridor, feature }
    public var layer: String
    public var featureId: String?
    public var severity: Severity?
    public var role: Role
    /// Lon/lat.
    public var geometry: Geometry
    public var areaM2: Double
}

/// Everything a check produced: the result, the geometry behind it, and the layer versions
/// it read (kept with the record, so a check can be audited and rerun).
public struct CheckOutcome: Sendable {
    public var result: CheckResult
    public var site: Site
    public var pieces: [ConflictPiece]
    public var versions: [String: LayerVersionRef]
}

public struct LayerVersionRef: Codable, Sendable, Equatable {
    public var version: Int
    public var label: String
}
