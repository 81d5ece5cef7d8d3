import Foundation
import GRDB
import LandUse
import LayerStore

/// The ledger of land-use layers by the 坐落单位代码 (ZLDWDM) their 图斑 carry: 12 digits, the
/// county in the first 6, the township in the next 3, the village in the last 3. It is how the
/// 三调's own summary tables count townships and villages, so it needs no township boundaries:
/// each 图斑 counts whole in its unit, its ellipsoidal area (computed at load) × (1 − KCXS)
/// under its code and the rest under its KCDLBM. The load sums the 图斑 by (village, code,
/// deduction code) (`LandUseUnits`); the ledger sums those groups to the level asked, a few
/// thousand rows rather than millions of 图斑, and a group's net area is exact (Σ area −
/// Σ area × KCXS).
struct LocationCodeLedger {
    /// Digits of ZLDWDM per level.
    static let levels: [String: Int] = ["county": 6, "township": 9, "village": 12]

    let level: String
    let digits: Int

    init?(level: String) {
        guard let digits = Self.levels[level] else { return nil }
        self.level = level
        self.digits = digits
    }

    /// `layers`: what the caller asked for (nil: every land-use layer it may see). A layer that
    /// is not land use has no 坐落单位代码 and no boundaries of this level to clip it by.
    /// `scope`: a layer the caller reads only within a scope (a restricted one, for a scoped
    /// caller) is counted only in the units that scope covers, its totals of those alone.
    func build(layers wanted: [String]?, among visible: [LoadedLayer], scope: (LoadedLayer) -> DataScope? = { _ in nil }, db: Database)
        throws -> Ledger
    {
        let layers = visible.filter { $0.spec.kind != .admin && (wanted?.contains($0.name) ?? ($0.spec.kind == .landUse)) }
        if let other = layers.first(where: { $0.spec.kind != .landUse }) {
            throw StoreError.invalidRequest(
                "by=\(level): no admin layer has \(level) boundaries, and \(other.name) is not a land-use layer, "
                    + "whose 图斑 say their \(level) by 坐落单位代码; load an admin layer with level \(level), or ask for land-use layers only")
        }
        guard !layers.isEmpty else {
            throw StoreError.invalidRequest("by=\(level): no admin layer has \(level) boundaries and no land-use layer is loaded")
        }
        let countyNames = try Self.countyNames(among: visible, db: db)
        var perLayer: [String: [String: Ledger.Figures]] = [:]
        var totals: [String: Ledger.Figures] = [:]
        for layer in layers {
            let within = scope(layer)
            (perLayer[layer.name], totals[layer.name]) = try tally(layer, db: db, keeping: { within?.covers($0) ?? true })
        }
        let codes = Set(perLayer.values.flatMap(\.keys)).sorted()
        let units = codes.map { code in
            Ledger.UnitEntry(
                code: code, name: Self.name(code, county: countyNames[String(code.prefix(6))]),
                layers: perLayer.compactMapValues { $0[code] })
        }
        return Ledger(by: level, units: units, totals: totals)
    }

    /// A unit's name: its county's (from the admin layer) and its own digits; a code that is
    /// not all digits of the right length (a load with `on_error: report`) says so.
    static func name(_ code: String, county: String?) -> String {
        guard code.count >= 6, code.allSatisfy(\.isASCIIDigit) else { return "坐落单位代码不明 (\(code.isEmpty ? "空" : code))" }
        let own = code.dropFirst(6)
        return [county ?? String(code.prefix(6)), own.isEmpty ? nil : String(own)].compactMap { $0 }.joined(separator: " ")
    }

    /// Per unit code, and in total, the layer's figures: of the units `keeping` keeps.
    func tally(_ layer: LoadedLayer, db: Database, keeping: (String) -> Bool = { _ in true }) throws -> (
        [String: Ledger.Figures], Ledger.Figures
    ) {
        let spec = layer.spec.landUse ?? LandUseFields()
        let reader = TubanReader(spec)
        let has = Set(layer.version.fields.map(\.name))
        let unitField = spec.unitField ?? LandUseFields.Role.unit.rawValue
        guard has.contains(unitField) else {
            throw StoreError.invalidRequest("by=\(level): \(layer.name) has no \(unitField) (坐落单位代码) field to count \(level)s by")
        }
        let q = FeatureTable.quote
        let table = FeatureTable(layer.version)
        let units = LandUseUnits.table(of: table.name)
        let sql: String
        if try db.tableExists(units) {
            // The sums by village the load made: a few thousand rows.
            sql = """
                SELECT substr(unit, 1, \(digits)), code, deduct_code, bad_ratio, sum(count), sum(area_m2), sum(deducted_m2)
                FROM \(q(units)) GROUP BY 1, 2, 3, 4
                """
        } else {
            // A version loaded before the load kept them: every 图斑, summed by SQLite. A ratio
            // outside [0, 1) (kept by a load that reports rather than fails) is its own group,
            // counted as unclassified rather than averaged into its neighbours'.
            let area = table.columns([.areaM2])
            let ratio = has.contains(reader.ratioField) ? "coalesce(\(q(reader.ratioField)), 0)" : "0"
            let deductCode = has.contains(reader.deductCodeField) ? q(reader.deductCodeField) : "NULL"
            sql = """
                SELECT substr(trim(CAST(\(q(unitField)) AS TEXT)), 1, \(digits)), \(q(reader.codeField)), \(deductCode),
                       (\(ratio) < 0 OR \(ratio) >= 1), count(*), sum(\(area)), sum(\(area) * \(ratio))
                FROM \(q(table.name)) GROUP BY 1, 2, 3, 4
                """
        }
        var pieces: [String: [LandUseTally.Piece]] = [:]
        var figures: [String: Ledger.Figures] = [:]
        var total = Ledger.Figures()
        total.byDLBM = [:]
        var allPieces: [LandUseTally.Piece] = []
        let rows = try Row.fetchCursor(db, sql: sql)
        while let row = try rows.next() {
            let unit = (row[0] as String?) ?? ""
            guard keeping(unit) else { continue }
            let code = (row[1] as DatabaseValue).storage.value.map { "\($0)" }
            let deduct = (row[2] as DatabaseValue).storage.value.map { "\($0)" }
            let badRatio: Bool = row[3] ?? false
            let count: Int = row[4]
            let gross: Double = row[5] ?? 0, deducted: Double = row[6] ?? 0
            var f = figures[unit] ?? Ledger.Figures()
            if f.byDLBM == nil { f.byDLBM = [:] }
            f.count += count
            f.areaM2 += gross
            let shownCode = code.map(LandCode.trimmed) ?? ""
            f.byDLBM![shownCode, default: Ledger.Figures()].count += count
            f.byDLBM![shownCode, default: Ledger.Figures()].areaM2 += gross
            total.count += count
            total.areaM2 += gross
            total.byDLBM![shownCode, default: Ledger.Figures()].count += count
            total.byDLBM![shownCode, default: Ledger.Figures()].areaM2 += gross
            let piece =
                badRatio
                ? nil : try? reader.piece(code: code, ratio: gross > 0 ? deducted / gross : 0, deductCode: deduct, grossM2: gross).get()
            if let piece {
                pieces[unit, default: []].append(piece)
                allPieces.append(piece)
            } else {
                f.unclassifiedM2 = (f.unclassifiedM2 ?? 0) + gross
                total.unclassifiedM2 = (total.unclassifiedM2 ?? 0) + gross
            }
            figures[unit] = f
        }
        let tally = LandUseTally(classification: reader.classification)
        for unit in figures.keys {
            figures[unit]!.landUse = try tally.summary(pieces[unit] ?? [])
            if figures[unit]!.unclassifiedM2 == nil { figures[unit]!.unclassifiedM2 = 0 }
            figures[unit]!.finish()
        }
        total.landUse = try tally.summary(allPieces)
        if total.unclassifiedM2 == nil { total.unclassifiedM2 = 0 }
        total.finish()
        return (figures, total)
    }

    /// County names by their 6-digit code (行政区代码), from the admin layers the caller may see.
    static func countyNames(among visible: [LoadedLayer], db: Database) throws -> [String: String] {
        var names: [String: String] = [:]
        for admin in visible where admin.spec.kind == .admin {
            let table = FeatureTable(admin.version)
            // Its label field, or the 行政区名称 under its usual name.
            let labelField = admin.spec.labelField ?? (admin.version.fields.contains { $0.name == "XZQMC" } ? "XZQMC" : nil)
            let label = labelField.map { FeatureTable.Column.field($0) } ?? .id
            for row in try Row.fetchAll(db, sql: table.select([.id, label])) {
                guard let code = row[0] as String?, code.count == 6, let name = (row[1] as DatabaseValue).storage.value else { continue }
                names[code] = names[code] ?? "\(name)"
            }
        }
        return names
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
