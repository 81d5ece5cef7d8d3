import Foundation
import GRDB

/// A layer's definition is what the catalog says of it besides where its data comes from:
/// title, kind, id and label fields, access and rule. Every version is stored with the
/// definition it was loaded under, and a new file for a layer never changes it by accident:
/// a yearly update (年度变更) that dropped 永久基本农田's rule would let checks pass over it.

/// Who decides the definition of a new version.
public enum DefinitionAuthority: String, Sendable {
    /// The catalog entry (`onemap load`, a reload from the catalog) is the definition, so it
    /// may change it; what changed is recorded with the version and reported.
    case catalog
    /// A new file for a layer that exists (`onemap import`): the stored definition is kept,
    /// and a load that would change it is refused.
    case newSource = "import"
    /// `onemap import --redefine`: the options given replace the stored definition, recorded.
    case redefine = "import --redefine"
}

/// A new version's definition against the layer's stored one, inside the load's transaction:
/// what changed, the note recorded with the version, and what the user must be told.
package struct VersionDefinition {
    package var changes: [String] = []
    /// Stored with the version: who defined or changed the definition; nil when unchanged.
    package var note: String?
    package var warnings: [String] = []

    init(_ db: Database, spec: LayerSpec, authority: DefinitionAuthority) throws {
        // The current version's definition, read as every reader reads it.
        try self.init(stored: try Store.layers(db, name: spec.name).first?.spec, spec: spec, authority: authority)
    }

    /// `spec` against `stored`, the current version's definition (nil: a new layer).
    package init(stored: LayerSpec?, spec: LayerSpec, authority: DefinitionAuthority) throws {
        guard let stored else {
            note = "defined by \(authority == .catalog ? (spec.catalogFile ?? "the catalog") : authority.rawValue)"
            return
        }
        changes = spec.definitionChanges(from: stored)
        if !changes.isEmpty {
            let listed = changes.joined(separator: "; ")
            // `onemap import` resolved its spec against the stored definition before reading
            // the file; another load changed it meanwhile.
            guard authority != .newSource else {
                throw StoreError.conflict(
                    "layer '\(spec.name)' changed its definition while this version was read (\(listed)); run the import again")
            }
            note = "changed by \(authority.rawValue): \(listed)"
            warnings.append("the layer's definition changed (\(authority.rawValue)): \(listed)")
        }
        if authority != .catalog, let catalog = stored.catalogFile {
            warnings.append(
                "this layer is defined in \(catalog); `onemap load` and a reload read that file's source again, "
                    + "so point its `source:` at \(spec.source) to keep this version current")
        }
    }
}

extension LayerSpec {
    /// What differs between `old`'s definition and this one's, one line per item, e.g.
    /// "rule: forbidden inside → none". Where the data comes from (file, layer, CRS,
    /// encoding) is not part of the definition.
    public func definitionChanges(from old: LayerSpec) -> [String] {
        var changes: [String] = []
        func compare(_ what: String, _ a: String, _ b: String) {
            if a != b { changes.append("\(what): \(a) → \(b)") }
        }
        compare("title", old.title, title)
        compare("kind", old.kind.rawValue, kind.rawValue)
        compare("id field", old.idField ?? "(the source FID)", idField ?? "(the source FID)")
        compare("label field", old.labelField ?? "none", labelField ?? "none")
        compare("access", old.access.rawValue, access.rawValue)
        compare("rule", old.rule?.summary ?? "none", rule?.summary ?? "none")
        compare("land use fields", old.landUse?.summary ?? "none", landUse?.summary ?? "none")
        if let a = old.rule, let b = rule, a.summary == b.summary, a.message != b.message {
            changes.append("rule message: \(a.message ?? "none") → \(b.message ?? "none")")
        }
        return changes
    }
}

extension Rule {
    /// The rule in a few words, as `onemap layers` shows it: "forbidden inside",
    /// "restricted outside", "forbidden within 5 m", with the severities by field.
    public var summary: String {
        var s: String
        if let bufferM {
            s = "\(severity.rawValue) within \(bufferM.formatted()) m"
        } else {
            s = "\(severity.rawValue) \(when.rawValue)"
        }
        if let codes { s += " on 地类 " + codes.joined(separator: ", ") }
        if let byField {
            let values = byField.values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" }
            s += " (by \(byField.field): \(values.joined(separator: ", "))"
            s += byField.otherwise.map { "; otherwise \($0.rawValue))" } ?? "; no other value)"
        }
        return s
    }

    /// Why this rule cannot be applied to data with these fields and geometry dimension
    /// (0 points, 1 lines, 2 polygons), or nil when it can.
    public func problem(fields: [String], dimension: Int) -> String? {
        if let byField, !fields.contains(byField.field) {
            let near = fields.first { $0.lowercased() == byField.field.lowercased() }
            return "its by_field '\(byField.field)' is not a field of the data"
                + (near.map { " (there is '\($0)'; names are case-sensitive)" } ?? "")
                + "; the fields are: \(fields.joined(separator: ", "))"
        }
        if when == .outside && dimension != 2 {
            return "'when: outside' needs polygons, and the data has \(LayerImporter.dimensionName(dimension))"
        }
        return nil
    }
}

extension Double {
    fileprivate func formatted() -> String {
        rounded() == self && abs(self) < 1e15 ? String(Int64(self)) : String(self)
    }
}

/// `onemap import`: a file, and what the caller says of the layer it belongs to.
public struct ImportRequest: Sendable {
    public var name: String
    public var source: String
    public var sourceLayer: String?
    public var sourceCRS: String?
    public var encoding: String?
    /// Definition options; nil where not given.
    public var title: String?
    public var kind: LayerKind?
    public var idField: String?
    /// Whether the options given replace the stored definition.
    public var redefine: Bool

    public init(
        name: String, source: String, sourceLayer: String? = nil, sourceCRS: String? = nil, encoding: String? = nil,
        title: String? = nil, kind: LayerKind? = nil, idField: String? = nil, redefine: Bool = false
    ) {
        self.name = name; self.source = source; self.sourceLayer = sourceLayer; self.sourceCRS = sourceCRS
        self.encoding = encoding; self.title = title; self.kind = kind; self.idField = idField; self.redefine = redefine
    }

    public var authority: DefinitionAuthority { redefine ? .redefine : .newSource }

    /// The spec to load: for a layer that exists, its stored definition with this file (and,
    /// with `redefine`, the options given in place of the stored ones); else a new layer.
    public func spec(stored: LayerSpec?) throws -> LayerSpec {
        guard var spec = stored else {
            return LayerSpec(
                name: name, title: title ?? name, kind: kind ?? .other, source: source, sourceLayer: sourceLayer,
                sourceCRS: sourceCRS, encoding: encoding, idField: idField)
        }
        let given: [(option: String, stored: String, wanted: String?)] = [
            ("--title", spec.title, title),
            ("--kind", spec.kind.rawValue, kind?.rawValue),
            ("--id-field", spec.idField ?? "(the source FID)", idField)
        ]
        let contradicting = given.filter { $0.wanted != nil && $0.wanted != $0.stored }
        if !contradicting.isEmpty && !redefine {
            let what = contradicting.map { "\($0.option) \($0.wanted!) (the layer has \($0.stored))" }
            throw StoreError.conflict(
                "layer '\(name)' exists, and a new version keeps its definition; "
                    + what.joined(separator: ", ") + " would change it. Leave the option out, or give --redefine to replace "
                    + "the definition (recorded with the version)")
        }
        if let title { spec.title = title }
        if let kind { spec.kind = kind }
        if let idField { spec.idField = idField }
        spec.source = source
        spec.sourceLayer = sourceLayer
        spec.sourceCRS = sourceCRS
        spec.encoding = encoding
        return spec
    }
}
