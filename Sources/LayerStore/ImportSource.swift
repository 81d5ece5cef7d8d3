import Foundation
import GeoCore
import VectorIO

/// A source opened for a load and checked against its layer's spec: everything a load works
/// out before it writes anything, so a source that cannot be loaded fails with nothing begun.
package struct ImportSource {
    package let spec: LayerSpec
    package let source: VectorSource
    /// The CRS of the source's coordinates: the spec's, else the one the source declares.
    package let crs: String
    /// Where the spec's id field is among the source's fields; nil without one.
    let idIndex: Int?
    /// Where the rule's `by_field` is among the source's fields; nil without one.
    let ruleField: Int?
    /// For a land-use layer: the 三调 rules its features are checked against.
    let landUse: LandUseValidation?
    /// Read already, to fix the dimension of a source that does not declare one: a load
    /// starts with it.
    let firstFeature: SourceFeature?
    /// 0, 1 or 2: the layer holds points, lines or polygons.
    package let dimension: Int

    /// Why a load of `spec` fails, naming its source, its layer and the feature at fault.
    static func failure(_ spec: LayerSpec, _ feature: String?, _ message: String) -> StoreError {
        .importFailed(file: spec.source, layer: spec.name, feature: feature, message: message)
    }

    package func fail(_ feature: String?, _ message: String) -> StoreError {
        Self.failure(spec, feature, message)
    }

    /// A second feature with an id already loaded (`fid`: the first's source FID, if known).
    package func duplicateID(_ row: FeatureProcessor.Row, firstAt fid: Int64?) -> StoreError {
        fail(row.label, "duplicate id '\(row.id)' in field '\(spec.idField ?? "FID")'" + (fid.map { ", first seen at FID \($0)" } ?? ""))
    }

    /// Opens `spec`'s source, and refuses it when it has no geometry or CRS, lacks the id
    /// field, uses a reserved or repeated field name, or holds data the rule cannot apply to.
    package static func open(_ spec: LayerSpec) throws -> ImportSource {
        let file = spec.source
        func fail(_ feature: String?, _ message: String) -> StoreError { failure(spec, feature, message) }

        let source: VectorSource
        do {
            source = try VectorSource(path: file, layer: spec.sourceLayer, encoding: spec.encoding)
        } catch let e as SourceError {
            throw fail(nil, e.message)
        }
        guard source.hasGeometry else {
            throw fail(nil, "source layer '\(source.layerName)' has no geometry")
        }
        guard let crs = spec.sourceCRS ?? source.declaredCRS else {
            throw fail(nil, "the source declares no CRS; set source_crs (e.g. EPSG:4528) in the catalog or --source-crs")
        }
        do {
            try CoordinateTransform.validate(crs: crs)
        } catch {
            throw fail(nil, "\(error)")
        }

        var idIndex: Int? = nil
        if let idField = spec.idField {
            guard let i = source.fields.firstIndex(where: { $0.name == idField }) else {
                throw fail(
                    nil, "id field '\(idField)' is not in the source; its fields are: \(source.fields.map(\.name).joined(separator: ", "))")
            }
            idIndex = i
        }
        var seenColumns: Set<String> = []
        for f in source.fields {
            let folded = f.name.lowercased()
            guard !LayerImporter.reservedColumns.contains(folded) else { throw fail(nil, "field '\(f.name)' uses a name OneMap reserves") }
            guard seenColumns.insert(folded).inserted else {
                throw fail(nil, "field '\(f.name)' appears twice (names are case-insensitive)")
            }
        }
        let ruleField = spec.rule?.byField.flatMap { by in source.fields.firstIndex { $0.name == by.field } }
        var landUse: LandUseValidation? = nil
        if spec.kind == .landUse {
            do {
                landUse = try LandUseValidation(fields: spec.landUse ?? LandUseFields(), sourceFields: source.fields.map(\.name))
            } catch let e as LandUseValidation.LandUseFieldMissing {
                throw fail(nil, e.message)
            }
        }
        // The first feature fixes the dimension when the source does not declare one (GeoJSON).
        var firstFeature: SourceFeature? = nil
        var dimension = LayerImporter.dimension(ofOGRType: source.geometryTypeName)
        do {
            firstFeature = try source.next()
        } catch let e as SourceError { throw fail(nil, e.message) }
        if dimension == nil, var g = firstFeature?.geometry {
            if spec.sourceCRS ?? source.declaredCRS != LayerImporter.storageCRS,
                let t = try? CoordinateTransform(from: crs, to: LayerImporter.storageCRS)
            {
                g = (try? t.transform(g)) ?? g
            }
            dimension = g.dimension
        }
        let dim = dimension ?? 2
        if spec.kind == .landUse && dim != 2 {
            throw fail(nil, "a land_use layer holds 图斑 polygons, and this source has \(LayerImporter.dimensionName(dim))")
        }
        if let problem = spec.rule?.problem(fields: source.fields.map(\.name), dimension: dim) {
            throw fail(nil, "the layer's rule cannot be applied to this data: \(problem)")
        }
        return ImportSource(
            spec: spec, source: source, crs: crs, idIndex: idIndex, ruleField: ruleField, landUse: landUse,
            firstFeature: firstFeature, dimension: dim)
    }

    /// A feature processor for each worker: up to four, one per core.
    func processors(encoding: FeatureProcessor.Encoding) throws -> [FeatureProcessor] {
        let workers = max(1, min(4, ProcessInfo.processInfo.activeProcessorCount))
        do {
            return try (0..<workers).map { _ in
                try FeatureProcessor(
                    crs: crs, idIndex: idIndex, idField: spec.idField, dimension: dimension, landUse: landUse, encoding: encoding)
            }
        } catch {
            throw fail(nil, "\(error)")
        }
    }

    /// For a land-use layer, the features that break the 三调 rules: the load fails naming them
    /// (`on_error: fail`), or goes on with them listed (`report`).
    func landUseWarnings(_ found: LandUseValidation.Found) throws -> [String] {
        guard let rules = landUse, found.features > 0 else { return [] }
        switch rules.fields.onError {
        case .fail:
            throw fail(nil, found.summary + ". Correct the data, or set land_use.on_error: report in the catalog to load it as it is")
        case .report:
            return [found.summary + " (loaded as they are: land_use.on_error is report)"]
        }
    }

    /// The warning for features whose `by_field` value the rule does not map, checked as its
    /// `otherwise`; without an `otherwise`, such features fail the load.
    func unmappedWarnings(_ unmapped: LayerImporter.UnmappedValues) throws -> [String] {
        guard let by = spec.rule?.byField, !unmapped.isEmpty else { return [] }
        let what = "\(unmapped.count) features have a \(by.field) value the rule does not map: \(unmapped.summary)"
        guard let otherwise = by.otherwise else {
            throw fail(nil, what + ". Add the values to rule.by_field.values in the catalog, or set rule.by_field.otherwise")
        }
        return [what + "; they are checked as \(otherwise.rawValue) (rule.by_field.otherwise)"]
    }
}
