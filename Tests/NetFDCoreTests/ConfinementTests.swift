// ConfinementTests.swift - the syscall allow-list resolves, its compiled seccomp program decides
// as the allow-list says (run through a classic-BPF interpreter, never loaded here), the program's
// hex text round-trips and malformed text is refused; and SCM_RIGHTS edge cases.
import CNetFD
import Glibc
@testable import NetFDCore
import NetFDSeccompCompiler
import NetFDSystem
import XCTest

final class ConfinementTests: XCTestCase {
    func testEveryAllowedSyscallIsKnownToLibseccomp() {
        for rule in SyscallAllowList.helper {
            XCTAssertNotNil(SyscallFilterCompiler.syscallNumber(rule.name), rule.name)
            XCTAssertFalse(rule.reason.isEmpty, rule.name)
        }
        // Never allowed: what would let a confined helper escape or run other code.
        let names = Set(SyscallAllowList.helper.map(\.name))
        for forbidden in ["execve", "execveat", "ptrace", "setns", "unshare", "clone3", "fork", "vfork", "mount", "connect"] {
            XCTAssertFalse(names.contains(forbidden), forbidden)
        }
        // clone only as glibc's fork (the macvtap guard): never a thread or a new namespace.
        let clones = SyscallAllowList.helper.filter { $0.name == "clone" }
        XCTAssertEqual(clones.count, 1)
        XCTAssertEqual(clones.first?.arguments.map { $0.index }, [0])
    }

    func testReceiveRefusesMoreThanOneDescriptor() throws {
        let (a, b) = try UnixSocket.pair()
        defer { a.close(); b.close() }
        try a.send(FileDescriptor.standardError, byte: 7)
        let got = try XCTUnwrap(try b.receive())
        XCTAssertEqual(got.byte, 7)
        let fd = try XCTUnwrap(got.descriptor)
        XCTAssertNotEqual(fd.rawValue, 2)
        XCTAssertTrue(fd.isOpen)
        fd.close()
        // A byte without a descriptor, then end of stream.
        try a.descriptor.writeAll([9])
        let plain = try XCTUnwrap(try b.receive())
        XCTAssertEqual(plain.byte, 9)
        XCTAssertNil(plain.descriptor)
        a.close()
        XCTAssertNil(try b.receive())
    }

    func testOnlyUnixStreamSocketsQualify() throws {
        let (a, b) = try UnixSocket.pair()
        defer { a.close(); b.close() }
        XCTAssertTrue(UnixSocket.isUnixStream(a.descriptor))
        let datagram = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { Glibc.close(datagram) }
        XCTAssertFalse(UnixSocket.isUnixStream(FileDescriptor(rawValue: datagram)))
        XCTAssertFalse(UnixSocket.isUnixStream(FileDescriptor(rawValue: 999)))
    }
}

/// The helper's seccomp program as netfd-seccomp-compile generates it, checked without loading it:
/// run through `ClassicBPF` for syscalls the allow-list names and ones it does not.
final class SyscallFilterProgramTests: XCTestCase {
    static let retAllow: UInt32 = 0x7fff_0000        // SECCOMP_RET_ALLOW
    static let retKillProcess: UInt32 = 0x8000_0000  // SECCOMP_RET_KILL_PROCESS
    static let retKillThread: UInt32 = 0x0000_0000   // SECCOMP_RET_KILL_THREAD
    static let auditArchI386: UInt32 = 0x4000_0003
    static let x32SyscallBit: Int32 = 0x4000_0000

    /// AUDIT_ARCH_* of the architecture the tests (and so libseccomp's native filter) run on.
    static var nativeArch: UInt32? {
        #if arch(x86_64)
        return 0xc000_003e
        #elseif arch(arm64)
        return 0xc000_00b7
        #else
        return nil
        #endif
    }

    private var program: [BPFInstruction] = []
    private var arch: UInt32 = 0

    override func setUpWithError() throws {
        arch = try XCTUnwrap(Self.nativeArch, "no AUDIT_ARCH known for this architecture")
        program = try SyscallFilterCompiler.compile(SyscallAllowList.helper)
    }

    /// The syscall number of `name` (libseccomp's table), failing the test if unknown.
    private func nr(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int32 {
        try XCTUnwrap(SyscallFilterCompiler.syscallNumber(name), "\(name) unknown", file: file, line: line)
    }

    /// The program's verdict for syscall `nr` with `args` (missing ones are 0) on `arch`.
    private func verdict(_ nr: Int32, _ args: [UInt64] = [], arch: UInt32? = nil,
                         file: StaticString = #filePath, line: UInt = #line) throws -> UInt32 {
        let data = ClassicBPF.SeccompData(nr: nr, arch: arch ?? self.arch, instructionPointer: 0x4000_1000,
                                          args: args + Array(repeating: 0, count: 6 - args.count))
        switch ClassicBPF.run(program, on: data) {
        case .success(let value): return value
        case .failure(let failure):
            XCTFail("\(failure)", file: file, line: line)
            throw failure
        }
    }

    /// The kernel's action cache stops emulating the filter at its first instruction, a load of
    /// neither `nr` nor `arch`; and that load changes no verdict, because the next one overwrites it.
    func testActionCacheGivesUpAtTheFirstInstructionWithoutChangingAVerdict() throws {
        let loadWord = ClassicBPF.ld | ClassicBPF.w | ClassicBPF.abs
        XCTAssertEqual(program.first, SyscallFilterCompiler.actionCacheOptOut)
        XCTAssertEqual(program.first?.code, loadWord)
        XCTAssertFalse([0, 4].contains(program.first?.k ?? 0), "nr and arch are what the cache can evaluate")
        XCTAssertEqual(program.dropFirst().first?.code, loadWord, "the next instruction must load again")
        let withoutPrefix = Array(program.dropFirst())
        for nr in Int32(0)..<512 {
            for instructionPointer: UInt64 in [0, 0x4000_1000, 0xffff_ffff_ffff_fff0] {
                let data = ClassicBPF.SeccompData(nr: nr, arch: arch, instructionPointer: instructionPointer,
                                                  args: [3, UInt64(netfd_AF_NETLINK), 0, 0, 0, 0])
                let with = try ClassicBPF.run(program, on: data).get(), without = try ClassicBPF.run(withoutPrefix, on: data).get()
                XCTAssertEqual(with, without, "nr \(nr)")
            }
        }
    }

    func testEveryRuleIsAllowedWithItsArguments() throws {
        for rule in SyscallAllowList.helper {
            var args = [UInt64](repeating: 0, count: 6)
            for argument in rule.arguments { args[Int(argument.index)] = argument.value }
            XCTAssertEqual(try verdict(try nr(rule.name), args), Self.retAllow, rule.name)
            // Arguments no comparison names do not matter.
            for index in 0..<6 where !rule.arguments.contains(where: { $0.index == index }) {
                args[index] = 0xdead_beef_0bad_f00d
            }
            XCTAssertEqual(try verdict(try nr(rule.name), args), Self.retAllow, "\(rule.name) with other arguments")
        }
    }

    func testSyscallsOutsideTheListKillTheProcess() throws {
        for name in ["getppid", "execve", "execveat", "ptrace", "clone3", "unshare", "setns", "mount", "connect", "listen", "accept4"] {
            XCTAssertEqual(try verdict(try nr(name)), Self.retKillProcess, name)
        }
    }

    /// The guard's fork is the only clone: thread, namespace and vfork flags kill.
    func testCloneOnlyWithForkFlags() throws {
        let clone = try nr("clone")
        let fork = UInt64(netfd_FORK_CLONE_FLAGS)
        XCTAssertEqual(try verdict(clone, [fork]), Self.retAllow)
        let CLONE_VM: UInt64 = 0x100, CLONE_THREAD: UInt64 = 0x10000, CLONE_NEWNET: UInt64 = 0x4000_0000, CLONE_NEWUSER: UInt64 = 0x1000_0000
        for flags in [fork | CLONE_VM, fork | CLONE_THREAD | CLONE_VM, fork | CLONE_NEWNET, fork | CLONE_NEWUSER, 17 /* SIGCHLD: plain fork */, 0] {
            XCTAssertEqual(try verdict(clone, [flags]), Self.retKillProcess, "clone flags \(String(flags, radix: 16))")
        }
    }

    func testIoctlOnlyForTheListedRequests() throws {
        let ioctl = try nr("ioctl")
        let listed = SyscallAllowList.helper.filter { $0.name == "ioctl" }.compactMap { rule in
            rule.arguments.first { $0.index == 1 }?.value
        }
        XCTAssertEqual(listed.count, SyscallAllowList.helper.filter { $0.name == "ioctl" }.count, "an ioctl rule without a request")
        for tun in [netfd_ioctl_TUNSETIFF, netfd_ioctl_TUNGETFEATURES, netfd_ioctl_TUNSETOWNER, netfd_ioctl_TUNSETGROUP] {
            XCTAssertTrue(listed.contains(UInt64(tun)), "tun ioctl \(tun)")
        }
        for request in listed {
            XCTAssertEqual(try verdict(ioctl, [3, request]), Self.retAllow, "ioctl \(request)")
            // The whole 64-bit value is compared, not its low half.
            XCTAssertEqual(try verdict(ioctl, [3, request | 1 << 32]), Self.retKillProcess, "ioctl \(request) | 1<<32")
        }
        // Renaming a link, removing a bridge port, ethtool and deleting a bridge are never needed.
        let neverNeeded: [UInt64] = [0x8923 /* SIOCSIFNAME */, 0x89a3 /* SIOCBRDELIF */, 0x8946 /* SIOCETHTOOL */, 0x89a1 /* SIOCBRDELBR */]
        for request in [UInt64(netfd_ioctl_TUNGETIFF), UInt64(netfd_ioctl_FIONREAD), 0x5401 /* TCGETS */, 0] + neverNeeded {
            XCTAssertFalse(listed.contains(request))
            XCTAssertEqual(try verdict(ioctl, [3, request]), Self.retKillProcess, "ioctl \(request)")
        }
    }

    func testSocketOnlyForRouteNetlinkAndPacket() throws {
        let socket = try nr("socket")
        let netlink = UInt64(netfd_AF_NETLINK), route = UInt64(netfd_NETLINK_ROUTE)
        let raw = UInt64(SOCK_RAW.rawValue), cloexec = UInt64(SOCK_CLOEXEC.rawValue)
        XCTAssertEqual(try verdict(socket, [netlink, raw, route]), Self.retAllow)
        XCTAssertEqual(try verdict(socket, [netlink, raw | cloexec, route]), Self.retAllow)
        XCTAssertEqual(try verdict(socket, [UInt64(AF_INET), UInt64(SOCK_STREAM.rawValue), 0]), Self.retKillProcess)
        XCTAssertEqual(try verdict(socket, [UInt64(AF_INET), raw, route]), Self.retKillProcess)
        XCTAssertEqual(try verdict(socket, [netlink, raw, 16 /* NETLINK_GENERIC */]), Self.retKillProcess)
        // Packet sockets (kind=raw): SOCK_RAW|SOCK_CLOEXEC and protocol 0 exactly; never datagram or inherited.
        let packet = UInt64(AF_PACKET)
        XCTAssertEqual(try verdict(socket, [packet, raw | cloexec, 0]), Self.retAllow)
        XCTAssertEqual(try verdict(socket, [packet, raw | cloexec, 0x0300]), Self.retKillProcess, "a protocol before bind would queue frames of every link")
        XCTAssertEqual(try verdict(socket, [packet, raw, 0]), Self.retKillProcess)
        XCTAssertEqual(try verdict(socket, [packet, UInt64(SOCK_DGRAM.rawValue) | cloexec, 0]), Self.retKillProcess)
    }

    func testOtherArchitecturesAndX32AreKilled() throws {
        // libseccomp's default bad-architecture action is SECCOMP_RET_KILL_THREAD; either kill will do.
        let kills: Set<UInt32> = [Self.retKillProcess, Self.retKillThread]
        for name in ["read", "write", "openat", "ioctl", "socket"] {
            let args: [UInt64] = name == "ioctl" ? [3, UInt64(netfd_ioctl_TUNSETIFF)] : []
            XCTAssertTrue(kills.contains(try verdict(try nr(name), args, arch: Self.auditArchI386)), "i386 \(name)")
            XCTAssertTrue(kills.contains(try verdict(try nr(name), args, arch: 0)), "arch 0 \(name)")
            #if arch(x86_64)
            XCTAssertTrue(kills.contains(try verdict(try nr(name) | Self.x32SyscallBit, args)), "x32 \(name)")
            #endif
        }
    }

    func testProgramUsesOnlyTheInterpretedInstructionsAndFitsTheKernel() {
        XCTAssertFalse(program.isEmpty)
        XCTAssertLessThanOrEqual(program.count, Int(NETFD_BPF_MAXINSNS))
        // The interpreter refuses an unknown opcode only when it reaches it: check every one here.
        for (pc, instruction) in program.enumerated() {
            XCTAssertTrue(ClassicBPF.supports(instruction), "opcode 0x\(String(instruction.code, radix: 16)) at \(pc)")
        }
    }

    func testCompilerRefusesBadRules() {
        XCTAssertThrowsError(try SyscallFilterCompiler.compile([SyscallRule("no_such_syscall", reason: "test")])) {
            XCTAssertEqual($0 as? SyscallFilterCompileError, .unknownSyscall("no_such_syscall"))
        }
        let four = SyscallRule("socket", [(0, 1), (1, 2), (2, 3), (3, 4)], reason: "test")
        XCTAssertThrowsError(try SyscallFilterCompiler.compile([SyscallRule("read", reason: "test"), four])) {
            XCTAssertEqual($0 as? SyscallFilterCompileError, .invalidRule("socket", Errno(E2BIG)))
        }
    }

    // --- the program's text: netfd-seccomp-compile's encoder, CNetFD's decoder ---------------

    /// netfd_seccomp_decode_program on `text`: the instructions, or the negative errno.
    private func decode(_ text: String, capacity: Int = Int(NETFD_BPF_MAXINSNS)) -> Result<[BPFInstruction], Errno> {
        var buffer = [netfd_bpf_insn](repeating: netfd_bpf_insn(), count: capacity)
        let bytes = Array(text.utf8)
        let count = bytes.withUnsafeBufferPointer { text in
            buffer.withUnsafeMutableBufferPointer { out in
                text.withMemoryRebound(to: CChar.self) {
                    netfd_seccomp_decode_program($0.baseAddress, $0.count, out.baseAddress, out.count)
                }
            }
        }
        guard count >= 0 else { return .failure(Errno(-count)) }
        return .success(buffer.prefix(Int(count)).map { BPFInstruction(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) })
    }

    func testHexTextRoundTrips() throws {
        let known = [
            BPFInstruction(code: 0x0020, jt: 0, jf: 0, k: 4),
            BPFInstruction(code: 0x0015, jt: 0x01, jf: 0xfe, k: 0xc000_003e),
            BPFInstruction(code: 0xffff, jt: 0xff, jf: 0xff, k: 0xffff_ffff),
            BPFInstruction(code: 0x0006, jt: 0, jf: 0, k: 0x7fff_0000),
        ]
        let text = SyscallFilterCompiler.hex(known)
        XCTAssertEqual(text, "0020000000000004" + "001501fec000003e" + "ffffffffffffffff" + "000600007fff0000")
        XCTAssertEqual(try decode(text).get(), known)

        let compiled = SyscallFilterCompiler.hex(program)
        XCTAssertEqual(compiled.utf8.count, program.count * SyscallFilterCompiler.hexDigitsPerInstruction)
        XCTAssertTrue(compiled.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        XCTAssertEqual(try decode(compiled).get(), program)
        // The longest program the kernel takes decodes; one more instruction does not.
        let allow = "000600007fff0000"
        XCTAssertEqual(try decode(String(repeating: allow, count: Int(NETFD_BPF_MAXINSNS))).get().count, Int(NETFD_BPF_MAXINSNS))
        XCTAssertEqual(decode(String(repeating: allow, count: Int(NETFD_BPF_MAXINSNS) + 1), capacity: Int(NETFD_BPF_MAXINSNS) + 1),
                       .failure(Errno(EINVAL)))
        XCTAssertEqual(decode(allow + allow, capacity: 1), .failure(Errno(EINVAL)))
    }

    /// What the plugin compiled into this test target is what the compiler produces now.
    func testGeneratedFileHoldsTheCompiledAllowList() throws {
        let generated = CompiledSyscallFilter.program.withUTF8Buffer { String(decoding: $0, as: UTF8.self) }
        XCTAssertEqual(generated, SyscallFilterCompiler.hex(program))
        XCTAssertEqual(try decode(generated).get(), program)
    }

    /// Malformed text, each refused by the decoder and by the loader with EINVAL before any
    /// syscall. Every candidate is built from SECCOMP_RET_ALLOW instructions, so even a loader bug
    /// could not kill this process; a too-long one would also be refused by the kernel.
    func testLoaderRefusesMalformedText() {
        // Compared with the state before, not with "0": CI may run the tests under a filter of its own.
        let filtersBefore = statusField("Seccomp_filters")
        let allow = "000600007fff0000"
        let malformed: [(String, String)] = [
            ("empty", ""),
            ("odd length", allow + "0"),
            ("not a whole instruction", allow + "00060000"),
            ("non-hex digit", "000600007fff000g"),
            ("upper-case digit", "000600007FFF0000"),
            ("space", allow + " " + String(allow.dropFirst())),
            ("NUL", "000600007fff\u{0}000"),
            ("too long", String(repeating: allow, count: Int(NETFD_BPF_MAXINSNS) + 1)),
        ]
        for (what, text) in malformed {
            XCTAssertEqual(decode(text, capacity: Int(NETFD_BPF_MAXINSNS) + 1), .failure(Errno(EINVAL)), what)
            let bytes = Array(text.utf8)
            let result = bytes.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { netfd_seccomp_load_program($0.baseAddress, $0.count) }
            }
            XCTAssertEqual(result, -EINVAL, what)
        }
        XCTAssertEqual(netfd_seccomp_load_program(nil, 16), -EINVAL, "NULL")
        XCTAssertNotNil(filtersBefore, "/proc/self/status has no Seccomp_filters field")
        XCTAssertEqual(statusField("Seccomp_filters"), filtersBefore, "a filter was loaded into the test process")
    }

    /// A field of /proc/self/status (e.g. Seccomp_filters, the number of filters this process runs
    /// under), without its whitespace, or nil if absent or unreadable.
    private func statusField(_ field: String) -> String? {
        guard let file = fopen("/proc/self/status", "r") else { return nil }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let text = line.map({ String(cString: $0) }) {
            if text.hasPrefix(field + ":") {
                return String(text.dropFirst(field.count + 1).filter { !$0.isWhitespace })
            }
        }
        return nil
    }
}

/// A classic-BPF interpreter for seccomp programs: the instructions libseccomp emits, with the
/// kernel's checks on loads; anything else is a failure rather than a guess.
enum ClassicBPF {
    /// struct seccomp_data: nr at 0, arch at 4, instruction_pointer at 8, args at 16 + 8 * i,
    /// little-endian (the layout on every architecture the tests run on).
    struct SeccompData {
        var nr: Int32
        var arch: UInt32
        var instructionPointer: UInt64
        var args: [UInt64]   // 6

        static let size: UInt32 = 64

        /// The 32-bit word at byte `offset`, which must be 4-aligned and inside the struct.
        func word(at offset: UInt32) -> UInt32? {
            guard offset % 4 == 0, offset < Self.size else { return nil }
            let half = { (value: UInt64) in offset % 8 == 0 ? UInt32(truncatingIfNeeded: value) : UInt32(truncatingIfNeeded: value >> 32) }
            switch offset {
            case 0: return UInt32(bitPattern: nr)
            case 4: return arch
            case 8, 12: return half(instructionPointer)
            default: return half(args[Int(offset - 16) / 8])
            }
        }
    }

    /// Why a program could not be run: an opcode or operand the kernel (or this interpreter) refuses.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    // Instruction classes, sizes, modes, operations and sources (linux/bpf_common.h).
    static let ld: UInt16 = 0x00, ldx: UInt16 = 0x01, st: UInt16 = 0x02, stx: UInt16 = 0x03
    static let alu: UInt16 = 0x04, jmp: UInt16 = 0x05, ret: UInt16 = 0x06
    static let w: UInt16 = 0x00, imm: UInt16 = 0x00, abs: UInt16 = 0x20, mem: UInt16 = 0x60
    static let k: UInt16 = 0x00, x: UInt16 = 0x08
    static let add: UInt16 = 0x00, sub: UInt16 = 0x10, and: UInt16 = 0x50, or: UInt16 = 0x40
    static let xor: UInt16 = 0xa0, lsh: UInt16 = 0x60, rsh: UInt16 = 0x70
    static let ja: UInt16 = 0x00, jeq: UInt16 = 0x10, jgt: UInt16 = 0x20, jge: UInt16 = 0x30, jset: UInt16 = 0x40

    /// Whether `run` implements `instruction`'s opcode.
    static func supports(_ instruction: BPFInstruction) -> Bool {
        let code = instruction.code
        switch code {
        case ld | w | abs, ld | w | imm, ld | w | mem, ldx | w | imm, ldx | w | mem, st, stx: return true
        case ret | k: return true
        case jmp | ja, jmp | jeq | k, jmp | jgt | k, jmp | jge | k, jmp | jset | k: return true
        default:
            return code & 0x07 == alu && code & x == k && [add, sub, and, or, xor, lsh, rsh].contains(code & 0xf0)
        }
    }

    /// Runs `program` on `data` and returns the value of the BPF_RET it reaches.
    static func run(_ program: [BPFInstruction], on data: SeccompData) -> Result<UInt32, Failure> {
        var a: UInt32 = 0, xr: UInt32 = 0
        var scratch = [UInt32](repeating: 0, count: 16)   // BPF_MEMWORDS
        var pc = 0
        while pc < program.count {
            let instruction = program[pc]
            let code = instruction.code, value = instruction.k
            guard supports(instruction) else {
                return .failure(Failure(description: "unsupported opcode 0x\(String(code, radix: 16)) at \(pc)"))
            }
            pc += 1
            switch code & 0x07 {
            case ld where code & 0xe0 == abs:
                guard let word = data.word(at: value) else {
                    return .failure(Failure(description: "load of seccomp_data offset \(value) at \(pc - 1)"))
                }
                a = word
            case ld, ldx, st, stx:
                let isMemory = code & 0xe0 == mem || code & 0x07 == st || code & 0x07 == stx
                guard !isMemory || value < 16 else { return .failure(Failure(description: "scratch slot \(value) at \(pc - 1)")) }
                switch code & 0x07 {
                case ld: a = code & 0xe0 == mem ? scratch[Int(value)] : value
                case ldx: xr = code & 0xe0 == mem ? scratch[Int(value)] : value
                case st: scratch[Int(value)] = a
                default: scratch[Int(value)] = xr
                }
            case alu:
                switch code & 0xf0 {
                case add: a = a &+ value
                case sub: a = a &- value
                case and: a &= value
                case or: a |= value
                case xor: a ^= value
                case lsh: a = value < 32 ? a << value : 0
                default: a = value < 32 ? a >> value : 0
                }
            case jmp:
                let taken: Bool
                switch code & 0xf0 {
                case ja:
                    pc += Int(value)
                    guard pc < program.count else { return .failure(Failure(description: "BPF_JA out of the program")) }
                    continue
                case jeq: taken = a == value
                case jgt: taken = a > value
                case jge: taken = a >= value
                default: taken = a & value != 0
                }
                pc += Int(taken ? instruction.jt : instruction.jf)
            default:   // ret | k
                return .success(value)
            }
        }
        return .failure(Failure(description: "fell off the end of the program"))
    }
}
