import Foundation
import GRDB
import Testing

@testable import OneMapServer

/// A failed statement logged whole at error level would be ~50 KB a line for a large filter:
/// the log line keeps the code, the message and the start of the statement.
struct ErrorLogTests {
    @Test func databaseErrorsAreLoggedWithoutTheirWholeStatement() {
        let sql =
            "SELECT * FROM lyr_parcels_1 WHERE " + String(repeating: "(NOT ", count: 10_000) + "GJ = ?"
            + String(repeating: ")", count: 10_000)
        let line = ProblemMiddleware<OneMapRequestContext>.loggable(
            DatabaseError(resultCode: .SQLITE_ERROR, message: "parser stack overflow", sql: sql))
        #expect(line.contains("parser stack overflow") && line.contains("SELECT * FROM lyr_parcels_1"))
        #expect(line.count < 600, "\(line.count) characters")
        let long = ProblemMiddleware<OneMapRequestContext>.loggable(NSError(domain: String(repeating: "x", count: 50_000), code: 1))
        #expect(long.count < 600)
    }
}
