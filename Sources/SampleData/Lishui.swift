import GeoCore

/// Facts about Lishui that shape the synthetic layers: where the county seats, rivers,
/// reserves and reservoirs are. Positions are approximate (to about a kilometre), read off
/// public maps; they only need to put the synthetic data in believable places.
enum Lishui {
    struct Seat {
        let code: String
        let name: String
        let lonLat: Coordinate
        /// Radius in metres of the town's 城镇集中建设区.
        let urbanRadius: Double
    }

    static let seats: [Seat] = [
        Seat(code: "331102", name: "莲都区", lonLat: Coordinate(119.922, 28.452), urbanRadius: 5200),
        Seat(code: "331121", name: "青田县", lonLat: Coordinate(120.290, 28.140), urbanRadius: 2600),
        Seat(code: "331122", name: "缙云县", lonLat: Coordinate(120.090, 28.659), urbanRadius: 2800),
        Seat(code: "331123", name: "遂昌县", lonLat: Coordinate(119.276, 28.593), urbanRadius: 2400),
        Seat(code: "331124", name: "松阳县", lonLat: Coordinate(119.482, 28.449), urbanRadius: 2600),
        Seat(code: "331125", name: "云和县", lonLat: Coordinate(119.573, 28.116), urbanRadius: 2200),
        Seat(code: "331126", name: "庆元县", lonLat: Coordinate(119.063, 27.619), urbanRadius: 2000),
        Seat(code: "331127", name: "景宁畲族自治县", lonLat: Coordinate(119.636, 27.974), urbanRadius: 2000),
        Seat(code: "331181", name: "龙泉市", lonLat: Coordinate(119.141, 28.075), urbanRadius: 3000)
    ]

    /// The main rivers, as lon/lat polylines from source to mouth: the 瓯江 main stem and
    /// its big tributaries. Farmland clusters along them and their side valleys.
    static let rivers: [(name: String, path: [Coordinate])] = [
        (
            "龙泉溪—大溪(瓯江)",
            [
                Coordinate(118.80, 27.95), Coordinate(118.98, 28.02), Coordinate(119.141, 28.070),
                Coordinate(119.30, 28.10), Coordinate(119.45, 28.13), Coordinate(119.573, 28.125),
                Coordinate(119.70, 28.22), Coordinate(119.80, 28.33), Coordinate(119.905, 28.435),
                Coordinate(120.02, 28.36), Coordinate(120.15, 28.20), Coordinate(120.290, 28.135),
                Coordinate(120.43, 28.10)
            ]
        ),
        (
            "松阴溪",
            [
                Coordinate(119.05, 28.70), Coordinate(119.18, 28.64), Coordinate(119.276, 28.585),
                Coordinate(119.40, 28.48), Coordinate(119.482, 28.440), Coordinate(119.62, 28.36),
                Coordinate(119.74, 28.28)
            ]
        ),
        (
            "好溪",
            [
                Coordinate(120.30, 28.85), Coordinate(120.18, 28.74), Coordinate(120.090, 28.655),
                Coordinate(120.00, 28.56), Coordinate(119.935, 28.46)
            ]
        ),
        (
            "小溪",
            [
                Coordinate(118.95, 27.55), Coordinate(119.063, 27.612), Coordinate(119.30, 27.75),
                Coordinate(119.50, 27.88), Coordinate(119.636, 27.968), Coordinate(119.80, 28.02),
                Coordinate(119.95, 28.08), Coordinate(120.12, 28.14), Coordinate(120.20, 28.17)
            ]
        ),
        (
            "宣平溪",
            [
                Coordinate(119.55, 28.75), Coordinate(119.62, 28.58), Coordinate(119.72, 28.40),
                Coordinate(119.78, 28.31)
            ]
        )
    ]

    struct Reserve {
        let name: String
        /// Core areas (centre, radius in metres); buffer and experimental zones grow around them.
        let cores: [(Coordinate, Double)]
        let bufferGrowth: Double
        let experimentalGrowth: Double
    }

    static let reserves: [Reserve] = [
        Reserve(
            name: "凤阳山—百山祖国家级自然保护区",
            cores: [(Coordinate(119.180, 27.905), 2600), (Coordinate(119.205, 27.760), 2300)],
            bufferGrowth: 1800, experimentalGrowth: 2600),
        Reserve(
            name: "九龙山国家级自然保护区",
            cores: [(Coordinate(118.870, 28.370), 2400)],
            bufferGrowth: 1500, experimentalGrowth: 2200)
    ]

    struct Reservoir {
        let name: String
        /// The flooded valley, as a lon/lat polyline; the lake is this line widened.
        let lake: [Coordinate]
        let halfWidth: Double
    }

    static let reservoirs: [Reservoir] = [
        Reservoir(name: "紧水滩水库", lake: [Coordinate(119.30, 28.10), Coordinate(119.38, 28.12), Coordinate(119.46, 28.135)], halfWidth: 450),
        Reservoir(name: "滩坑水库", lake: [Coordinate(119.76, 28.00), Coordinate(119.84, 28.03), Coordinate(119.92, 28.07)], halfWidth: 600)
    ]

    /// The gas pipeline network: trunk from the north-east, branches to the county seats.
    /// The 龙泉—庆元 branch crosses the 凤阳山—百山祖 reserve, as a conflict to find.
    static let pipelines: [(name: String, diameter: Int, pressure: String, path: [Coordinate])] = [
        (
            "金华—丽水输气干线", 610, "6.3MPa",
            [Coordinate(120.16, 28.95), Coordinate(120.09, 28.70), Coordinate(120.00, 28.55), Coordinate(119.94, 28.47)]
        ),
        (
            "丽水—龙泉输气管道", 508, "6.3MPa",
            [
                Coordinate(119.94, 28.47), Coordinate(119.78, 28.33), Coordinate(119.60, 28.14), Coordinate(119.38, 28.16),
                Coordinate(119.16, 28.09)
            ]
        ),
        ("丽水—松阳—遂昌支线", 406, "4.0MPa", [Coordinate(119.78, 28.33), Coordinate(119.50, 28.46), Coordinate(119.29, 28.59)]),
        ("丽水—青田支线", 406, "4.0MPa", [Coordinate(119.94, 28.47), Coordinate(120.05, 28.33), Coordinate(120.28, 28.15)]),
        ("云和—景宁支线", 323, "4.0MPa", [Coordinate(119.60, 28.14), Coordinate(119.63, 27.99)]),
        (
            "龙泉—庆元支线", 323, "4.0MPa",
            [Coordinate(119.16, 28.09), Coordinate(119.19, 27.90), Coordinate(119.20, 27.76), Coordinate(119.08, 27.63)]
        )
    ]

    /// Syllables for synthetic village names (坐落单位名称). The names are invented.
    static let villageFirst = Array("上下大小东西南北新老高低前后中长石金白黄青龙凤马桃李竹梅松柏枫茶桂杨")
    static let villageSecond = Array("溪岭坑源口塘田桥坪岙垟湖头林山洋湾畈坞圩岗垄")
}
