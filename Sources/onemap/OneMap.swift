import ArgumentParser

@main
struct OneMap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onemap",
        abstract: "国土空间\"一张图\": the planning control layers of Lishui in one SpatiaLite store.",
        subcommands: [
            Load.self, Import.self, Layers.self, Check.self, Serve.self, Sample.self,
            LedgerCommand.self, VersionsCommand.self, PruneCommand.self, DiffCommand.self,
            AuditCommand.self, TopologyCommand.self, IdentifyCommand.self, KeysCommand.self, RecordsCommand.self, AccessCommand.self,
            TilesCommand.self
        ]
    )
}
