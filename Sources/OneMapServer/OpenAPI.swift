import Foundation
import Yams

/// The OpenAPI 3.0 definition of every OneMap endpoint, served at `/api`. It is written in
/// `openapi.yaml` beside this file, which the build embeds in the binary; it is read once,
/// and converted once to the JSON the server answers with. The one thing it cannot say, the
/// URL the server was reached at, goes into `servers` per request.
struct OpenAPI: @unchecked Sendable {
    /// The document this binary was built with. The file is fixed at build time, and every
    /// test that builds the application reads it, so a broken one never gets as far as a server.
    static let document: OpenAPI = {
        do { return try OpenAPI(yaml: Embedded.openapiYaml) } catch { fatalError("openapi.yaml: \(error)") }
    }()

    /// The document as JSON values (dictionaries, arrays, strings, numbers, booleans), without
    /// `servers`. Never changed after `init`, hence `@unchecked Sendable`.
    let object: [String: Any]
    /// The JSON text, cut where the server's URL goes.
    private let jsonHead: [UInt8], jsonTail: [UInt8]

    var paths: [String: Any] { object["paths"] as? [String: Any] ?? [:] }

    init(yaml: String) throws {
        guard let root = try Yams.compose(yaml: yaml, Self.resolver()), let object = try Self.value(root) as? [String: Any] else {
            throw OpenAPIError("the document is not a mapping")
        }
        guard object["servers"] == nil else { throw OpenAPIError("servers is the server's to fill in with the URL it was reached at") }
        self.object = object
        // A string no document holds marks the place of the URL.
        let mark = "\u{0}server URL\u{0}"
        var withServer = object
        withServer["servers"] = [["url": mark]]
        let json = try JSONSerialization.data(withJSONObject: withServer, options: [.sortedKeys, .withoutEscapingSlashes])
        let quotedMark = Self.quoted(mark)
        guard let at = json.range(of: Data(quotedMark)) else { throw OpenAPIError("the server URL's place was not found") }
        jsonHead = Array(json[..<at.lowerBound])
        jsonTail = Array(json[at.upperBound...])
    }

    /// The document in JSON, with `serverURL` as its server.
    func json(serverURL: String) -> [UInt8] { jsonHead + Self.quoted(serverURL) + jsonTail }

    /// `s` as a JSON string, quotes included.
    static func quoted(_ s: String) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: s, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8))
    }

    /// YAML 1.2's JSON schema: only `true`, `false`, `null` and JSON's numbers are other than
    /// strings. (Yams's default is YAML 1.1's, which reads `yes` as true, `0101` as an octal
    /// number and `2026-01-01` as a date.)
    static func resolver() throws -> Resolver {
        try Resolver.basic
            .appending(.null, "^(?:null|~|)$")
            .appending(.bool, "^(?:true|false)$")
            .appending(.int, "^-?(?:0|[1-9][0-9]*)$")
            .appending(.float, "^-?(?:0|[1-9][0-9]*)(?:\\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$")
    }

    /// A node as the value JSONSerialization writes. Mapping keys are taken as written (`200`
    /// stays a string); anything JSON has no value for is an error.
    static func value(_ node: Node) throws -> Any {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.str.rawValue: return scalar.string
            case Tag.Name.null.rawValue: return NSNull()
            case Tag.Name.bool.rawValue: return scalar.string == "true"
            case Tag.Name.int.rawValue:
                guard let n = Int(scalar.string) else { throw OpenAPIError("\(scalar.string) is out of range", at: scalar.mark) }
                return n
            case Tag.Name.float.rawValue:
                guard let x = Double(scalar.string) else { throw OpenAPIError("\(scalar.string) is not a number", at: scalar.mark) }
                return x
            case let tag: throw OpenAPIError("\(tag) is not a JSON value", at: scalar.mark)
            }
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, item) in mapping {
                guard case .scalar(let name) = key else { throw OpenAPIError("a key must be a string", at: key.mark) }
                object[name.string] = try value(item)
            }
            return object
        case .sequence(let sequence):
            return try sequence.map(value)
        case .alias(let alias):
            throw OpenAPIError("an alias left unresolved", at: alias.mark)
        }
    }
}

struct OpenAPIError: Error, CustomStringConvertible {
    let description: String
    init(_ what: String, at mark: Mark? = nil) { description = (mark.map { "line \($0.line), column \($0.column): " } ?? "") + what }
}
