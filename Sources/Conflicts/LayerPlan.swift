import GRDB
import GeoCore
import LandUse
import LayerStore

/// A layer's rule, held by reference: each layer's evaluation in every check reads it, and
/// a struct (its message, field name and table of values) would be copied into each.
final class LayerRule: Sendable {
    let severity: Severity
    let when: Rule.When
    let bufferM: Double?
    let byField: Rule.ByField?

    init(_ rule: Rule) {
        severity = rule.severity
        when = rule.when
        bufferM = rule.bufferM
        byField = rule.byField
    }

    /// What a layer checked without a rule of its own is measured with: the land-use layer,
    /// whose overlaps are areas per 地类, not conflicts.
    static let measuring = LayerRule(Rule(severity: .notice, when: .inside))
}

/// What a check needs to know about a layer, worked out once per layer version.
final class LayerPlan: Sendable {
    let layer: LoadedLayer
    /// Copied out of `layer` once: reading them through it copies the whole spec and version
    /// (a few dozen references) in every check.
    let name: String
    let title: String
    let rule: LayerRule?
    let isPolygonal: Bool
    let fields: LayerFields
    let versionRef: LayerVersionRef
    /// Why the rule cannot be applied to this version, if it cannot; checks then fail.
    let unevaluable: String?
    /// Candidates by bounding box through the R*Tree, with all their attributes: one query
    /// per layer instead of one more per conflicting feature (the attributes are read from
    /// the row only for features that conflict).
    ///
    /// The query does not test the site's edges against the R*Tree's boxes to skip the row
    /// lookups of boxes in the corners of the site's box (a quarter of the candidates): the
    /// expressions on every R*Tree row and their 20 more arguments cost what the lookups
    /// save, as the rows of neighbouring parcels share pages (measured).
    let candidatesSQL: String
    /// For a land-use layer whose rule names 地类: the field holding the code, and the codes
    /// the rule's patterns name. Other 图斑 are not candidates of the rule.
    let ruledCodes: (field: String, codes: Set<String>)?
    /// Every feature with its box, for small layers; nil for large ones (read through SQL).
    let resident: [LayerEvaluation.Candidate]?
    /// The resident features' boxes in a packed R-tree, when there are enough that scanning
    /// them all would weigh on every check: the sample's land-use layer (7,483 图斑) scanned
    /// box by box cost a small site 0.02 ms, a third of its check.
    let residentIndex: BoxIndex?
    static let residentScanLimit = 256
    /// A large layer's boxes, when the checker keeps them; else its R*Tree is searched.
    let boxes: LayerBoxes?

    init(_ layer: LoadedLayer, db: Database, residentLimit: Int, boxesInMemory: Bool, rowMemory: RowMemory? = nil) throws {
        self.layer = layer
        name = layer.name
        title = layer.spec.title
        rule = layer.spec.rule.map(LayerRule.init)
        if let patterns = layer.spec.rule?.codes {
            let codes = Set(patterns.flatMap { LandClassification.standard.codes(matching: $0).map(\.code) })
            ruledCodes = (layer.spec.landUse?.codeField ?? LandUseFields.Role.code.rawValue, codes)
        } else {
            ruledCodes = nil
        }
        let table = FeatureTable(layer.version)
        isPolygonal = layer.version.geometryType.contains("Polygon")
        fields = LayerFields(names: layer.version.fields.map { $0.name })
        versionRef = LayerVersionRef(version: layer.version.number, label: layer.version.label)
        unevaluable = layer.spec.rule?.problem(fields: fields.names, dimension: layer.version.dimension)
        candidatesSQL = table.inBox(CandidateRow.columns)
        // Searched in every check: the ruled layers, and the land-use layer, which each check
        // measures for its 地类 areas.
        let searched = layer.spec.rule != nil || layer.spec.kind == .landUse
        if searched && layer.version.count <= residentLimit {
            var resident: [LayerEvaluation.Candidate] = []
            let fields = self.fields
            try StatementRows(db.makeStatement(sql: table.select(CandidateRow.columns))).forEach { s in
                let found = LayerEvaluation.Found(row: CandidateRow(statement: s, fields: fields))
                resident.append(try found.kept(decoded: try found.geometry()))
            }
            self.resident = resident
            residentIndex = resident.count > Self.residentScanLimit ? BoxIndex(resident.map(\.box)) : nil
            boxes = nil
        } else {
            resident = nil
            residentIndex = nil
            boxes = searched && boxesInMemory ? try LayerBoxes(table: table, fields: fields, db: db, rowMemory: rowMemory) : nil
        }
    }
}
