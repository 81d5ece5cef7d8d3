/// An error raised by one of the C libraries, carrying that library's own message.
public struct LibraryError: Error, CustomStringConvertible, Sendable {
    public let library: String
    public let message: String
    public init(_ library: String, _ message: String) {
        self.library = library
        self.message = message
    }
    public var description: String { "\(library): \(message)" }
}

/// Malformed geometry input: says what is wrong and where (offset, ring, point).
public struct GeometryFormatError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
