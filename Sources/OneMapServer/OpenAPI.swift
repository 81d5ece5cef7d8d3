import Foundation
import Yams

/// The OpenAPI 3.0 definition of every OneMap endpoint, served at `/api`. It is written in
/// `openapi.yaml` beside this file, which the build embeds in the binary: YAML requests get
/// that text as it is, JSON ones the document converted once. The one thing it cannot say,
/// the URL the server was reached at, is added to either as `servers` per request.
struct OpenAPI: @unchecked Sendable {
    /// The document this binary was built with. The file is fixed at build time, and every
    /// test that builds the application reads it, so a broken one never gets as far as a server.
    static let document: OpenAPI = {
        do { return try OpenAPI(yaml: Embedded.openapiYaml) } catch { fatalError("openapi.yaml: \(error)") }
    }()

    /// The document as JSON values (dictionaries, arrays, strings, numbers, booleans), without
    /// `servers`. Never changed after `init`, hence `@unchecked Sendable`.
    let object: [String: Any]
    /// The file as written, ending in a new line.
    private let yaml: [UInt8]
    /// The JSON text, cut where the server's URL goes.
    private let jsonHead: [UInt8], jsonTail: [UInt8]

    var paths: [String: Any] { object["paths"] as? [String: Any] ?? [:] }

    init(yaml text: String) throws {
        yaml = Array(text.utf8) + (text.hasSuffix("\n") ? [] : Array("\n".utf8))
        // A string no document holds marks the place of the URL. Read with it as the server
        // (as YAML requests get the file), so a file that names servers itself, or ends
        // where more cannot be added, fails here.
        let mark = "\u{0}server URL\u{0}"
        let withServer = String(decoding: yaml + Self.servers(mark), as: UTF8.self)
        guard let root = try Yams.compose(yaml: withServer, Self.resolver()), var object = try Self.value(root) as? [String: Any],
            (object.removeValue(forKey: "servers") as? [[String: String]]) == [["url": mark]]
        else {
            throw OpenAPIError("the document is not a mapping to which servers can be added")
        }
        self.object = object
        var withServerObject = object
        withServerObject["servers"] = [["url": mark]]
        let json = try JSONSerialization.data(withJSONObject: withServerObject, options: [.sortedKeys, .withoutEscapingSlashes])
        let quotedMark = Self.quoted(mark)
        guard let at = json.range(of: Data(quotedMark)) else { throw OpenAPIError("the server URL's place was not found") }
        jsonHead = Array(json[..<at.lowerBound])
        jsonTail = Array(json[at.upperBound...])
    }

    /// The document in JSON, with `serverURL` as its server.
    func json(serverURL: String) -> [UInt8] { jsonHead + Self.quoted(serverURL) + jsonTail }

    /// The file as written, then `serverURL` as its server.
    func yaml(serverURL: String) -> [UInt8] { yaml + Self.servers(serverURL) }

    /// A JSON string is a YAML double-quoted one.
    static func servers(_ url: String) -> [UInt8] { Array("servers:\n  - url: ".utf8) + quoted(url) + Array("\n".utf8) }

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
