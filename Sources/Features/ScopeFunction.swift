import GRDB
import LayerStore

/// Installs `om_in_scope(fid)` on the reading connection for the length of one query: 1
/// for a feature of the caller's scope cut, 0 for any other. The cut is a condition of the
/// query itself, so paging, `numberMatched` and every filter see only the scope's features.
enum ScopeFunction {
    static let name = "om_in_scope"

    /// The condition for a query's `where` on `table`.
    static func condition(_ table: FeatureTable) -> String { "\(name)(\(table.columns([.fid]))) = 1" }

    static func with<T>(_ cut: ScopeCut?, db: Database, _ body: () throws -> T) throws -> T {
        guard let cut else { return try body() }
        let function = DatabaseFunction(name, argumentCount: 1, pure: false) { values in
            guard case .int64(let fid) = values[0].storage else { return 0 }
            return cut.contains(fid) ? 1 : 0
        }
        db.add(function: function)
        defer { db.remove(function: function) }
        return try body()
    }
}
