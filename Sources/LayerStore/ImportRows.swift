import GeoCore
import VectorIO

/// A source's features as a load stores them: read, reprojected, repaired, measured and
/// validated beside the reading (`ImportPipeline`), batch by batch, with what a load reports
/// of them counted as they pass. Every backend's importer stores these rows and nothing else,
/// so a layer loaded into SpatiaLite or PostGIS has the same features, areas, repairs and
/// refusals.
package struct ImportRows {
    /// What the rows so far counted.
    package struct Counted {
        package var count = 0
        package var bbox: BoundingBox? = nil
        package var repaired = 0
        package var repairs: [String] = []
        var unmapped = LayerImporter.UnmappedValues()
        var landUse = LandUseValidation.Found()
        /// A land-use layer's 图斑 by unit and code, for the ledger.
        var units = LandUseUnits()
    }

    package let input: ImportSource
    package private(set) var counted = Counted()
    private let pipeline = ImportPipeline()

    package init(_ input: ImportSource, encoding: FeatureProcessor.Encoding) throws {
        self.input = input
        let source = input.source
        var pending = input.firstFeature
        pipeline.start(
            read: {
                if let f = pending { pending = nil; return f }
                return try source.next()
            }, processors: try input.processors(encoding: encoding))
    }

    /// The next batch of rows in source order, nil at the end. A feature the load refuses, or
    /// a source that cannot be read on, throws a `StoreError` naming the file, layer and
    /// feature; the reading has stopped then.
    package mutating func next() throws -> [FeatureProcessor.Row]? {
        do {
            guard let batch = try pipeline.next() else { return nil }
            var rows: [FeatureProcessor.Row] = []
            rows.reserveCapacity(batch.count)
            for result in batch {
                let row: FeatureProcessor.Row
                switch result {
                case .success(let r): row = r
                case .failure(let f): throw input.fail(f.feature, f.message)
                }
                count(row)
                rows.append(row)
            }
            return rows
        } catch let e as SourceError {
            pipeline.cancel()
            throw input.fail(nil, e.message)
        } catch {
            pipeline.cancel()
            throw error
        }
    }

    private mutating func count(_ row: FeatureProcessor.Row) {
        if let reason = row.repair {
            counted.repaired += 1
            if counted.repairs.count < LayerImporter.maxListedRepairs { counted.repairs.append("\(row.label): \(reason)") }
        }
        if let i = input.ruleField, let by = input.spec.rule?.byField, row.attributes[i].stringValue.flatMap({ by.values[$0] }) == nil {
            counted.unmapped.add(row.attributes[i].stringValue, at: row.label)
        }
        if let landUse = input.landUse {
            counted.landUse.add(row.landUseProblems, at: row.label)
            counted.units.add(row.attributes, columns: landUse.columns, areaM2: row.area)
        }
        if counted.bbox == nil { counted.bbox = row.box } else { counted.bbox!.extend(row.box) }
        counted.count += 1
    }

    /// Stops the reading after the caller's own error (a row its store refused).
    package func cancel() { pipeline.cancel() }

    /// The warnings of a load that read every row about its values, or its refusal: no
    /// features, values the rule does not map without an `otherwise`, 三调 rules broken with
    /// `on_error: fail`.
    package func valueWarnings() throws -> [String] {
        guard counted.count > 0 else { throw input.fail(nil, "the source has no features") }
        return try input.unmappedWarnings(counted.unmapped) + input.landUseWarnings(counted.landUse)
    }

    /// The warning of a layer that reaches outside China: its CRS is likely wrong.
    package var extentWarnings: [String] {
        guard let b = counted.bbox, b.minX < 73 || b.maxX > 135.5 || b.minY < 3 || b.maxY > 54 else { return [] }
        return ["the layer extends beyond China (bbox \(b.array)): check its CRS"]
    }

    /// Whether the layer is land use, whose 图斑 the ledger reads by unit and code.
    package var isLandUse: Bool { input.landUse != nil }

    /// "MultiPoint", "MultiLineString" or "MultiPolygon": what every row's geometry is.
    package var geometryType: String { LayerImporter.geometryTypes[input.dimension] }
}
