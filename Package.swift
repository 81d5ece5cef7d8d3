// swift-tools-version:6.0
import PackageDescription

// Dependencies point one way: C bindings <- GeoCore <- VectorIO <- LayerStore <- onemap.
// Each C library is imported by exactly one Swift module, so no C type escapes its wrapper.
let package = Package(
    name: "OneMap",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "onemap", targets: ["onemap"])
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        // Hummingbird's own lifecycle: a service that stores the last access records at shutdown.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        // SHA-256 for API keys, stored hashed (BoringSSL on Linux).
        .package(url: "https://github.com/apple/swift-crypto", from: "4.0.0"),
        // GET /metrics in Prometheus's text format.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        // Hummingbird's own transport, named for the tile fast path's channel handler.
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.27.0"),
        // The PostgreSQL/PostGIS backend's driver: pooled, async, COPY FROM STDIN.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.0"),
        // TLS to PostgreSQL (postgres-nio's own dependency), for `sslmode=` in a database URL.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0")
    ],
    targets: [
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CGDAL", pkgConfig: "gdal", providers: [.apt(["libgdal-dev"])]),
        .systemLibrary(name: "CSpatiaLite", pkgConfig: "spatialite", providers: [.apt(["libspatialite-dev"])]),
        // zlib, for gzip-encoded tiles; imported by Tiles only.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Geometry model, codecs, GEOS operations, PROJ transforms, ellipsoidal measures.
        .target(name: "GeoCore", dependencies: ["CGEOS", "CPROJ"]),
        // Reading and writing any vector dataset GDAL/OGR knows, as GeoCore values.
        .target(name: "VectorIO", dependencies: ["GeoCore", "CGDAL"]),
        // The synthetic Lishui sample: layers in the formats users receive, and project sites.
        .target(name: "SampleData", dependencies: ["GeoCore", "VectorIO"]),
        // Land-use classes (三调 地类, GB/T 21010 三大类) and the net-area arithmetic of 用地预审.
        .target(
            name: "LandUse", dependencies: [.product(name: "Yams", package: "Yams")], plugins: ["EmbedTextPlugin"]),
        // The SpatiaLite layer store: catalog, import, versions, spatial queries.
        .target(
            name: "LayerStore",
            dependencies: [
                "GeoCore", "VectorIO", "CSpatiaLite", "LandUse",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto")
            ]),
        // The PostGIS backend: layers as PostGIS tables, loaded with COPY through postgres-nio;
        // replicas that copy them, and share their check records there.
        .target(
            name: "PostGISStore",
            dependencies: [
                "GeoCore", "VectorIO", "LayerStore", "Conflicts",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log")
            ]),
        // Conflict checks (合规性审查): sites, rules, the engine, records and reports.
        .target(
            name: "Conflicts",
            dependencies: [
                "GeoCore", "VectorIO", "LayerStore", "LandUse",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto")
            ]),
        // Vector tiles: tile grids (Web Mercator and CGCS2000 geographic), MVT, generalisation, cache.
        .target(
            name: "Tiles",
            dependencies: [
                "GeoCore", "LandUse", "LayerStore", "CZlib",
                .product(name: "GRDB", package: "GRDB.swift")
            ]),
        // OGC API – Features: collections, items, CQL2 filters, CRS.
        .target(
            name: "Features",
            dependencies: [
                "GeoCore", "LayerStore",
                .product(name: "GRDB", package: "GRDB.swift")
            ]),
        // Who a bearer token names: the city's identity provider (OIDC tokens checked with jwt-kit), its claims
        // mapped to roles and a data scope. Knows nothing of HTTP.
        .target(
            name: "Identity",
            dependencies: [
                "LayerStore",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Yams", package: "Yams")
            ]),
        // The HTTP service: routes per area, errors as RFC 9457 problems, limits. The only module (with the CLI)
        // that knows about Hummingbird.
        .target(
            name: "OneMapServer",
            dependencies: [
                "GeoCore", "LandUse", "LayerStore", "Conflicts", "Tiles", "Features", "Identity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams")
            ], exclude: ["Public"], plugins: ["EmbedTextPlugin"]),
        // Puts OneMapServer's openapi.yaml and viewer page (Public/) in its code at build time (the
        // plugin says why not a resource).
        .executableTarget(name: "EmbedText"),
        // In Sources/, not a top-level Plugins/: the repository keeps the top level it was asked for.
        .plugin(name: "EmbedTextPlugin", capability: .buildTool(), dependencies: ["EmbedText"], path: "Sources/EmbedTextPlugin"),
        .executableTarget(
            name: "onemap",
            dependencies: [
                "GeoCore", "LandUse", "VectorIO", "LayerStore", "PostGISStore", "SampleData", "Conflicts", "OneMapServer", "Identity",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser")
            ]),

        // What the parser fuzz tests of several test targets share.
        .target(name: "FuzzSupport", dependencies: ["GeoCore"], path: "Tests/FuzzSupport"),
        .testTarget(name: "GeoCoreTests", dependencies: ["GeoCore", "FuzzSupport"]),
        .testTarget(name: "LandUseTests", dependencies: ["LandUse"]),
        .testTarget(
            name: "IdentityTests",
            dependencies: [
                "Identity", "LayerStore", "OneMapServer", "VectorIO", "GeoCore", "Conflicts", "FuzzSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto")
            ]),
        .testTarget(
            name: "SampleDataTests",
            dependencies: [
                "SampleData", "LayerStore", "VectorIO", "GeoCore",
                .product(name: "GRDB", package: "GRDB.swift")
            ]),
        .testTarget(
            name: "OneMapServerTests",
            dependencies: [
                "OneMapServer", "Conflicts", "LayerStore", "VectorIO", "GeoCore", "FuzzSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird")
            ]),
        .testTarget(
            name: "TilesTests",
            dependencies: [
                "Tiles", "LayerStore", "VectorIO", "GeoCore", "OneMapServer", "FuzzSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird")
            ]),
        .testTarget(
            name: "FeaturesTests",
            dependencies: [
                "Features", "LayerStore", "VectorIO", "GeoCore", "OneMapServer", "FuzzSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird")
            ]),
        .testTarget(name: "ConflictsTests", dependencies: ["Conflicts", "LayerStore", "LandUse", "VectorIO", "GeoCore", "FuzzSupport"]),
        .testTarget(
            name: "PostGISStoreTests",
            dependencies: [
                "PostGISStore", "LayerStore", "VectorIO", "GeoCore", "Conflicts", "Features", "Tiles",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "GRDB", package: "GRDB.swift")
            ]),
        .testTarget(
            name: "LayerStoreTests",
            dependencies: [
                "LayerStore", "VectorIO", "GeoCore", "FuzzSupport",
                .product(name: "GRDB", package: "GRDB.swift")
            ])
    ],
    swiftLanguageModes: [.v6]
)
