// netfd-policy - administration of netfd policies. `compile` writes the compiled form the
// helper uses while it is current (netfd-policy(8)). Run by root; not installed with capabilities.
import Glibc
import NetFDCore
import NetFDPolicy
import NetFDSystem

let usage = """
    usage: netfd-policy compile [--policy PATH]
           netfd-policy --help | --version
    Checks the policy (default /etc/netfd/netfd.policy) exactly as netfd-helper reads it and writes
    PATH.compiled, which netfd-helper uses instead of the text while every file it was made from is
    unchanged. Run it again after editing the policy or the users and groups it names.
    See netfd-policy(8).

    """

/// Prints the one-line reason on stderr and exits with the failure's code.
func fail(_ failure: HelperFailure) -> Never {
    try? FileDescriptor.standardError.writeAll("netfd-policy: \(failure.message)\n".utf8)
    exit(failure.exitCode)
}

let command: PolicyToolCommand
do {
    let arguments = try HelperCommand.decodeArguments(argv: CommandLine.unsafeArgv, count: Int(CommandLine.argc))
    command = try PolicyToolCommand.parse(arguments, defaultPolicy: "/etc/netfd/netfd.policy")
} catch { fail(error) }

switch command {
case .help:
    try? FileDescriptor.standardOutput.writeAll(usage.utf8)
case .version:
    try? FileDescriptor.standardOutput.writeAll("netfd-policy \(CompiledPolicyFormat.netfdVersion)\n".utf8)
case .compile(let policyPath):
    // The helper trusts only a compiled form owned by root, like the policy itself.
    guard geteuid() == 0 else { fail(.confinement("compile must run as root: netfd-helper trusts only a root-owned compiled form")) }
    do {
        let report = try PolicyCompilation.system().run(policyPath: policyPath)
        try? FileDescriptor.standardOutput.writeAll((report + "\n").utf8)
    } catch { fail(error) }
}
