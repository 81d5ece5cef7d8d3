import Foundation

// The tool of the EmbedTextPlugin build plugin: writes text files into a Swift source as string
// constants, so the binary carries them and needs no resource bundle beside it at run time.
//
// Usage: EmbedText OUTPUT.swift INPUT...
// Each INPUT becomes `Embedded.<name>`, its file name in lower camel case (openapi.yaml:
// `Embedded.openapiYaml`), holding the file's text as written (line ends read as \n).

/// A raw multi-line string literal holding `text` verbatim: its delimiter has one `#` more
/// than any run of `#` after a quote or a backslash in the text, so nothing in it can end
/// the literal or escape.
func literal(_ text: String) -> String {
    var longest = 0, run = 0, counting = false
    for c in text.unicodeScalars {
        if c == "#" && counting { run += 1; longest = max(longest, run); continue }
        counting = c == "\"" || c == "\\"
        run = 0
    }
    let hashes = String(repeating: "#", count: longest + 1)
    return "\(hashes)\"\"\"\n\(text)\n\"\"\"\(hashes)"
}

/// "openapi.yaml" → "openapiYaml".
func identifier(_ fileName: String) -> String {
    let words = fileName.split { !($0.isLetter || $0.isNumber) }.map(String.init)
    let name = (words.first ?? "file") + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    return name.first?.isNumber == true ? "_" + name : name
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("EmbedText: \(message)\n".utf8))
    exit(1)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count > 1 else { fail("usage: EmbedText OUTPUT.swift INPUT...") }
var source = "// Written by the EmbedTextPlugin build plugin from the files named below: edit those, not this.\n\nenum Embedded {\n"
for input in arguments.dropFirst() {
    let name = (input as NSString).lastPathComponent
    guard let text = try? String(contentsOfFile: input, encoding: .utf8) else { fail("cannot read \(input) as UTF-8") }
    // Swift source holds no other control characters (nor does YAML, nor the viewer's page).
    if let c = text.unicodeScalars.first(where: { $0.value < 0x20 && !["\n", "\r", "\t"].contains($0) || $0.value == 0x7F }) {
        fail("\(input) holds the control character U+\(String(c.value, radix: 16, uppercase: true))")
    }
    source += "    /// The text of \(name).\n    static let \(identifier(name)) = \(literal(text))\n"
}
source += "}\n"
do { try source.write(toFile: arguments[0], atomically: true, encoding: .utf8) } catch { fail("cannot write \(arguments[0]): \(error)") }
