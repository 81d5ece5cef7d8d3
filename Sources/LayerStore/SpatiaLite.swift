import CSpatiaLite

/// Initialises SpatiaLite on a SQLite connection (GRDB's `prepareDatabase` calls this on
/// every connection it opens), so SpatiaLite SQL works in every reader and the writer.
enum SpatiaLite {
    private static let libraryReady: Void = { spatialite_initialize() }()

    /// SQLite's memory statistics, which OneMap never reads, take a process-wide mutex around
    /// every allocation and free: 5% of a check's time went to it, each candidate's row lookup
    /// allocating. Turned off once, before the process's first connection (SQLite refuses it
    /// later, which is harmless: the statistics then stay on).
    private static let processReady: Void = { _ = onemap_sqlite_disable_memstatus() }()

    static func prepareProcess() { _ = processReady }

    static func initialize(connection: OpaquePointer) throws {
        _ = libraryReady
        guard let cache = spatialite_alloc_connection() else {
            throw StoreError.database("SpatiaLite: cannot allocate a connection cache")
        }
        spatialite_init_ex(connection, cache, 0)
        // SQLite has no close hook, so the cache rides on a tiny SQL function whose
        // destructor SQLite calls when the connection closes: no leak per connection.
        let rc = sqlite3_create_function_v2(
            connection, "onemap_spatialite_cache", 0, SQLITE_UTF8, cache,
            { context, _, _ in sqlite3_result_null(context) }, nil, nil,
            { pointer in spatialite_cleanup_ex(pointer) })
        guard rc == SQLITE_OK else {
            spatialite_cleanup_ex(cache)
            throw StoreError.database("SpatiaLite: cannot register its cache (SQLite code \(rc))")
        }
    }
}
