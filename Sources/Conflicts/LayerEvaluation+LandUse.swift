import GeoCore
import LandUse
import LayerStore

/// The land-use layer measured against the site: each 图斑's part of it, by its 地类编码 and
/// deduction, summed as `LandUseTally` does. The overlaps are found as any polygon layer's are
/// (a 图斑 wholly inside counts its stored area; one on the edge is summed or clipped).
extension LayerEvaluation {
    func landUse() throws -> (answer: CheckResult.LandUseAnswer, warnings: [String]) {
        // Most sites of a city lie outside a county's or a window's 图斑: answered at once,
        // without a search or a tally (0.012 ms of a medium site's 0.15 ms check otherwise).
        guard let extent = plan.layer.version.bbox, extent.intersects(context.site.bbox) else {
            return (empty, [uncovered(0)])
        }
        let reader = TubanReader(plan.layer.spec.landUse)
        var pieces: [LandUseTally.Piece] = []
        // A version loaded with `on_error: report` may hold codes the table does not know:
        // their area is left out of the figures and said, not guessed.
        var unknown: [String: Double] = [:]
        try forEachCandidate { found in
            guard let o = try overlap(found) else { return }
            switch reader.piece(o.candidate.properties, grossM2: o.area) {
            case .success(let piece): pieces.append(piece)
            case .failure(let code): unknown[code.code.isEmpty ? "(none)" : code.code, default: 0] += o.area
            }
        }
        guard !pieces.isEmpty || !unknown.isEmpty else { return (empty, [uncovered(0)]) }
        let s = try LandUseTally(classification: reader.classification).summary(pieces)
        let answer = CheckResult.LandUseAnswer(
            layer: plan.name, version: plan.versionRef.version, versionLabel: plan.versionRef.label, areaM2: s.areaM2,
            byCode: s.byCode, byClass: s.byClass, byGroup: s.byGroup.mapValues { .init(netM2: $0) })
        let covered = s.areaM2 + unknown.values.reduce(0, +)
        var warnings = covered < context.site.areaM2 * (1 - 1e-6) - 0.01 ? [uncovered(covered)] : []
        warnings += unknown.keys.sorted().map { code in
            "land use: 图斑 coded '\(code)' (not a 三调 地类编码, or with a deduction that is not) cover "
                + "\(String(format: "%.2f", unknown[code]!)) m² of the site, left out of the 地类 figures"
        }
        return (answer, warnings)
    }

    /// The farmland in the site by the 地类 under it: each 图斑's part of the site overlaid with
    /// the farmland parcels there (GEOS, exact), tallied as the land use is. Only for sites the
    /// land-use layer reaches, and a site seldom holds more than a few hundred of either.
    func farmlandByCode(_ farmland: LayerEvaluation) throws -> [LandUseTally.Area] {
        var parcels: [(box: BoundingBox, geometry: EngineGeometry)] = []
        try farmland.forEachCandidate { found in
            parcels.append((found.box, try engine.make(try found.geometry())))
        }
        guard !parcels.isEmpty else { return [] }
        let reader = TubanReader(plan.layer.spec.landUse)
        let site = try context.geometry()
        var pieces: [LandUseTally.Piece] = []
        try forEachCandidate { found in
            guard parcels.contains(where: { $0.box.intersects(found.box) }) else { return }
            let attributes = reader.fieldNames.reduce(into: [String: AttributeValue]()) { $0[$1] = found.attribute($1) }
            let part = try site.intersection(try engine.make(try found.geometry()))
            for parcel in parcels where parcel.box.intersects(found.box) {
                let shared = try part.intersection(parcel.geometry).value().parts(ofDimension: 2)
                guard !shared.isEmpty else { continue }
                let area = context.area(of: shared)
                guard area > ConflictChecker.minimumOverlapM2,
                    case .success(let piece) = reader.piece(attributes, grossM2: area)
                else { continue }
                pieces.append(piece)
            }
        }
        return try LandUseTally(classification: reader.classification).summary(pieces).byCode
    }

    /// The answer for a site the layer's 图斑 do not reach.
    var empty: CheckResult.LandUseAnswer {
        CheckResult.LandUseAnswer(
            layer: plan.name, version: plan.versionRef.version, versionLabel: plan.versionRef.label, areaM2: 0, byCode: [],
            byClass: [], byGroup: Self.noGroups)
    }
    static let noGroups = Dictionary(
        uniqueKeysWithValues: LandGroup.allCases.map { ($0.rawValue, CheckResult.LandUseAnswer.GroupArea(netM2: 0)) })

    /// Said when the layer does not cover the whole site: its 地类 figures are then not the site's.
    func uncovered(_ covered: Double) -> String {
        // To the centimetre by rounding, not String(format:): that was half of this layer's
        // cost in a check of a site outside it.
        func m2(_ x: Double) -> String { "\((x * 100).rounded() / 100)" }
        return "land use: the layer '\(plan.name)' covers \(m2(covered)) m² of the site's \(m2(context.site.areaM2)) m²; "
            + "the 地类 of the rest is not known here"
    }
}

/// How a 图斑's 三调 attributes are read into a tally's piece: the layer's field names, and the
/// rules a piece must keep (a known code and deduction code, a ratio in [0, 1)).
struct TubanReader {
    let codeField: String
    let ratioField: String
    let deductCodeField: String
    let classification = LandClassification.standard

    init(_ fields: LandUseFields?) {
        let fields = fields ?? LandUseFields()
        codeField = fields.codeField ?? LandUseFields.Role.code.rawValue
        ratioField = fields.deductRatioField ?? LandUseFields.Role.deductRatio.rawValue
        deductCodeField = fields.deductCodeField ?? LandUseFields.Role.deductCode.rawValue
    }

    var fieldNames: [String] { [codeField, ratioField, deductCodeField] }

    struct Unreadable: Error { let code: String }

    /// The piece, or the (trimmed) code of a 图斑 the classification cannot count.
    func piece(_ attributes: [String: AttributeValue], grossM2: Double) -> Result<LandUseTally.Piece, Unreadable> {
        piece(
            code: attributes[codeField]?.stringValue, ratio: attributes[ratioField]?.doubleValue ?? 0,
            deductCode: attributes[deductCodeField]?.stringValue, grossM2: grossM2)
    }

    /// The same from the values themselves (the ledger reads them as columns, not as a feature's properties).
    func piece(code: String?, ratio: Double, deductCode: String?, grossM2: Double) -> Result<LandUseTally.Piece, Unreadable> {
        let code = code?.trimmingCharacters(in: .whitespaces) ?? ""
        let deductCode = deductCode?.trimmingCharacters(in: .whitespaces)
        let deductKnown =
            ratio <= 0 || classification.code(deductCode.flatMap { $0.isEmpty ? nil : $0 } ?? LandUseTally.usualDeductCode) != nil
        guard classification.code(code) != nil, deductKnown, ratio >= 0, ratio < 1 else { return .failure(Unreadable(code: code)) }
        return .success(.init(code: code, deductCode: deductCode, deductRatio: ratio, grossM2: grossM2))
    }
}
