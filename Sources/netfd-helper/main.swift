// netfd-helper - creates a tap on a bridge for an unprivileged emulator, by policy, and hands it
// over a unix socket (QEMU's `-netdev bridge,helper=...` protocol). Installed with file
// capabilities, never setuid. The privileged flow, top to bottom:
//   1. confine (environment, capabilities, no_new_privs, seccomp) before anything the caller controls
//   2. parse the command line
//   3. close inherited descriptors, learn the caller from the kernel, load the policy (its
//      compiled form if current, else the text)
//   4. decide, create, configure, hand over (TapRequestFlow; rollback on every failure)
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
           netfd-helper check [--policy PATH] [--user U] [--group G]... [tap bridge NAME [--vnet-hdr]]
           netfd-helper --help | --version
    Creates a tap on BRIDGE for the calling user, if \(defaultPolicyPath) allows it, and sends it on
    the unix socket N (QEMU's bridge helper protocol). `check` validates the policy and explains a
    decision. Only root may choose another policy (--policy). See netfd-helper(8), netfd.policy(5).

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

/// Prints the one-line reason on stderr and exits with the failure's documented code.
func fail(_ failure: HelperFailure) -> Never {
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
let holdsNetAdmin: Bool
do throws(Errno) {
    holdsNetAdmin = try Confinement.limitCapabilities(to: .netAdmin) && Confinement.has(.netAdmin)
    try Confinement.forbidNewPrivileges()
} catch {
    fail(.confinement("could not drop privileges: \(error) (the bounding set can only be emptied with cap_setpcap: setcap cap_net_admin,cap_setpcap=ep)"))
}
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
    do throws(Errno) { try ProcessHygiene.closeInheritedDescriptors(keeping: nil) } catch { fail(.confinement("could not close inherited descriptors: \(error)")) }
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
    do throws(Errno) {
        try ProcessHygiene.closeInheritedDescriptors(keeping: FileDescriptor(rawValue: arguments.socket))
    } catch {
        fail(.confinement("could not close inherited descriptors: \(error)"))
    }
    guard holdsNetAdmin else {
        fail(.confinement("missing CAP_NET_ADMIN; install the helper with: setcap cap_net_admin,cap_setpcap=ep \(quoted(argumentCount > 0 ? String(cString: argumentVector[0]!) : "netfd-helper"))"))
    }
    let policy = requestPolicy(arguments.policyPath)
    #if NETFD_TEST_HOOKS
    TestHook.reach("policy-loaded")
    #endif
    // 4. Decide, create, configure, hand over; TapRequestFlow rolls back on any failure.
    /// How a refusal names the caller; the user database is read only then.
    func callerName() -> String {
        users.userName(forID: caller.uid).map { "user \($0) (uid \(caller.uid))" } ?? "uid \(caller.uid)"
    }
    let kernel: LinuxTapKernel
    do throws(Errno) { kernel = try LinuxTapKernel() } catch { fail(.kernel("could not open rtnetlink: \(error)")) }
    do throws(HelperFailure) {
        _ = try TapRequestFlow(policy: policy, kernel: kernel, caller: caller, callerName: callerName()).serve(arguments)
    } catch {
        fail(error)
    }
}
finish(0)
