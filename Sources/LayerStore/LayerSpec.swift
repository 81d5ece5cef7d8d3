/// One layer of the catalog (a `Layers/*.yaml` file): where its data comes from,
/// how to read it, who may see it, and the rule the conflict check applies.
public struct LayerSpec: Codable, Hashable, Sendable {
    public var name: String
    public var title: String
    public var kind: LayerKind
    /// Absolute path (resolved against the YAML file's folder).
    public var source: String
    public var sourceLayer: String?
    /// Overrides the CRS the source declares, e.g. "EPSG:4528".
    public var sourceCRS: String?
    /// Attribute encoding for sources that do not declare one, e.g. "GBK".
    public var encoding: String?
    /// The stable feature id; nil means the source FID.
    public var idField: String?
    /// For admin layers: the field naming each unit (e.g. XZQMC).
    public var labelField: String?
    public var access: Access
    public var rule: Rule?
    /// For `kind: land_use`: its 三调 field names and what a load does with bad features.
    public var landUse: LandUseFields?
    /// The YAML file this came from, for error messages; nil for ad-hoc imports.
    public var catalogFile: String?

    public init(
        name: String, title: String, kind: LayerKind, source: String, sourceLayer: String? = nil,
        sourceCRS: String? = nil, encoding: String? = nil, idField: String? = nil,
        labelField: String? = nil, access: Access = .public, rule: Rule? = nil, landUse: LandUseFields? = nil,
        catalogFile: String? = nil
    ) {
        self.name = name; self.title = title; self.kind = kind; self.source = source
        self.sourceLayer = sourceLayer; self.sourceCRS = sourceCRS; self.encoding = encoding
        self.idField = idField; self.labelField = labelField; self.access = access
        self.rule = rule; self.landUse = landUse; self.catalogFile = catalogFile
    }
}

public enum LayerKind: String, Codable, CaseIterable, Sendable {
    case ecologicalRedline = "ecological_redline"
    case farmland
    case urbanBoundary = "urban_boundary"
    case protectedArea = "protected_area"
    case waterSource = "water_source"
    case pipeline
    case admin
    /// 三调 地类图斑: wall-to-wall land-use survey polygons, each with its 地类编码.
    case landUse = "land_use"
    case other
}

public enum Access: String, Codable, CaseIterable, Sendable {
    case `public`
    case restricted
}

/// Ordered so that the verdict of a check is the maximum severity found.
public enum Severity: String, Codable, CaseIterable, Comparable, Sendable {
    case notice
    case restricted
    case forbidden

    private var rank: Int { Severity.allCases.firstIndex(of: self)! }
    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
}

public struct Rule: Codable, Hashable, Sendable {
    public enum When: String, Codable, CaseIterable, Sendable {
        /// Overlap with the layer is the conflict (red line, farmland).
        case inside
        /// The part of the site outside the layer is the conflict (urban boundary).
        case outside
    }

    /// The severity depends on an attribute, e.g. GNFQ 核心区 → forbidden.
    public struct ByField: Codable, Hashable, Sendable {
        public var field: String
        public var values: [String: Severity]
        /// The severity of a feature whose value `values` does not name (or which has none).
        /// Without it, a version holding such a value is refused at load: a new zoning name
        /// (核心保护区 for 核心区) must not quietly fall back to the layer's milder severity.
        public var otherwise: Severity?
        public init(field: String, values: [String: Severity], otherwise: Severity? = nil) {
            self.field = field; self.values = values; self.otherwise = otherwise
        }

        /// The severity of a feature with this value of `field`.
        public func severity(of value: String?) -> Severity? {
            value.flatMap { values[$0] } ?? otherwise
        }
    }

    public var severity: Severity
    public var when: When
    /// For line and point layers: a feature within this distance of the site conflicts.
    public var bufferM: Double?
    public var message: String?
    public var byField: ByField?
    /// For a land-use layer: the 地类 that conflict ("0101", or "01*" for every 耕地 code);
    /// 图斑 of other codes are not part of the rule.
    public var codes: [String]?

    public init(
        severity: Severity, when: When = .inside, bufferM: Double? = nil, message: String? = nil, byField: ByField? = nil,
        codes: [String]? = nil
    ) {
        self.severity = severity; self.when = when; self.bufferM = bufferM; self.message = message; self.byField = byField
        self.codes = codes
    }
}
