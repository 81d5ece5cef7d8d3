import Foundation

@testable import Conflicts

/// Two answers that must agree but for the roundings of their areas: a check without pieces
/// sums each overlap's area along its boundary, one with pieces measures the overlap's
/// polygon; the same edges, so the same area to about 1e-12 relative, but not to the bit.
enum AnswerComparison {
    /// The answer with its areas and ratios set apart (features by id), and those numbers.
    static func numbersApart(_ json: String) throws -> (rest: String, numbers: [Double]) {
        var result = try JSONDecoder().decode(CheckResult.self, from: Data(json.utf8))
        var numbers: [Double] = []
        func take(_ x: inout Double) { numbers.append(x); x = 0 }
        for l in result.layers.indices {
            result.layers[l].features.sort { $0.id < $1.id }
            take(&result.layers[l].overlapAreaM2)
            take(&result.layers[l].overlapRatio)
            if result.layers[l].outsideAreaM2 != nil { take(&result.layers[l].outsideAreaM2!) }
            for f in result.layers[l].features.indices { take(&result.layers[l].features[f].overlapAreaM2) }
        }
        return (String(decoding: try result.json(), as: UTF8.self), numbers)
    }

    /// Equal but for roundings: every area and ratio within 1e-9 relative or 1e-6 m².
    static func closeEnough(_ a: String, _ b: String) throws -> Bool {
        let x = try numbersApart(a), y = try numbersApart(b)
        return x.rest == y.rest && x.numbers.count == y.numbers.count
            && zip(x.numbers, y.numbers).allSatisfy { abs($0 - $1) <= max(1e-6, 1e-9 * abs($1)) }
    }
}
