import GRDB
import GeoCore
import LandUse

/// A land-use version's 图斑 summed by 坐落单位代码 (village, 12 digits), 地类编码 and deduction,
/// as the load reads them: the ledger by county, township or village then sums a few thousand
/// rows instead of reading millions of 图斑 (the 三调 summary tables count each 图斑 whole in its
/// unit, so nothing of the geometry is needed). Kept beside the version's table, made in the
/// same transaction, dropped with it.
public struct LandUseUnits {
    struct Key: Hashable {
        let unit: String
        let code: String?
        let deductCode: String?
        /// A 扣除系数 outside [0, 1) (kept by a load that reports): counted apart, not averaged in.
        let badRatio: Bool
    }
    struct Sums {
        var count = 0
        var areaM2 = 0.0
        var deductedM2 = 0.0
    }
    private(set) var sums: [Key: Sums] = [:]

    /// One 图斑: its attributes as the validation found their columns, and its ellipsoidal area.
    mutating func add(_ attributes: [AttributeValue], columns: [LandUseFields.Role: Int], areaM2: Double) {
        func text(_ role: LandUseFields.Role) -> String? { columns[role].flatMap { attributes[$0].stringValue } }
        let ratio = columns[.deductRatio].flatMap { attributes[$0].doubleValue } ?? 0
        let unit = text(.unit).map(LandCode.trimmed) ?? ""
        let key = Key(unit: unit, code: text(.code), deductCode: text(.deductCode), badRatio: !(ratio >= 0 && ratio < 1))
        sums[key, default: Sums()].count += 1
        sums[key]!.areaM2 += areaM2
        sums[key]!.deductedM2 += areaM2 * ratio
    }

    /// The table's name beside a version's feature table.
    public static func table(of featureTable: String) -> String { featureTable + "_units" }

    func write(beside featureTable: String, db: Database) throws {
        let name = FeatureTable.quote(Self.table(of: featureTable))
        try db.execute(
            sql: """
                DROP TABLE IF EXISTS \(name);
                CREATE TABLE \(name)(unit TEXT NOT NULL, code TEXT, deduct_code TEXT, bad_ratio INTEGER NOT NULL,
                    count INTEGER NOT NULL, area_m2 REAL NOT NULL, deducted_m2 REAL NOT NULL)
                """)
        let insert = try db.makeStatement(sql: "INSERT INTO \(name) VALUES (?, ?, ?, ?, ?, ?, ?)")
        for (k, s) in sums {
            try insert.execute(arguments: [k.unit, k.code, k.deductCode, k.badRatio, s.count, s.areaM2, s.deductedM2])
        }
    }
}
