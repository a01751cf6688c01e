// SyscallFilterCompiler.swift - build time only: syscall rules compiled to a classic-BPF seccomp
// program by libseccomp, and the program's hex text for the generated CompiledSyscallFilter.swift.
// Used by netfd-seccomp-compile and the tests; never linked into netfd-helper.
// syscalls: memfd_create, write, pread64, lseek, close (in CSeccompCompiler; nothing is loaded)
import CSeccompCompiler
import Glibc
import NetFDSystem

/// One classic-BPF instruction (struct sock_filter).
public struct BPFInstruction: Equatable, Sendable {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    /// The instruction with opcode `code`, jump offsets `jt` (true) and `jf` (false) and operand `k`.
    public init(code: UInt16, jt: UInt8, jf: UInt8, k: UInt32) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }
}

/// Why the allow-list could not be compiled.
public enum SyscallFilterCompileError: Error, Equatable, CustomStringConvertible {
    /// libseccomp cannot resolve this syscall name on this architecture.
    case unknownSyscall(String)
    /// The rule for this syscall has more than two argument comparisons, or libseccomp refused it.
    case invalidRule(String, Errno)
    /// libseccomp failed to build or export the program.
    case libseccomp(Errno)

    public var description: String {
        switch self {
        case .unknownSyscall(let name):
            return "syscall \(name) is unknown to libseccomp \(SyscallFilterCompiler.libseccompVersion)"
        case .invalidRule(let name, let errno): return "the rule for \(name) is invalid: \(errno)"
        case .libseccomp(let errno): return "libseccomp could not generate the filter: \(errno)"
        }
    }
}

/// libseccomp, used at build time to turn syscall rules into the program the helper loads.
public enum SyscallFilterCompiler {
    /// Hex digits per instruction in the program text: code (4), jt (2), jf (2), k (8).
    public static let hexDigitsPerInstruction = 16

    /// Compiles a filter that allows exactly `rules` (every argument comparison must hold) and
    /// kills the process (SECCOMP_RET_KILL_PROCESS) on any other syscall, for this architecture,
    /// with libseccomp's default attributes, behind `actionCacheOptOut`. Loads nothing into this
    /// process.
    /// - Throws: `.unknownSyscall` for a name libseccomp cannot resolve, `.invalidRule` for a rule
    ///   with more than two comparisons or one libseccomp refuses, `.libseccomp` otherwise.
    public static func compile(_ rules: [SyscallRule]) throws(SyscallFilterCompileError) -> [BPFInstruction] {
        // strdup'd names stay valid for the whole call; freed after it.
        let names = rules.map { strdup($0.name)! }
        defer { names.forEach { free($0) } }
        var cRules: [netfd_syscall_rule] = []
        cRules.reserveCapacity(rules.count)
        for (rule, name) in zip(rules, names) {
            var c = netfd_syscall_rule()
            c.name = UnsafePointer(name)
            c.cmp_count = Int32(rule.arguments.count)   // more than 3: refused by the C side, by index
            withUnsafeMutableBytes(of: &c.cmp) { raw in
                let slots = raw.bindMemory(to: netfd_arg_cmp.self)
                for (i, arg) in rule.arguments.prefix(slots.count).enumerated() {
                    slots[i] = netfd_arg_cmp(arg: arg.index, op: Int32(NETFD_CMP_EQ), mask: 0, value: arg.value)
                }
            }
            cRules.append(c)
        }
        let capacity = Int(NETFD_BPF_MAX_INSTRUCTIONS) * Int(NETFD_BPF_INSTRUCTION_SIZE)
        var bytes = [UInt8](repeating: 0, count: capacity)
        var bad: Int32 = -1
        let size = bytes.withUnsafeMutableBytes { buffer in
            netfd_seccomp_compile(cRules, Int32(cRules.count), buffer.baseAddress, buffer.count, &bad)
        }
        if size < 0 {
            let errno = Errno(-size)
            guard bad >= 0, Int(bad) < rules.count else { throw .libseccomp(errno) }
            if size == -ENOSYS { throw .unknownSyscall(rules[Int(bad)].name) }
            throw .invalidRule(rules[Int(bad)].name, errno)
        }
        let generated = stride(from: 0, to: Int(size), by: Int(NETFD_BPF_INSTRUCTION_SIZE)).map { offset in
            bytes.withUnsafeBytes { raw in
                BPFInstruction(code: raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self),
                               jt: raw[offset + 2], jf: raw[offset + 3],
                               k: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
            }
        }
        // libseccomp's program starts by loading `arch`, which overwrites what the prefix loaded.
        guard generated.count < Int(NETFD_BPF_MAX_INSTRUCTIONS), generated.first?.code == bpfLoadWordAbsolute else {
            throw .libseccomp(Errno(EINVAL))
        }
        return [actionCacheOptOut] + generated
    }

    /// BPF_LD | BPF_W | BPF_ABS: load a 32-bit word of struct seccomp_data.
    public static let bpfLoadWordAbsolute: UInt16 = 0x20

    /// The first instruction of every program: a load of the low half of `instruction_pointer`
    /// (offset 8 of struct seccomp_data), whose value the next instruction overwrites, so it
    /// changes no verdict. It is for the kernel's action cache (seccomp_cache_prepare, Linux 5.11+):
    /// when a filter is installed, the kernel emulates it for every syscall number of both
    /// architectures (about 900) to find those it always allows, and stops at the first load of a
    /// field other than `nr` or `arch`. Here that is the first instruction, instead of about a dozen
    /// steps into the tree: seccomp(2) takes some 25 µs less (README, Performance). The price is
    /// that the filter runs for each of the helper's few later syscalls, some ns each, which is
    /// what a cache miss costs anyway.
    public static let actionCacheOptOut = BPFInstruction(code: bpfLoadWordAbsolute, jt: 0, jf: 0, k: 8)

    /// The program as text: per instruction, code (4 digits), jt (2), jf (2) and k (8) in
    /// lowercase hex, most significant digit first, with no separators; what
    /// netfd_seccomp_decode_program (CNetFD) reads back.
    public static func hex(_ program: [BPFInstruction]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(program.count * hexDigitsPerInstruction)
        for instruction in program {
            let word = UInt64(instruction.code) << 48 | UInt64(instruction.jt) << 40
                | UInt64(instruction.jf) << 32 | UInt64(instruction.k)
            for shift in stride(from: 60, through: 0, by: -4) {
                text.append(digits[Int(word >> UInt64(shift) & 0xf)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The syscall number libseccomp resolves `name` to on this architecture, if any.
    public static func syscallNumber(_ name: String) -> Int32? {
        let nr = netfd_seccomp_syscall_number(name)
        return nr >= 0 ? nr : nil
    }

    /// The version of the libseccomp in use, e.g. "2.5.4".
    public static var libseccompVersion: String {
        var major: UInt32 = 0, minor: UInt32 = 0, micro: UInt32 = 0
        netfd_seccomp_library_version(&major, &minor, &micro)
        return "\(major).\(minor).\(micro)"
    }
}
