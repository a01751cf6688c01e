// plugin.swift - SwiftPM build-tool plugin: runs netfd-seccomp-compile to generate
// CompiledSyscallFilter.swift (the helper's seccomp program) into the plugin work directory.
// syscalls: none (SwiftPM runs the command)
import PackagePlugin

@main
struct SyscallFilterPlugin: BuildToolPlugin {
    /// One build command per target that applies the plugin: the generated file is compiled into
    /// that target. It reruns when the tool (and so the allow-list compiled into it) changes.
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let tool = try context.tool(named: "netfd-seccomp-compile")
        let output = context.pluginWorkDirectory.appending("CompiledSyscallFilter.swift")
        return [
            .buildCommand(
                displayName: "Compiling the seccomp filter for \(target.name) (libseccomp)",
                executable: tool.path,
                arguments: [output.string],
                inputFiles: [tool.path],
                outputFiles: [output]
            ),
        ]
    }
}
