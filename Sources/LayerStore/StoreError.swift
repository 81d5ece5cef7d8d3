/// Errors of the layer store. Each says what and where: file, layer, feature, key.
public enum StoreError: Error, CustomStringConvertible {
    case database(String)
    case unknownLayer(String, known: [String])
    case unknownVersion(layer: String, version: String)
    /// The request is well formed but the data cannot answer it (one version only, no admin layer).
    case invalidRequest(String)
    /// What the request would create exists already (a key name, a version label), or what it
    /// would change already has been (a revoked key): the caller's to resolve, not ours.
    case conflict(String)
    /// The request names something (a level, a unit) that is not there, or not for this caller.
    case notFound(String)
    /// No API key with that id or name.
    case unknownKey(String)
    /// The loaded layers cannot answer a conflict check (no layer has a rule, or a rule cannot
    /// be applied to its layer's current version): the check fails rather than pass over it.
    case cannotCheck(String)
    /// A problem importing `file` into `layer`, optionally at one feature.
    case importFailed(file: String, layer: String, feature: String?, message: String)

    public var description: String {
        switch self {
        case .database(let m): return m
        case .unknownLayer(let name, let known):
            return "unknown layer '\(name)'"
                + (known.isEmpty ? " (the database has no layers yet)" : "; layers: \(known.joined(separator: ", "))")
        case .unknownVersion(let layer, let version): return "layer '\(layer)' has no version '\(version)'"
        case .invalidRequest(let m): return m
        case .conflict(let m): return m
        case .cannotCheck(let m): return m
        case .notFound(let m): return m
        case .unknownKey(let k): return "no key '\(k)'; `onemap keys list` shows ids and names"
        case .importFailed(let file, let layer, let feature, let message):
            var s = "import of \(file) into layer '\(layer)'"
            if let feature { s += ", feature \(feature)" }
            return s + ": " + message
        }
    }
}
