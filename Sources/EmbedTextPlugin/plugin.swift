import Foundation
import PackagePlugin

/// Embeds the `.yaml` files among a target's sources, and the files of its `Public` folder (the
/// viewer's page), in its code, as `Embedded.<name>` string constants (see the EmbedText tool).
/// A resource bundle would be looked up beside the binary at run time, then in the build folder
/// it was built in: a binary copied or installed elsewhere would fail to start, or read the file
/// of a later build. (`Public` is excluded from the target in Package.swift, so it is read here,
/// from the target's default path: PackagePlugin 6.0 offers no target directory as a URL.)
@main
struct EmbedTextPlugin: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        guard let target = target as? SourceModuleTarget else { return [] }
        let yaml = target.sourceFiles.map(\.url).filter { $0.pathExtension == "yaml" }
        let publicFolder = context.package.directoryURL.appendingPathComponent("Sources/\(target.name)/Public")
        let page = (try? FileManager.default.contentsOfDirectory(at: publicFolder, includingPropertiesForKeys: nil)) ?? []
        let inputs = (yaml + page.filter { ["html", "js", "css"].contains($0.pathExtension) })
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        guard !inputs.isEmpty else { return [] }
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("Embedded.swift")
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.map(\.lastPathComponent).joined(separator: ", ")) in \(target.name)",
                executable: try context.tool(named: "EmbedText").url,
                arguments: [output.path] + inputs.map(\.path),
                inputFiles: inputs, outputFiles: [output])
        ]
    }
}
