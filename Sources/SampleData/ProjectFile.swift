import Foundation
import GeoCore

/// Writes a site as a 部标准格式 coordinate TXT (勘测定界 / 建设用地报批 exchange file):
/// X is the northing, Y the easting with the zone-40 prefix, in metres.
enum ProjectFile {
    struct Parcel {
        var code: String
        var name: String
        var use: String
        /// Rings in EPSG:4528 (x = prefixed easting, y = northing); the first is the outer ring.
        var rings: [[Coordinate]]
        var areaHectares: Double
    }

    static func txt(_ parcels: [Parcel], date: String) -> String {
        var lines = [
            "[属性描述]", "格式版本号=1.01版本", "数据产生单位=OneMap示例数据(虚构)", "数据产生日期=\(date)",
            "坐标系=2000国家大地坐标系", "几度分带=3", "投影类型=高斯克吕格", "计量单位=米", "带号=40",
            "精度=0.001", "转换参数=,,,,,,", "[地块坐标]"
        ]
        for p in parcels {
            let points = p.rings.reduce(0) { $0 + $1.count }
            lines.append("\(points),\(String(format: "%.4f", p.areaHectares)),\(p.code),\(p.name),面,,\(p.use),,@")
            var number = 0
            for (ri, ring) in p.rings.enumerated() {
                let firstNumber = number + 1
                for (i, c) in ring.enumerated() {
                    // The closing point repeats the first point's number.
                    let n: Int
                    if i == ring.count - 1 { n = firstNumber } else { number += 1; n = number }
                    lines.append("J\(n),\(ri + 1),\(String(format: "%.3f", c.y)),\(String(format: "%.3f", c.x))")
                }
            }
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}
