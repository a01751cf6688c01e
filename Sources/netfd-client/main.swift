// netfd-client - runs one native request and execs a command with the descriptors it got, as
// the emulator's launcher: `netfd-client kind=macvtap link=eth0 queues=2 vhost=yes --
// qemu-system-x86_64 -netdev tap,id=n0,fds={fds},vhostfds={vhostfds},vhost=on ...`.
// The command runs in this process (exec), so it is the emulator the helper's macvtap guard
// watches: the macvtap is deleted when the command exits. Unprivileged; Glibc and NetFDClient only.
// syscalls: those of NativeClient, fcntl (clear FD_CLOEXEC), execve
import Glibc
import NetFDClient
import NetFDSystem

let usage = """
    usage: netfd-client [--helper=PATH] [--policy=PATH] KEY=VALUE... -- COMMAND [ARG...]
           netfd-client [--helper=PATH] [--policy=PATH] KEY=VALUE... --print
    Asks netfd-helper (default /usr/libexec/netfd-helper, or $NETFD_HELPER) for the descriptors
    the KEY=VALUE words describe (netfd-helper(8), NATIVE REQUESTS), then runs COMMAND with them
    open. In COMMAND's arguments {fds} becomes the queue (or packet socket) descriptor numbers
    joined by ":", {vhostfds} the vhost ones, {fd} the first descriptor, {ifname}, {ifindex} and
    {mac} the reply's values. The environment gets NETFD_REPLY (the reply line), NETFD_FDS and
    NETFD_VHOSTFDS (comma-separated). --print prints the reply line and exits instead (the
    descriptors close, which deletes a tap, and a macvtap's guard deletes it when this exits).
    Exit status: the helper's on failure (1-7, its one-line reason on stderr), 8 when the reply
    is not one, 64 for a usage error, 127 when COMMAND cannot be run.

    """

func die(_ status: Int32, _ message: String) -> Never {
    fputs("netfd-client: \(message)\n", stderr)
    exit(status)
}

var helper = getenv("NETFD_HELPER").map { String(cString: $0) } ?? "/usr/libexec/netfd-helper"
var options: [String] = []
var words: [String] = []
var command: [String] = []
var printOnly = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    if argument == "--" { command = Array(arguments); break }
    if argument == "--help" || argument == "-h" { fputs(usage, stdout); exit(0) }
    if argument == "--print" { printOnly = true; continue }
    if argument.hasPrefix("--helper=") { helper = String(argument.dropFirst("--helper=".count)); continue }
    if argument.hasPrefix("--policy=") { options.append(argument); continue }
    if argument.hasPrefix("-") { die(64, "unknown option \(argument); see netfd-client --help") }
    words.append(argument)
}
guard !words.isEmpty else { die(64, "missing request words (kind=...); see netfd-client --help") }
guard printOnly != !command.isEmpty else { die(64, "give either -- COMMAND [ARG...] or --print") }

var invocation = NativeInvocation(helper: helper, words: words)
invocation.options = options
invocation.captureStandardError = false   // the helper's one-line reason goes straight to our stderr
let result: NativeResult
do { result = try NativeClient.run(invocation) } catch { die(8, "could not run \(helper): \(error)") }
guard result.exitStatus == 0 else { exit(result.exitStatus) }
guard let reply = result.parsed, reply.succeeded, reply.descriptorLabels.count == result.descriptors.count else {
    die(8, "\(helper) answered without a valid reply: \(result.reply.debugDescription) with \(result.descriptors.count) descriptors")
}
let line = String(result.reply.dropLast())
if printOnly { print(line); exit(0) }

var queueFDs: [String] = [], vhostFDs: [String] = []
for (label, descriptor) in zip(reply.descriptorLabels, result.descriptors) {
    // The command inherits them; everything else stays close-on-exec.
    _ = fcntl(descriptor.rawValue, F_SETFD, 0)
    if label == "vhost" { vhostFDs.append(String(descriptor.rawValue)) } else { queueFDs.append(String(descriptor.rawValue)) }
}
let substitutions: [(String, String)] = [
    ("{fds}", queueFDs.joined(separator: ":")), ("{vhostfds}", vhostFDs.joined(separator: ":")),
    ("{fd}", queueFDs.first ?? ""), ("{ifname}", reply["name"] ?? ""), ("{ifindex}", reply["ifindex"] ?? ""),
    ("{mac}", reply["mac"] ?? ""),
]
func substitute(_ argument: String) -> String {
    var text = argument
    for (pattern, value) in substitutions {
        while let range = text.firstRange(of: pattern) { text.replaceSubrange(range, with: value) }
    }
    return text
}
setenv("NETFD_REPLY", line, 1)
setenv("NETFD_FDS", queueFDs.joined(separator: ","), 1)
setenv("NETFD_VHOSTFDS", vhostFDs.joined(separator: ","), 1)
let argv = command.map { strdup(substitute($0)) } + [nil]
execvp(argv[0]!, argv)
die(127, "could not run \(command[0]): \(Errno.current)")
