import Foundation

/// Which methods each documented path takes, read from the OpenAPI document (the one list of
/// routes), so a request with the wrong method gets 405 and an `Allow` header, as RFC 9110
/// asks, rather than a 404 that says the resource does not exist.
struct MethodTable: Sendable {
    private struct Entry: Sendable {
        /// The template's segments: a literal, or a pattern for `{name}` (possibly with a
        /// suffix, as in `{y}.mvt`).
        let segments: [Segment]
        let methods: [String]
    }
    private enum Segment: Sendable {
        case literal(String)
        /// A `{name}` segment: any non-empty text, then this suffix.
        case parameter(suffix: String)
    }
    private let entries: [Entry]

    init(paths: [String: Any]) {
        let known = ["get", "put", "post", "delete", "patch", "head", "options"]
        entries = paths.compactMap { template, item in
            guard let operations = item as? [String: Any] else { return nil }
            var methods = known.filter { operations[$0] != nil }.map { $0.uppercased() }
            guard !methods.isEmpty else { return nil }
            if methods.contains("GET") && !methods.contains("HEAD") { methods.append("HEAD") }
            let segments = template.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part -> Segment in
                guard part.hasPrefix("{"), let close = part.firstIndex(of: "}") else { return .literal(String(part)) }
                return .parameter(suffix: String(part[part.index(after: close)...]))
            }
            return Entry(segments: Array(segments), methods: methods)
        }
    }

    /// The methods documented for `path`, or nil when no documented path matches it.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        var found: Set<String> = []
        for entry in entries where entry.segments.count == parts.count {
            let matches = zip(entry.segments, parts).allSatisfy { segment, part in
                switch segment {
                case .literal(let s): return part == s
                case .parameter(let suffix): return part.count > suffix.count && part.hasSuffix(suffix)
                }
            }
            if matches { found.formUnion(entry.methods) }
        }
        return found.isEmpty ? nil : found.sorted()
    }
}
