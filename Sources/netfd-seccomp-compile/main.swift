// netfd-seccomp-compile - build time only (run by SyscallFilterPlugin): compiles
// SyscallAllowList.helper with libseccomp and writes CompiledSyscallFilter.swift, the classic-BPF
// program netfd-helper loads with one seccomp(2) call. Never installed.
// syscalls: memfd_create, write, lseek, pread64, close (the export), openat, rename, uname
import Glibc
import NetFDCore
import NetFDSeccompCompiler
import NetFDSystem

let tool = "netfd-seccomp-compile"

/// Prints `message` as one line on stderr and exits 1.
func die(_ message: String) -> Never {
    let line = "\(tool): \(message)\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
    exit(1)
}

/// The machine name of the build host (uname -m), which the filter's architecture check matches.
func hostMachine() -> String {
    var name = utsname()
    guard uname(&name) == 0 else { return "unknown" }
    return withUnsafeBytes(of: &name.machine) { raw in
        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// The generated Swift source for `program`.
func swiftSource(_ program: [BPFInstruction]) -> String {
    """
    // Generated at build time by \(tool) (libseccomp \(SyscallFilterCompiler.libseccompVersion), \
    \(hostMachine())) from SyscallAllowList.helper. Do not edit.
    /// The helper's seccomp filter: allows SyscallAllowList.helper, kills the process
    /// (SECCOMP_RET_KILL_PROCESS) on any other syscall.
    enum CompiledSyscallFilter {
        /// The classic-BPF program, struct sock_filter[\(program.count)] as hex (16 hex digits per \
    instruction: code (4), jt (2), jf (2), k (8), most significant first), for \
    Confinement.installSyscallFilter(program:).
        static let program: StaticString = "\(SyscallFilterCompiler.hex(program))"
    }

    """
}

/// Writes `text` to `path` through a temporary file and rename(2), so a reader never sees half.
func writeFile(_ path: String, _ text: String) {
    let temporary = path + ".tmp"
    let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { die("cannot create \(temporary): \(Errno.current)") }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { die("cannot write \(temporary): \(Errno.current)") }
        bytes = bytes.dropFirst(n)
    }
    guard close(fd) == 0 else { die("cannot write \(temporary): \(Errno.current)") }
    guard rename(temporary, path) == 0 else { die("cannot rename \(temporary) to \(path): \(Errno.current)") }
}

guard CommandLine.arguments.count == 2, !CommandLine.arguments[1].hasPrefix("-") else {
    die("usage: \(tool) OUTPUT.swift")
}
let program: [BPFInstruction]
do {
    program = try SyscallFilterCompiler.compile(SyscallAllowList.helper)
} catch {
    die("\(error)")
}
writeFile(CommandLine.arguments[1], swiftSource(program))
