import Foundation
import GeoCore
import LandUse
import Yams

/// A problem in a catalog file, naming the file, the line and the key.
public struct CatalogError: Error, CustomStringConvertible {
    public let file: String
    public let line: Int?
    public let key: String?
    public let message: String

    public init(file: String, line: Int?, key: String?, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    /// A configuration file's text; one that cannot be read as UTF-8 is an error naming it.
    public static func text(of file: String) throws -> String {
        do {
            return try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw CatalogError(file: file, line: nil, key: nil, message: "cannot read as UTF-8 text: \(error.localizedDescription)")
        }
    }

    public var description: String {
        var s = file
        if let line { s += ":\(line)" }
        if let key { s += ": key '\(key)'" }
        return s + ": " + message
    }
}

/// The layer catalog: the `Layers/` folder, one YAML file per layer.
public struct Catalog {
    public var layers: [LayerSpec]

    /// Reads every `*.yaml`/`*.yml` in `directory`, in name order.
    public static func load(directory: String) throws -> Catalog {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else {
            throw CatalogError(file: directory, line: nil, key: nil, message: "no such catalog folder")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .sorted()
        var specs: [LayerSpec] = []
        var seen: [String: String] = [:]
        for f in files {
            let path = (directory as NSString).appendingPathComponent(f)
            let spec = try parse(file: path)
            if let other = seen[spec.name] {
                throw CatalogError(file: path, line: nil, key: "name", message: "layer '\(spec.name)' is already defined in \(other)")
            }
            seen[spec.name] = path
            specs.append(spec)
        }
        return Catalog(layers: specs)
    }

    public static func parse(file: String) throws -> LayerSpec {
        try parse(yaml: try CatalogError.text(of: file), file: file)
    }

    public static func parse(yaml: String, file: String) throws -> LayerSpec {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw CatalogError(file: file, line: nil, key: nil, message: "not valid YAML: \(error)")
        }
        guard let root, let map = root.mapping else {
            throw CatalogError(file: file, line: root?.mark?.line, key: nil, message: "expected a mapping of keys to values")
        }
        // Sources resolve against the YAML file's folder, made absolute so the stored path
        // means the same thing whichever folder the server later runs from.
        let absolute = file.hasPrefix("/") ? file : FileManager.default.currentDirectoryPath + "/" + file
        var p = SpecParser(file: file, baseDirectory: (absolute as NSString).deletingLastPathComponent)
        return try p.layer(map)
    }
}

private struct SpecParser {
    let file: String
    let baseDirectory: String

    static let layerKeys = [
        "name", "title", "kind", "source", "source_layer", "source_crs", "encoding",
        "id_field", "label_field", "access", "rule", "land_use"
    ]
    static let ruleKeys = ["severity", "when", "buffer_m", "message", "by_field", "codes"]
    static let byFieldKeys = ["field", "values", "otherwise"]

    func error(_ node: Node?, _ key: String?, _ message: String) -> CatalogError {
        CatalogError(file: file, line: node?.mark?.line, key: key, message: message)
    }

    /// The mapping as a dictionary, rejecting unknown and repeated keys.
    func entries(_ map: Node.Mapping, allowed: [String], path: String) throws -> [String: (Node, Node)] {
        var out: [String: (Node, Node)] = [:]
        for (k, v) in map {
            guard let key = k.string else { throw error(k, nil, "keys must be strings") }
            let full = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                throw error(k, full, "unknown key; expected one of: \(allowed.joined(separator: ", "))")
            }
            guard out[key] == nil else { throw error(k, full, "given twice") }
            out[key] = (k, v)
        }
        return out
    }

    func string(_ e: [String: (Node, Node)], _ key: String, path: String = "", required: Bool = false) throws -> String? {
        let full = path.isEmpty ? key : "\(path).\(key)"
        guard let (k, v) = e[key] else {
            if required { throw error(nil, full, "is required") }
            return nil
        }
        guard let s = v.scalar?.string, !s.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw error(k, full, "must be a non-empty text value")
        }
        return s
    }

    func choice<T: RawRepresentable & CaseIterable>(
        _ e: [String: (Node, Node)], _ key: String, path: String = "",
        required: Bool = false
    ) throws -> T? where T.RawValue == String {
        guard let s = try string(e, key, path: path, required: required) else { return nil }
        guard let v = T(rawValue: s) else {
            let full = path.isEmpty ? key : "\(path).\(key)"
            throw error(e[key]?.0, full, "'\(s)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return v
    }

    mutating func layer(_ map: Node.Mapping) throws -> LayerSpec {
        let e = try entries(map, allowed: Self.layerKeys, path: "")
        let name = try string(e, "name", required: true)!
        guard LayerName.isValid(name) else {
            throw error(e["name"]?.0, "name", "'\(name)' must match \(LayerName.pattern)")
        }
        let title = try string(e, "title", required: true)!
        let kind: LayerKind = try choice(e, "kind", required: true)!
        var source = try string(e, "source", required: true)!
        if !source.hasPrefix("/") { source = (baseDirectory as NSString).appendingPathComponent(source) }
        source = (source as NSString).standardizingPath
        let sourceCRS = try string(e, "source_crs")
        if let sourceCRS {
            do { try CoordinateTransform.validate(crs: sourceCRS) } catch {
                throw self.error(e["source_crs"]?.0, "source_crs", "\(error)")
            }
        }
        let encoding = try string(e, "encoding")
        let access: Access = try choice(e, "access") ?? .public
        var rule: Rule? = nil
        if let (k, v) = e["rule"] {
            guard let m = v.mapping else { throw error(k, "rule", "must be a mapping") }
            rule = try self.rule(m, kind: kind)
        }
        if kind == .landUse, let r = rule, r.codes == nil {
            throw error(
                e["rule"]?.0, "rule.codes",
                "a land-use layer's rule must name the 地类 that conflict (e.g. codes: [\"01*\"] for 占用耕地): every site lies on some 图斑")
        }
        var landUse: LandUseFields? = nil
        if let (k, v) = e["land_use"] {
            guard kind == .landUse else { throw error(k, "land_use", "is for layers of kind land_use, and this one is \(kind.rawValue)") }
            guard let m = v.mapping else { throw error(k, "land_use", "must be a mapping of field roles to field names") }
            landUse = try self.landUse(m)
        } else if kind == .landUse {
            landUse = LandUseFields()
        }
        return LayerSpec(
            name: name, title: title, kind: kind, source: source,
            sourceLayer: try string(e, "source_layer"), sourceCRS: sourceCRS, encoding: encoding,
            idField: try string(e, "id_field"), labelField: try string(e, "label_field"),
            access: access, rule: rule, landUse: landUse, catalogFile: file)
    }

    /// `land_use: {code_field: DLBM, …, on_error: fail|report}`: any field role left out is its
    /// 三调 name.
    func landUse(_ map: Node.Mapping) throws -> LandUseFields {
        let roles = LandUseFields.Role.allCases
        let e = try entries(map, allowed: roles.map(\.catalogKey) + ["on_error"], path: "land_use")
        var fields = LandUseFields(onError: try choice(e, "on_error", path: "land_use") ?? .fail)
        for role in roles {
            if let name = try string(e, role.catalogKey, path: "land_use") { fields.set(role, name) }
        }
        return fields
    }

    func rule(_ map: Node.Mapping, kind: LayerKind) throws -> Rule {
        let e = try entries(map, allowed: Self.ruleKeys, path: "rule")
        let severity: Severity = try choice(e, "severity", path: "rule", required: true)!
        let when: Rule.When = try choice(e, "when", path: "rule") ?? .inside
        var buffer: Double? = nil
        if let (k, v) = e["buffer_m"] {
            guard let d = v.float, d.isFinite, d >= 0 else { throw error(k, "rule.buffer_m", "must be a number of metres, 0 or more") }
            buffer = d
        }
        var byField: Rule.ByField? = nil
        if let (k, v) = e["by_field"] {
            guard let m = v.mapping else { throw error(k, "rule.by_field", "must be a mapping with 'field' and 'values'") }
            let be = try entries(m, allowed: Self.byFieldKeys, path: "rule.by_field")
            let field = try string(be, "field", path: "rule.by_field", required: true)!
            guard let (vk, vv) = be["values"], let vm = vv.mapping, !vm.isEmpty else {
                throw error(be["values"]?.0 ?? k, "rule.by_field.values", "must be a non-empty mapping of field value to severity")
            }
            var values: [String: Severity] = [:]
            for (fk, fv) in vm {
                guard let fs = fk.string else { throw error(fk, "rule.by_field.values", "keys must be text") }
                guard let sv = fv.string, let sev = Severity(rawValue: sv) else {
                    throw error(
                        fv, "rule.by_field.values.\(fs)",
                        "'\(fv.string ?? "?")' is not one of: \(Severity.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                values[fs] = sev
            }
            _ = vk
            let otherwise: Severity? = try choice(be, "otherwise", path: "rule.by_field")
            byField = Rule.ByField(field: field, values: values, otherwise: otherwise)
        }
        var codes: [String]? = nil
        if let (k, v) = e["codes"] {
            guard kind == .landUse else {
                throw error(k, "rule.codes", "names 地类, for layers of kind land_use; this one is \(kind.rawValue)")
            }
            guard let items = v.sequence, !items.isEmpty else {
                throw error(k, "rule.codes", "must be a list of 地类编码 or prefixes with *, e.g. [\"01*\", \"1104\"]")
            }
            codes = try items.map { item in
                guard let pattern = item.string, !pattern.isEmpty else { throw error(item, "rule.codes", "each item must be a code") }
                guard !LandClassification.standard.codes(matching: pattern).isEmpty else {
                    throw error(item, "rule.codes", "'\(pattern)' names no 地类编码 of the 三调 classification")
                }
                return pattern
            }
        }
        return Rule(
            severity: severity, when: when, bufferM: buffer, message: try string(e, "message", path: "rule"), byField: byField, codes: codes
        )
    }
}
