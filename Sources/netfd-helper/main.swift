// netfd-helper - creates network descriptors for an unprivileged emulator, by policy, and hands
// them over a unix socket: a tap on a bridge (QEMU's `-netdev bridge,helper=...` protocol), or by
// the native request interface a multiqueue tap, a macvtap, a raw packet socket, with vhost-net
// descriptors beside. Installed with file capabilities, never setuid. The privileged flow, top
// to bottom:
//   1. confine (environment, capabilities, no_new_privs, seccomp) before anything the caller
//      controls; only CAP_NET_ADMIN stays effective
//   2. parse the command line, and keep only the capabilities that command can need
//   3. close inherited descriptors, learn the caller from the kernel, load the policy (its
//      compiled form if current, else the text)
//   4. decide, create, configure, hand over (TapRequestFlow or DeviceRequestFlow; rollback on
//      every failure; each kind lowers the capabilities to its own before creating anything)
import CNetFDStartup
import Glibc
import NetFDCore
import NetFDPolicy
import NetFDSystem

let defaultPolicyPath = "/etc/netfd/netfd.policy"
let version = "netfd-helper " + CompiledPolicyFormat.netfdVersion
/// The --help text; a function, so the request path never builds it.
func usage() -> String {
    """
    usage: netfd-helper [--use-vnet] --fd=N --br=BRIDGE [--policy=PATH]
           netfd-helper request --fd=N [--policy=PATH] kind=tap|macvtap|raw KEY=VALUE...
           netfd-helper release NAME
           netfd-helper check [--policy PATH] [--user U] [--group G]... [tap bridge NAME [--vnet-hdr] | KEY=VALUE...]
           netfd-helper --help | --version
    Creates a tap on BRIDGE for the calling user, if \(defaultPolicyPath) allows it, and sends it on
    the unix socket N (QEMU's bridge helper protocol). `request` creates what its KEY=VALUE words ask
    (bridge=, link=, mode=, mac=, queues=, vnet-hdr=, vhost=, protocol=, promisc=) and sends a
    `netfd/1` reply line with the descriptors. `release` deletes a macvtap netfd created for you.
    `check` validates the policy and explains a decision. Only root may choose another policy
    (--policy). See netfd-helper(8), netfd.policy(5).

    """
}

/// Writes `text` to a standard stream with write(2) (no stdio: no isatty ioctl, no buffering).
func emit(_ text: String, to stream: FileDescriptor) {
    try? stream.writeAll(text.utf8)
}

/// Ends the process with `status` at once: _exit(2), not exit(3). Nothing is buffered (all output
/// goes through write(2)), so the atexit handlers, C++ destructors and stdio flush of the
/// runtime and libc have nothing to do but fault in their code.
func finish(_ status: Int32) -> Never {
    _exit(status)
}

/// A native request's socket once it is known to be a connected unix stream socket: failures
/// before the request flow (a policy error, `--policy` from a user) are answered on it too, so a
/// client always gets its `netfd/1 error` line. The flow answers its own failures.
var nativeReplySocket: FileDescriptor?

/// Prints the one-line reason on stderr and exits with the failure's documented code.
func fail(_ failure: HelperFailure) -> Never {
    if let nativeReplySocket { try? UnixSocket(nativeReplySocket).send([], message: Array(NativeReply.error(failure).utf8)) }
    emit("netfd-helper: \(failure.message)\n", to: .standardError)
    finish(failure.exitCode)
}

// 1. Confine. Only constants are used here: argv, the environment and files are untouched.
#if NETFD_TEST_HOOKS
TestHook.load()   // test build only (Sources/netfd-helper-testhooks): NETFD_TEST_HOOK, read before it is cleared
#endif
ProcessHygiene.clearEnvironment()
if geteuid() != getuid() || getegid() != getgid() {
    fail(.confinement("refusing to run setuid or setgid; install with file capabilities: setcap cap_net_admin,cap_setpcap=ep"))
}
// What any request kind may need stays permitted (file capabilities decide which of them the
// helper has); only CAP_NET_ADMIN stays effective until a native request lowers the sets to its kind.
let heldCapabilities: CapabilitySet
do throws(Errno) {
    heldCapabilities = try Confinement.limitCapabilities(to: DeviceRequestFlow.capabilitiesForAnyKind, effective: .netAdmin)
    try Confinement.forbidNewPrivileges()
} catch {
    fail(.confinement("could not drop privileges: \(error) (the bounding set can only be emptied with cap_setpcap: setcap cap_net_admin,cap_setpcap=ep)"))
}
let holdsNetAdmin = heldCapabilities.contains(.netAdmin)
do throws(SyscallFilterError) {
    try Confinement.installSyscallFilter(program: CompiledSyscallFilter.program)
} catch {
    fail(.confinement("could not install the syscall filter: \(error)"))
}
#if NETFD_TEST_HOOKS
TestHook.reach("confined")
#endif

// 2. Parse the command line (pure Swift, no syscalls).
// The raw bytes the C library passed, not CommandLine.arguments, which silently repairs invalid
// UTF-8 (and does not exist in the embedded build).
var argumentCount: Int32 = 0
let argumentVector = netfd_startup_arguments(&argumentCount)
let command: HelperCommand
do throws(HelperFailure) {
    command = try HelperCommand.parse(try HelperCommand.decodeArguments(argv: argumentVector, count: Int(argumentCount)))
} catch { fail(error) }

switch command {
case .help: emit(usage(), to: .standardOutput); finish(0)
case .version: emit(version + "\n", to: .standardOutput); finish(0)
default: break
}

// 3. Who is asking (the kernel's word), and what the policy says.
let credentials: ProcessCredentials
do throws(Errno) { credentials = try ProcessCredentials.current() } catch { fail(.confinement("could not read credentials: \(error)")) }
let caller = Identity(uid: credentials.uid, gid: credentials.gid, supplementaryGroups: credentials.supplementaryGroups)
let users = SystemUserDirectory()   // /etc/passwd and /etc/group are read only if a name is needed

/// The helper as the caller invoked it (argv[0]), for setcap hints.
func helperPath() -> String {
    argumentCount > 0 ? String(cString: argumentVector[0]!) : "netfd-helper"
}

/// How a refusal names the caller; the user database is read only then.
func callerName() -> String {
    users.userName(forID: caller.uid).map { "user \($0) (uid \(caller.uid))" } ?? "uid \(caller.uid)"
}

/// Closes every inherited descriptor but the standard streams and `socket`, or fails.
func closeInheritedDescriptors(keeping socket: Int32?) {
    do throws(Errno) {
        try ProcessHygiene.closeInheritedDescriptors(keeping: socket.map { FileDescriptor(rawValue: $0) })
    } catch {
        fail(.confinement("could not close inherited descriptors: \(error)"))
    }
}

/// Keeps CAP_NET_ADMIN alone, effective and permitted (the bridge-helper form and `release`
/// need nothing else), or fails naming the setcap line that would give it.
func keepOnlyNetAdmin(setcapHint capabilities: String) {
    guard holdsNetAdmin else {
        fail(.confinement("missing CAP_NET_ADMIN; install the helper with: setcap \(capabilities)=ep \(quoted(helperPath()))"))
    }
    guard heldCapabilities != .netAdmin else { return }
    do throws(Errno) { try Confinement.setCapabilities(effective: .netAdmin, permitted: .netAdmin) } catch {
        fail(.confinement("could not lower capabilities: \(error)"))
    }
}

/// The kernel operations of a request, on a fresh rtnetlink socket, or fails.
func openKernel() -> LinuxTapKernel {
    do throws(Errno) { return try LinuxTapKernel() } catch { fail(.kernel("could not open rtnetlink: \(error)")) }
}

/// Loads the policy at `path` (default unless root chose another), or fails with its file:line:col.
func loadPolicy(_ path: String?) -> Policy {
    if path != nil && caller.uid != 0 { fail(.usage("only root may choose the policy file (--policy)")) }
    do throws(PolicyError) {
        return try PolicyLoader(fileSystem: LinuxPolicyFileSystem(), users: users).load(path: path ?? defaultPolicyPath)
    } catch {
        fail(.policy("policy error: \(error)"))
    }
}

/// The policy a request is decided by: its compiled form while that is current (netfd-policy(8):
/// only the rules that can match are read), else the text, loaded as `check` loads it.
func requestPolicy(_ path: String?) -> any PolicyDecider {
    if path != nil && caller.uid != 0 { fail(.usage("only root may choose the policy file (--policy)")) }
    let policyPath = path ?? defaultPolicyPath
    let compiled = try? CompiledPolicy.open(policyPath: policyPath, fileSystem: LinuxPolicyFileSystem()) { () throws(PolicyError) in
        try PolicyLoader(fileSystem: LinuxPolicyFileSystem(), users: users).load(path: policyPath)
    }
    return compiled ?? LoadedPolicy(loadPolicy(path))
}

switch command {
case .help, .version:
    break   // answered above, before any file was read
case .check(let arguments):
    closeInheritedDescriptors(keeping: nil)
    let policy = loadPolicy(arguments.policyPath)
    let policyPath = arguments.policyPath ?? defaultPolicyPath
    let compiled = Result { () throws(CompiledPolicy.Unusable) in
        try CompiledPolicy.open(policyPath: policyPath, fileSystem: LinuxPolicyFileSystem()) { () throws(PolicyError) in policy }
    }
    do throws(HelperFailure) {
        let report = try CheckReport.make(arguments, policy: policy, users: users, caller: caller,
                                          compiledForm: CheckReport.compiledFormLine(policyPath: policyPath, compiled))
        emit(report.text, to: .standardOutput)
        finish(report.exitCode)
    } catch {
        fail(error)
    }
case .bridgeHelper(let arguments):
    closeInheritedDescriptors(keeping: arguments.socket)
    keepOnlyNetAdmin(setcapHint: "cap_net_admin,cap_setpcap")
    let policy = requestPolicy(arguments.policyPath)
    #if NETFD_TEST_HOOKS
    TestHook.reach("policy-loaded")
    #endif
    // 4. Decide, create, configure, hand over; TapRequestFlow rolls back on any failure.
    let kernel = openKernel()
    do throws(HelperFailure) {
        _ = try TapRequestFlow(policy: policy, kernel: kernel, caller: caller, callerName: callerName()).serve(arguments)
    } catch {
        fail(error)
    }
case .request(let arguments):
    closeInheritedDescriptors(keeping: arguments.socket)
    let requestSocket = FileDescriptor(rawValue: arguments.socket)
    if UnixSocket.isUnixStream(requestSocket) && UnixSocket.isConnected(requestSocket) { nativeReplySocket = requestSocket }
    let policy = requestPolicy(arguments.policyPath)
    #if NETFD_TEST_HOOKS
    TestHook.reach("policy-loaded")
    #endif
    // 4. Decide, lower the capabilities to the kind's, create, hand over; DeviceRequestFlow rolls
    // back on any failure and answers `netfd/1 error ...` on the socket as well.
    let kernel = openKernel()
    nativeReplySocket = nil   // from here on the flow answers on the socket itself
    do throws(HelperFailure) {
        _ = try DeviceRequestFlow(policy: policy, kernel: kernel, caller: caller, callerName: callerName(),
                                  held: heldCapabilities, helperPath: helperPath()).serve(arguments)
    } catch {
        fail(error)
    }
case .release(let arguments):
    closeInheritedDescriptors(keeping: nil)
    keepOnlyNetAdmin(setcapHint: DeviceRequestFlow.fullCapabilities)
    let kernel = openKernel()
    do throws(HelperFailure) {
        try ReleaseCommand(kernel: kernel, caller: caller, callerName: callerName()).run(arguments)
    } catch {
        fail(error)
    }
}
finish(0)
