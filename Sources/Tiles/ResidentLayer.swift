import Foundation
import GRDB
import GeoCore
import LayerStore

/// A large layer version held wholly in memory for tiles: every feature's box and area
/// (`FeatureSummary`, for the zooms where a parcel is a speck), its outline
/// (`FeatureShapes`) and its attributes (`FeatureAttributes`).
///
/// Why: a cold tile spent most of its time in SQLite and in decoding blobs, parcel by parcel,
/// on data that never changes (a layer version is immutable; a reload is a new version and a
/// new `ResidentLayer`). Read in one pass on first use — about two seconds and ~100 MiB for
/// 500,000 parcels — after which a tile touches no database at all. Small layers stay in SQL:
/// their tiles are quick there, and memory is kept for the layers that need it.
final class ResidentLayer: Sendable {
    let summary: FeatureSummary
    let shapes: FeatureShapes
    let attributes: FeatureAttributes

    init(db: Database, table: FeatureTable, fields: [FieldDefinition], expectedCount: Int = 0) throws {
        // Room for every feature at once: growing by doubling held two copies of each array
        // at the moment of a copy, which was the read's peak memory.
        var boxes: [(fid: Int64, box: BoundingBox, area: Double)] = []
        boxes.reserveCapacity(expectedCount)
        var shapes = FeatureShapes()
        shapes.reserve(features: expectedCount)
        var attributes = FeatureAttributes(fieldCount: fields.count)
        attributes.reserve(features: expectedCount)
        var values = [MVTValue?](repeating: nil, count: fields.count)
        let cursor = try Row.fetchCursor(db, sql: table.select(StoreLayerSource.columns))
        while let row = try cursor.next() {
            let fid: Int64 = row[0]
            guard let a: Double = row[1], let b: Double = row[2], let c: Double = row[3], let d: Double = row[4] else { continue }
            // Decoded in place from SQLite's buffer. A blob that does not decode was refused
            // at import; should one appear, the feature is left out of tiles, as before.
            guard let geometry = try? row.withUnsafeData(atIndex: 6, { blob in try blob.map { try SpatiaLiteGeometry.decode($0) } })
            else { continue }
            boxes.append((fid, BoundingBox(a, b, c, d), row[5] ?? 0))
            shapes.append(geometry, origin: Coordinate(a, b), top: d)
            for i in fields.indices { values[i] = FeatureAttributes.value(row[7 + i]) }
            attributes.append(values)
        }
        attributes.seal()
        summary = FeatureSummary(boxes)
        self.shapes = shapes
        self.attributes = attributes
    }
}
