/// How the server runs: where it listens and the limits that keep hostile or careless
/// clients from hurting everyone else. Parsed by the CLI, separate from the runtime.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Anonymous callers may post checks (the demo); otherwise an approver key is needed.
    public var open: Bool
    public var limits: Limits
    /// Where `make vendor` unpacked MapLibre GL JS for the viewer.
    public var vendorDirectory: String

    public struct Limits: Sendable {
        /// Largest request body accepted, in bytes.
        public var maxBodyBytes: Int
        /// Most vertices a site may have.
        public var maxSiteVertices: Int
        /// Most items a list returns per page.
        public var maxPageSize: Int
        public init(maxBodyBytes: Int = 8 << 20, maxSiteVertices: Int = 200_000, maxPageSize: Int = 10_000) {
            self.maxBodyBytes = maxBodyBytes
            self.maxSiteVertices = maxSiteVertices
            self.maxPageSize = maxPageSize
        }
    }

    public init(host: String = "127.0.0.1", port: Int = 8080, open: Bool = false, limits: Limits = Limits(),
                vendorDirectory: String = "vendor/maplibre") {
        self.vendorDirectory = vendorDirectory
        self.host = host
        self.port = port
        self.open = open
        self.limits = limits
    }
}
