import Foundation

/// Output helpers: a progress bar only when a person is watching, JSON for machines.
enum Terminal {
    static let stdoutIsTTY = isatty(STDOUT_FILENO) == 1

    static func progressBar(label: String) -> ((Int, Int?) -> Void)? {
        guard stdoutIsTTY else { return nil }
        return { done, total in
            var line = "\r\(label) "
            if let total, total > 0 {
                let width = 30
                let filled = min(width, done * width / total)
                line += "[" + String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled) + "] "
                line += "\(done)/\(total)"
            } else {
                line += "\(done)"
            }
            FileHandle.standardOutput.write(Data(line.utf8))
            if let total, done >= total { FileHandle.standardOutput.write(Data("\r\u{1B}[K".utf8)) }
        }
    }

    static let stderrIsTTY = isatty(STDERR_FILENO) == 1

    /// Work done, per second and time left, rewritten in place on standard error (where a
    /// command's output on standard output stays clean): "z12  340/1200 tiles  95/s  ~9 s left".
    static func rateLine(_ prefix: String, done: Int, total: Int?, unit: String, seconds: Double) {
        let rate = Double(done) / max(seconds, 1e-9)
        var line = "\r\u{1B}[K" + prefix + "\(done)"
        if let total {
            line += "/\(total) \(unit)" + String(format: "  %.0f/s  ~%.0f s left", rate, Double(max(0, total - done)) / max(rate, 1e-9))
        }
        FileHandle.standardError.write(Data(line.utf8))
    }

    static func printJSON<T: Encodable>(_ value: T) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try enc.encode(value), as: UTF8.self))
    }

    /// Pads to a display width, counting CJK characters as two columns.
    static func pad(_ s: String, _ width: Int) -> String {
        let w = s.unicodeScalars.reduce(0) {
            $0 + ($1.value >= 0x1100 && $1.properties.isIdeographic || (0xFF00...0xFFEF).contains($1.value) ? 2 : 1)
        }
        return s + String(repeating: " ", count: max(0, width - w))
    }
}
