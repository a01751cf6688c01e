// HostileCases.swift - the hostile inputs HostileInputTests throws at the real helper, as data.
// Each case is one helper run: who runs it, the raw argv, the files it needs, the descriptors it
// inherits, and the exact refusal expected (exit status and the one stderr line). The token
// @CASE@ stands for the case's own root-owned directory and is replaced in arguments, file
// contents, symlink targets and expected messages.
//
// Every expected message was derived from the source (HelperCommand, TapRequestFlow, Loader,
// Parser, Lexer, Glob, InterfaceName) and checked against the helper. Cases whose expectation is
// what the documentation promises but the helper does not do yet are listed in
// `HostileCases.knownBugs` (empty now).
import Foundation
import Glibc

/// What a hostile case is about; the suite reports counts per category.
enum HostileCategory: String, CaseIterable, Sendable {
    case commandLine = "command line options"
    case descriptor = "--fd descriptors"
    case bridgeName = "--br names"
    case policyFile = "policy files"
    case checkCommand = "check subcommand"
    case nativeRequest = "native requests (request, release)"
    case installation = "installation mistakes"
    case cve2019_13164 = "CVE-2019-13164 (name truncation)"
    case cve2017_5985 = "CVE-2017-5985 (foreign namespace or object)"
    case cve2018_6556 = "CVE-2018-6556 (caller-chosen paths)"
    case cve2022_47952 = "CVE-2022-47952 (existence oracle)"
    case cve2026_39402 = "CVE-2026-39402 (prefix comparison)"
}

/// Who runs the helper.
enum HostileCaller: Equatable, Sendable {
    /// uid 0, running the built helper directly (as the other integration tests do).
    case root
    /// An unprivileged uid with no capabilities, running a `setcap cap_net_admin,cap_setpcap=ep` copy.
    case user(uid: UInt32, gid: UInt32, groups: [UInt32])

    /// alice (4250), named in the suite's /etc/passwd.
    static let alice = HostileCaller.user(uid: 4250, gid: 4250, groups: [])
    /// alice2 (4251): alice's name plus a suffix.
    static let alice2 = HostileCaller.user(uid: 4251, gid: 4251, groups: [])
    /// alic (4252): a prefix of alice's name.
    static let alic = HostileCaller.user(uid: 4252, gid: 4252, groups: [])
}

/// Which executable the caller starts.
enum HostileExecutable: Equatable, Sendable {
    /// root: the built helper; a user: the setcap copy.
    case standard
    /// A copy without file capabilities, started through a symlink in the case directory whose
    /// name (and so argv[0]) is `linkName` (raw bytes).
    case copyWithoutCapabilities(linkName: [UInt8])
    /// A setuid-root copy (an installation mistake the helper must refuse).
    case setuidRootCopy
    /// A setgid-root copy.
    case setgidRootCopy
}

/// A descriptor the helper inherits under a chosen number.
enum HostileDescriptor: Equatable, Sendable {
    /// Another copy of the emulator's connected socket (fd 3 always holds one).
    case emulatorSocket
    case regularFile, pipeReadEnd, pipeWriteEnd, devNull, directory
    case unixDatagramPair, unixSeqpacketPair, udp, tcp, netlinkRoute
    case listeningUnixStream, unconnectedUnixStream, unixStreamWithPeerClosed
    /// /dev/net/tun opened by the test (root), not attached to any device.
    case tunCloneDevice
    /// The test's own network namespace (/proc/self/ns/net).
    case networkNamespace
}

/// A file system object a case needs, relative to the case directory.
enum HostileFile: Sendable {
    case file(String, [UInt8], mode: mode_t = 0o644, owner: uid_t = 0, group: gid_t = 0)
    /// A directory; its mode and owner are applied after everything inside it was created.
    case directory(String, mode: mode_t = 0o755, owner: uid_t = 0, group: gid_t = 0)
    case symlink(String, target: String)
    case fifo(String)
    case hardLink(String, to: String)
    /// `count` files 0001.policy ... in directory `String`, each holding `bytes`.
    case manyFiles(String, count: Int, bytes: [UInt8])
}

/// One argv element as raw bytes (so it can be invalid UTF-8); write plain ones as string literals.
struct HostileArgument: ExpressibleByStringInterpolation, Sendable {
    var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }
    init(stringLiteral text: String) { bytes = Array(text.utf8) }
    init(stringInterpolation: DefaultStringInterpolation) { bytes = Array(String(stringInterpolation: stringInterpolation).utf8) }

    /// `prefix`, then raw `bytes`, then `suffix`: e.g. `.raw("--br=br", [0xff])`.
    static func raw(_ prefix: String, _ bytes: [UInt8], _ suffix: String = "") -> HostileArgument {
        HostileArgument(bytes: Array(prefix.utf8) + bytes + Array(suffix.utf8))
    }
}

/// The one stderr line a case expects, without the "netfd-helper: " prefix and the newline.
enum HostileExpectedLine: ExpressibleByStringInterpolation, Sendable {
    /// The whole line, byte for byte.
    case exact(String)
    /// A regular expression for the whole line, only where the line contains a value the kernel
    /// chooses (a tap name from `tap%d`); `because` says which.
    case pattern(String, because: String)

    init(stringLiteral text: String) { self = .exact(text) }
    init(stringInterpolation: DefaultStringInterpolation) { self = .exact(String(stringInterpolation: stringInterpolation)) }
}

/// One hostile helper run and the exact refusal it must produce.
struct HostileCase: Sendable {
    /// Stands for the case's own directory in arguments, files and messages.
    static let caseDirectoryToken = "@CASE@"
    /// The descriptor number the emulator's connected socket always has in the child.
    static let emulatorSocketNumber: Int32 = 3

    /// Unique, descriptive; failures are reported under it.
    var name: String
    var category: HostileCategory
    var caller: HostileCaller = .root
    var executable: HostileExecutable = .standard
    /// argv after argv[0].
    var arguments: [HostileArgument]
    /// Files under @CASE@ (root-owned 0755).
    var files: [HostileFile] = []
    /// /etc/netfd/netfd.policy as the helper sees it (overlaid, with the suite's passwd and group).
    var installedPolicy: String = HostileCase.standardInstalledPolicy
    /// Extra descriptors in the child, by number (3 is the emulator socket unless overridden).
    var descriptors: [Int32: HostileDescriptor] = [:]
    var expectedExit: Int32
    var expectedMessage: HostileExpectedLine
    /// Paths (may use @CASE@) the helper must never open, watched with inotify.
    var mustNotOpen: [String] = []
    /// Another case whose exit status and stderr must be byte-identical to this one's.
    var sameOutputAs: String? = nil

    /// The installed policy unless a case says otherwise.
    static let standardInstalledPolicy = "allow user alice tap bridge br0\n"

    /// /etc/passwd inside every helper run: names that are prefixes and extensions of each other,
    /// and a user whose name is a number (42, uid 4253). No name may equal a uid a case runs as:
    /// setpriv resolves --reuid as a name first.
    static let passwd = """
        root:x:0:0:root:/root:/bin/sh
        alice:x:4250:4250::/nonexistent:/usr/sbin/nologin
        alice2:x:4251:4251::/nonexistent:/usr/sbin/nologin
        alic:x:4252:4252::/nonexistent:/usr/sbin/nologin
        42:x:4253:4253::/nonexistent:/usr/sbin/nologin

        """
    /// /etc/group inside every helper run. alice2 is *listed* in kvm, but is never given it by the kernel.
    static let group = """
        root:x:0:
        alice:x:4250:
        kvm:x:4260:alice,alice2
        kvm2:x:4261:
        kv:x:4262:

        """
}

// MARK: - Building blocks

extension HostileCase {
    /// QEMU's invocation as root, with the case's policy file: `--use-vnet --fd=3 --br=B --policy=@CASE@/netfd.policy`.
    static func rootRequest(_ bridge: HostileArgument, fd: String = "3") -> [HostileArgument] {
        ["--use-vnet", "--fd=\(fd)", HostileArgument(bytes: Array("--br=".utf8) + bridge.bytes), "--policy=@CASE@/netfd.policy"]
    }

    /// QEMU's invocation as an unprivileged user (the installed policy): `--use-vnet --fd=3 --br=B`.
    static func userRequest(_ bridge: HostileArgument, fd: String = "3") -> [HostileArgument] {
        ["--use-vnet", "--fd=\(fd)", HostileArgument(bytes: Array("--br=".utf8) + bridge.bytes)]
    }

    /// A policy file `name` (default @CASE@/netfd.policy) with `text`.
    static func policy(_ text: String, name: String = "netfd.policy", mode: mode_t = 0o644,
                       owner: uid_t = 0, group: gid_t = 0) -> HostileFile {
        .file(name, Array(text.utf8), mode: mode, owner: owner, group: group)
    }

    /// A policy file with raw bytes.
    static func policyBytes(_ bytes: [UInt8], name: String = "netfd.policy") -> HostileFile {
        .file(name, bytes)
    }

    /// The policy most root cases use: taps on br0 for anyone.
    static let allowBr0 = policy("allow any tap bridge br0\n")

    /// "policy error: REST".
    static func policyError(_ rest: String) -> HostileExpectedLine { .exact("policy error: " + rest) }

    /// The refusal when no rule allows `bridge` for `caller` (e.g. "user root (uid 0)").
    static func noRule(_ bridge: String, for caller: String = "user root (uid 0)",
                       in file: String = "@CASE@/netfd.policy") -> HostileExpectedLine {
        .exact("refused tap on bridge \(bridge) for \(caller): no rule in \(file) allows it")
    }

    /// The refusal when the rule `rule` at `file:line` denies `bridge` for `caller`.
    static func deniedBy(_ rule: String, line: Int, bridge: String = "br0", for caller: String = "user root (uid 0)",
                         in file: String = "@CASE@/netfd.policy") -> HostileExpectedLine {
        .exact("refused tap on bridge \(bridge) for \(caller): denied by \(file):\(line) (\(rule))")
    }

    /// `invalid --br: interface name "NAME" is N bytes long; ...` for an ASCII name.
    static func tooLong(_ name: String, option: String = "--br") -> HostileExpectedLine {
        .exact("invalid \(option): interface name \"\(name)\" is \(name.utf8.count) bytes long; the limit is 15 bytes (names are never truncated)")
    }

    /// `invalid --br: interface name "QUOTED" contains "C" at offset N; ...` (both already quoted-escaped).
    static func invalidCharacter(_ quotedName: String, _ quotedCharacter: String, at offset: Int,
                                 option: String = "--br") -> HostileExpectedLine {
        .exact("invalid \(option): interface name \"\(quotedName)\" contains \"\(quotedCharacter)\" at offset \(offset); only A-Z a-z 0-9 . _ + - are allowed")
    }

    /// "--fd=N is not an open unix stream socket".
    static func notAStreamSocket(_ number: String) -> HostileExpectedLine { "--fd=\(number) is not an open unix stream socket" }

    /// "unknown argument "QUOTED"; see netfd-helper --help".
    static func unknownArgument(_ quoted: String) -> HostileExpectedLine { "unknown argument \"\(quoted)\"; see netfd-helper --help" }

    /// The refusal every non-root --policy gets, whatever the path.
    static let onlyRootChoosesPolicy: HostileExpectedLine = "only root may choose the policy file (--policy)"

    /// The requirement sentence of every ownership refusal.
    static let ownershipRequirement = "it must be owned by root and not writable by group or others"
}

// MARK: - The table

/// All hostile cases, by category.
enum HostileCases {
    /// Every case, in a stable order.
    static let all: [HostileCase] = commandLine + descriptors + bridgeNames + policyFiles + checkCommand + nativeRequests
        + installation + cve2019_13164 + cve2017_5985 + cve2018_6556 + cve2022_47952 + cve2026_39402

    /// Cases that assert documented behaviour the helper does not have yet (see the report). They are
    /// run and reported but do not fail the suite; one that starts passing fails it, so the set shrinks.
    static let knownBugs: Set<String> = [
        // Empty: the three bugs this suite found (argv that is not UTF-8 repaired instead of
        // refused; non-ASCII --br names shown raw; a listening or unconnected --fd noticed only at
        // sendmsg) are fixed. A case that documents behaviour the helper lacks goes here.
    ]

    // MARK: Native requests

    /// `request --fd=3 --policy=@CASE@/netfd.policy WORDS` as root against a policy that allows
    /// some of every kind; each refusal happens before anything is created or looked up.
    static let nativeRequests: [HostileCase] = {
        var cases: [HostileCase] = []
        let policy = HostileCase.policy("allow any macvtap link eth0 mode=bridge queues=2\nallow any raw link eth0\nallow any tap bridge br0 queues=2\n")
        func add(_ name: String, _ words: [HostileArgument], exit: Int32 = 1, _ message: HostileExpectedLine,
                 category: HostileCategory = .nativeRequest) {
            cases.append(HostileCase(name: name, category: category,
                                     arguments: ["request", "--fd=3", "--policy=@CASE@/netfd.policy"] + words,
                                     files: [policy], expectedExit: exit, expectedMessage: message))
        }
        func refused(_ summary: String, _ rest: String) -> HostileExpectedLine {
            .exact("refused \(summary) for user root (uid 0): \(rest)")
        }
        add("request: no words", [], "missing request: kind=tap|macvtap|raw and its keys (netfd-helper(8))")
        add("request: no kind", ["link=eth0"], "invalid request: a request needs kind=tap, kind=macvtap or kind=raw")
        add("request: a key twice", ["kind=raw", "link=eth0", "link=eth0"], "invalid request: key \"link\" is given more than once")
        add("request: kind twice, conflicting", ["kind=raw", "kind=macvtap", "link=eth0"], "invalid request: key \"kind\" is given more than once")
        add("request: a key of another kind", ["kind=macvtap", "bridge=br0"],
            "invalid request: key \"bridge\" does not apply to macvtap requests; keys for macvtap requests: kind, link, mode, mac, queues, vnet-hdr, vhost")
        add("request: mode on a raw socket", ["kind=raw", "link=eth0", "mode=vepa"],
            "invalid request: key \"mode\" does not apply to raw requests; keys for raw requests: kind, link, vnet-hdr, protocol, promisc")
        add("request: reserved kind", ["kind=routed-tap", "link=eth0"], "invalid request: unknown kind \"routed-tap\"; expected tap, macvtap or raw")
        add("request: queues=65 (over the hard limit)", ["kind=macvtap", "link=eth0", "queues=65"],
            "invalid request: expected a number from 1 to 64 after \"queues=\", found \"65\"")
        add("request: queues=04 (leading zero)", ["kind=macvtap", "link=eth0", "queues=04"],
            "invalid request: expected a number from 1 to 64 after \"queues=\", found \"04\"")
        add("request: a multicast MAC", ["kind=macvtap", "link=eth0", "mac=01:00:5e:00:00:01"],
            "invalid request: mac=01:00:5e:00:00:01 is a multicast address; a guest needs a unicast address")
        add("request: a MAC of five octets", ["kind=macvtap", "link=eth0", "mac=52:54:00:12:34"],
            "invalid request: expected a MAC address such as 52:54:00:12:34:56 after \"mac=\", found \"52:54:00:12:34\"")
        add("request: protocol beyond 16 bits", ["kind=raw", "link=eth0", "protocol=0x10000"],
            "invalid request: expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"0x10000\"")
        add("request: protocol 0 (a socket that hears nothing)", ["kind=raw", "link=eth0", "protocol=0x0000"],
            "invalid request: protocol=\"0x0000\" receives nothing; give all or an Ethernet protocol such as 0x0800")
        add("request: an unknown option", ["kind=raw", "link=eth0", "--netns=/proc/1/ns/net"],
            "unknown request option \"--netns=/proc/1/ns/net\"; see netfd-helper --help")
        add("request: link value not UTF-8", ["kind=raw", .raw("link=eth", [0xff])], "argument \"link=eth\\xff\" is not valid UTF-8")
        add("request: a link name of 21 bytes", ["kind=macvtap", "link=averyveryverylongname"],
            "invalid request: invalid link: interface name \"averyveryverylongname\" is 21 bytes long; the limit is 15 bytes (names are never truncated)",
            category: .cve2019_13164)
        add("request: link eth0.100 against a rule for eth0", ["kind=macvtap", "link=eth0.100"], exit: 3,
            refused("kind=macvtap link=eth0.100", "no rule in @CASE@/netfd.policy allows it"), category: .cve2026_39402)
        add("request: link eth against a rule for eth0", ["kind=macvtap", "link=eth"], exit: 3,
            refused("kind=macvtap link=eth", "no rule in @CASE@/netfd.policy allows it"), category: .cve2026_39402)
        add("request: passthru not among the rule's modes", ["kind=macvtap", "link=eth0", "mode=passthru"], exit: 3,
            refused("kind=macvtap link=eth0 mode=passthru", "@CASE@/netfd.policy:1 (allow any macvtap link eth0 mode=bridge queues=2) allows mode bridge, not passthru"))
        add("request: vhost without vhost=yes", ["kind=macvtap", "link=eth0", "vhost=yes"], exit: 3,
            refused("kind=macvtap link=eth0 vhost=yes", "@CASE@/netfd.policy:1 (allow any macvtap link eth0 mode=bridge queues=2) does not allow vhost (vhost=no)"))
        add("request: more queues than the rule", ["kind=tap", "bridge=br0", "queues=3"], exit: 3,
            refused("kind=tap bridge=br0 queues=3", "@CASE@/netfd.policy:3 (allow any tap bridge br0 queues=2) allows at most 2 queues, not 3"))
        add("request: promisc without promisc=yes", ["kind=raw", "link=eth0", "promisc=yes"], exit: 3,
            refused("kind=raw link=eth0 promisc=yes", "@CASE@/netfd.policy:2 (allow any raw link eth0) does not allow promisc (promisc=no)"))
        add("request: raw on a link the policy does not name (existence not revealed)", ["kind=raw", "link=nope0"], exit: 3,
            refused("kind=raw link=nope0", "no rule in @CASE@/netfd.policy allows it"), category: .cve2022_47952)
        cases.append(HostileCase(name: "release: no name", category: .nativeRequest, arguments: ["release"],
                                 expectedExit: 1, expectedMessage: "release takes exactly one interface name: netfd-helper release NAME"))
        cases.append(HostileCase(name: "release: two names", category: .nativeRequest, arguments: ["release", "lo", "br0"],
                                 expectedExit: 1, expectedMessage: "release takes exactly one interface name: netfd-helper release NAME"))
        cases.append(HostileCase(name: "release: a link netfd did not create", category: .nativeRequest, arguments: ["release", "br0"],
                                 expectedExit: 3, expectedMessage: "refused release of br0 for user root (uid 0): it is not a macvtap netfd created (netfd releases only its own macvtaps)"))
        cases.append(HostileCase(name: "release: a missing link", category: .nativeRequest, arguments: ["release", "nope0"],
                                 expectedExit: 5, expectedMessage: "link nope0 does not exist"))
        cases.append(HostileCase(name: "release: a name of 16 bytes", category: .cve2019_13164, arguments: ["release", "br0-private-lan1"],
                                 expectedExit: 1, expectedMessage: "invalid release: interface name \"br0-private-lan1\" is 16 bytes long; the limit is 15 bytes (names are never truncated)"))
        return cases
    }()

    // MARK: Command line

    static let commandLine: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A root case with the br0 policy in place.
        func add(_ name: String, _ arguments: [HostileArgument], exit: Int32 = 1, _ message: HostileExpectedLine,
                 descriptors: [Int32: HostileDescriptor] = [:]) {
            cases.append(HostileCase(name: name, category: .commandLine, arguments: arguments, files: [HostileCase.allowBr0],
                                     descriptors: descriptors, expectedExit: exit, expectedMessage: message))
        }
        let policy: HostileArgument = "--policy=@CASE@/netfd.policy"
        add("argv: no arguments at all", [], "missing --fd=N (the unix socket to send the tap on)")
        add("argv: only --fd", ["--fd=3", policy], "missing --br=BRIDGE")
        add("argv: only --br", ["--br=br0", policy], "missing --fd=N (the unix socket to send the tap on)")
        add("argv: only --use-vnet and --policy", ["--use-vnet", policy], "missing --fd=N (the unix socket to send the tap on)")
        add("argv: --fd twice with the same value", ["--fd=3", "--fd=3", "--br=br0", policy], "--fd given twice")
        add("argv: --fd twice with different values", ["--fd=3", "--br=br0", "--fd=4", policy], "--fd given twice")
        add("argv: --br twice (conflicting bridges)", ["--fd=3", "--br=br0", "--br=br0-private-lan", policy], "--br given twice")
        add("argv: --use-vnet twice", ["--use-vnet", "--use-vnet", "--fd=3", "--br=br0", policy], "--use-vnet given twice")
        add("argv: --policy twice", ["--fd=3", "--br=br0", policy, "--policy=/etc/shadow"], "--policy given twice")
        add("argv: --fd empty", ["--fd=", "--br=br0", policy], "--fd=\"\" is not a descriptor number")
        add("argv: --br empty", ["--fd=3", "--br=", policy], "invalid --br: interface name is empty")
        add("argv: --policy empty", ["--fd=3", "--br=br0", "--policy="], "--policy must be an absolute path")
        add("argv: --policy relative", ["--fd=3", "--br=br0", "--policy=netfd.policy"], "--policy must be an absolute path")
        add("argv: --fd value as a separate word", ["--fd", "3", "--br=br0", policy], "--fd needs a value: --fd=VALUE")
        add("argv: --br value as a separate word", ["--fd=3", "--br", "br0", policy], "--br needs a value: --br=VALUE")
        add("argv: --policy value as a separate word", ["--fd=3", "--br=br0", "--policy", "/etc/shadow"], "--policy needs a value: --policy=VALUE")
        add("argv: --use-vnet=yes", ["--use-vnet=yes", "--fd=3", "--br=br0", policy], "--use-vnet takes no value")
        add("argv: --use-vnet= (empty value)", ["--use-vnet=", "--fd=3", "--br=br0", policy], "--use-vnet takes no value")
        add("argv: --help=all", ["--help=all"], "--help takes no value")
        add("argv: --version=1", ["--version=1"], "--version takes no value")
        add("argv: --fd=-1", ["--fd=-1", "--br=br0", policy], "--fd=\"-1\" is not a descriptor number")
        add("argv: --fd=+3", ["--fd=+3", "--br=br0", policy], "--fd=\"+3\" is not a descriptor number")
        add("argv: --fd=03 (leading zero)", ["--fd=03", "--br=br0", policy], "--fd=\"03\" is not a descriptor number")
        add("argv: --fd=2147483648 (INT32_MAX + 1)", ["--fd=2147483648", "--br=br0", policy], "--fd=\"2147483648\" is not a descriptor number")
        add("argv: --fd=4294967299 (3 modulo 2^32)", ["--fd=4294967299", "--br=br0", policy], "--fd=\"4294967299\" is not a descriptor number")
        add("argv: --fd with 20 digits", ["--fd=99999999999999999999", "--br=br0", policy], "--fd=\"99999999999999999999\" is not a descriptor number")
        add("argv: --fd=abc", ["--fd=abc", "--br=br0", policy], "--fd=\"abc\" is not a descriptor number")
        add("argv: --fd=3abc", ["--fd=3abc", "--br=br0", policy], "--fd=\"3abc\" is not a descriptor number")
        add("argv: --fd=0x3", ["--fd=0x3", "--br=br0", policy], "--fd=\"0x3\" is not a descriptor number")
        add("argv: --fd with a leading blank", ["--fd= 3", "--br=br0", policy], "--fd=\" 3\" is not a descriptor number")
        add("argv: --fd with a trailing blank", ["--fd=3 ", "--br=br0", policy], "--fd=\"3 \" is not a descriptor number")
        add("argv: --fd==3", ["--fd==3", "--br=br0", policy], "--fd=\"=3\" is not a descriptor number")
        add("argv: --fd Arabic-Indic digit three", ["--fd=\u{0663}", "--br=br0", policy], "--fd=\"\\xd9\\xa3\" is not a descriptor number")
        add("argv: --fd fullwidth digit three", ["--fd=\u{FF13}", "--br=br0", policy], "--fd=\"\\xef\\xbc\\x93\" is not a descriptor number")
        add("argv: --fd=0 (stdin)", ["--fd=0", "--br=br0", policy], "--fd=0 is a standard stream; the socket must be another descriptor")
        add("argv: --fd=1 (stdout)", ["--fd=1", "--br=br0", policy], "--fd=1 is a standard stream; the socket must be another descriptor")
        add("argv: --fd=2 (stderr)", ["--fd=2", "--br=br0", policy], "--fd=2 is a standard stream; the socket must be another descriptor")
        add("argv: --fd=0 while stdin really is a connected socket", ["--fd=0", "--br=br0", policy],
            "--fd=0 is a standard stream; the socket must be another descriptor", descriptors: [0: .emulatorSocket])
        add("argv: -f 3 (short option)", ["-f", "3", "--br=br0", policy], HostileCase.unknownArgument("-f"))
        add("argv: --FD=3 (wrong case)", ["--FD=3", "--br=br0", policy], HostileCase.unknownArgument("--FD=3"))
        add("argv: --f=3 (abbreviation)", ["--f=3", "--br=br0", policy], HostileCase.unknownArgument("--f=3"))
        add("argv: --b=br0 (abbreviation)", ["--fd=3", "--b=br0", policy], HostileCase.unknownArgument("--b=br0"))
        add("argv: --use-vn (abbreviation)", ["--use-vn", "--fd=3", "--br=br0", policy], HostileCase.unknownArgument("--use-vn"))
        add("argv: --polic= (abbreviation)", ["--fd=3", "--br=br0", "--polic=/etc/shadow"], HostileCase.unknownArgument("--polic=/etc/shadow"))
        add("argv: --vnet-hdr (a check option)", ["--vnet-hdr", "--fd=3", "--br=br0", policy], HostileCase.unknownArgument("--vnet-hdr"))
        add("argv: bare positional bridge", ["--fd=3", "br0", policy], HostileCase.unknownArgument("br0"))
        add("argv: -- end of options", ["--", "--fd=3", "--br=br0", policy], HostileCase.unknownArgument("--"))
        add("argv: single dash", ["-", "--fd=3", "--br=br0", policy], HostileCase.unknownArgument("-"))
        add("argv: empty argument", ["", "--fd=3", "--br=br0", policy], HostileCase.unknownArgument(""))
        add("argv: --=3", ["--=3", "--br=br0", policy], HostileCase.unknownArgument("--=3"))
        add("argv: check after the options", ["--fd=3", "--br=br0", policy, "check"], HostileCase.unknownArgument("check"))
        add("argv: -h=x", ["-h=x"], HostileCase.unknownArgument("-h=x"))
        add("argv: unknown option with an ANSI escape", ["--fd=3", "--br=br0", policy, "--\u{1B}[2J"], HostileCase.unknownArgument("--\\x1b[2J"))
        add("argv: unknown option with invalid UTF-8", ["--fd=3", "--br=br0", policy, .raw("--netns=/x", [0xff])],
            "argument \"--netns=/x\\xff\" is not valid UTF-8")
        add("argv: --fd=2147483647 (never open)", ["--use-vnet", "--fd=2147483647", "--br=br0", policy], HostileCase.notAStreamSocket("2147483647"))
        return cases
    }()

    // MARK: --fd descriptors

    static let descriptors: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A root case whose --fd=5 is `kind` (the emulator socket stays on 3 and must receive nothing).
        func add(_ name: String, _ kind: HostileDescriptor?, number: String = "5", exit: Int32 = 1, _ message: HostileExpectedLine) {
            cases.append(HostileCase(name: name, category: .descriptor, arguments: HostileCase.rootRequest("br0", fd: number),
                                     files: [HostileCase.allowBr0], descriptors: kind.map { [5: $0] } ?? [:],
                                     expectedExit: exit, expectedMessage: message))
        }
        add("--fd is a closed number", nil, number: "9", HostileCase.notAStreamSocket("9"))
        add("--fd is a regular file", .regularFile, HostileCase.notAStreamSocket("5"))
        add("--fd is a pipe's read end", .pipeReadEnd, HostileCase.notAStreamSocket("5"))
        add("--fd is a pipe's write end", .pipeWriteEnd, HostileCase.notAStreamSocket("5"))
        add("--fd is /dev/null", .devNull, HostileCase.notAStreamSocket("5"))
        add("--fd is a directory", .directory, HostileCase.notAStreamSocket("5"))
        add("--fd is a unix datagram socket", .unixDatagramPair, HostileCase.notAStreamSocket("5"))
        add("--fd is a unix seqpacket socket", .unixSeqpacketPair, HostileCase.notAStreamSocket("5"))
        add("--fd is a UDP socket", .udp, HostileCase.notAStreamSocket("5"))
        add("--fd is a TCP socket", .tcp, HostileCase.notAStreamSocket("5"))
        add("--fd is a listening unix stream socket", .listeningUnixStream, "--fd=5 is a unix stream socket that is not connected")
        add("--fd is an unconnected unix stream socket", .unconnectedUnixStream, "--fd=5 is a unix stream socket that is not connected")
        add("--fd is a stream socket whose peer is gone (rolled back)", .unixStreamWithPeerClosed, exit: 7,
            .pattern(#"could not send tap[0-9]+ on --fd=5: Broken pipe; nothing was left behind"#,
                     because: "the tap's name is chosen by the kernel from tap%d"))
        return cases
    }()

    // MARK: --br names

    static let bridgeNames: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A root case requesting `bridge` under the br0 policy.
        func add(_ name: String, _ bridge: HostileArgument, exit: Int32 = 1, _ message: HostileExpectedLine) {
            cases.append(HostileCase(name: name, category: .bridgeName, arguments: HostileCase.rootRequest(bridge),
                                     files: [HostileCase.allowBr0], expectedExit: exit, expectedMessage: message))
        }
        add("--br with a space", "br 0", HostileCase.invalidCharacter("br 0", " ", at: 3))
        add("--br with ../", "../br0", HostileCase.invalidCharacter("../br0", "/", at: 3))
        add("--br is ..", "..", "invalid --br: interface name \"..\" is not allowed")
        add("--br is .", ".", "invalid --br: interface name \".\" is not allowed")
        add("--br is %d", "%d", HostileCase.invalidCharacter("%d", "%", at: 1))
        add("--br is tap%d", "tap%d", HostileCase.invalidCharacter("tap%d", "%", at: 4))
        // ASCII controls are escaped (as the policy language escapes them), so the refusal stays one line.
        add("--br with newline at the end", "br0\n", HostileCase.invalidCharacter("br0\\n", "\\n", at: 4))
        add("--br with newline at the start", "\nbr0", HostileCase.invalidCharacter("\\nbr0", "\\n", at: 1))
        add("--br with tab", "br\t0", HostileCase.invalidCharacter("br\\t0", "\\t", at: 3))
        add("--br with carriage return", "br0\r", HostileCase.invalidCharacter("br0\\r", "\\r", at: 4))
        add("--br with an ANSI escape sequence", "br\u{1B}[31m", HostileCase.invalidCharacter("br\\x1B[31m", "\\x1B", at: 3))
        add("--br with DEL", "br0\u{7F}", HostileCase.invalidCharacter("br0\\x7F", "\\x7F", at: 4))
        // Non-ASCII: netfd-helper(8) promises byte escapes, as --fd and unknown arguments get.
        add("--br non-ASCII letter", "br\u{FC}", HostileCase.invalidCharacter("br\\xc3\\xbc", "\\xc3\\xbc", at: 3))
        add("--br combining overlay character", "br0\u{0338}", HostileCase.invalidCharacter("br0\\xcc\\xb8", "\\xcc\\xb8", at: 4))
        add("--br right-to-left override", "\u{202E}br0", HostileCase.invalidCharacter("\\xe2\\x80\\xaebr0", "\\xe2\\x80\\xae", at: 1))
        add("--br fullwidth letters", "\u{FF42}\u{FF52}0", HostileCase.invalidCharacter("\\xef\\xbd\\x82\\xef\\xbd\\x920", "\\xef\\xbd\\x82", at: 1))
        add("--br invalid UTF-8 byte 0xff", .raw("br", [0xff]), "argument \"--br=br\\xff\" is not valid UTF-8")
        add("--br overlong NUL encoding C0 80", .raw("br0", [0xc0, 0x80]), "argument \"--br=br0\\xc0\\x80\" is not valid UTF-8")
        add("--br percent-encoded NUL", "br0%00", HostileCase.invalidCharacter("br0%00", "%", at: 4))
        add("--br with a leading dash", "-br0", "invalid --br: interface name \"-br0\" must not start with \"-\"")
        add("--br is a single dash", "-", "invalid --br: interface name \"-\" must not start with \"-\"")
        add("--br smuggling --policy", "--policy=/etc/shadow", HostileCase.tooLong("--policy=/etc/shadow"))
        add("--br with an alias colon", "br0:1", HostileCase.invalidCharacter("br0:1", ":", at: 4))
        add("--br with @", "br0@vA", HostileCase.invalidCharacter("br0@vA", "@", at: 4))
        add("--br with a shell command", "br0;reboot", HostileCase.invalidCharacter("br0;reboot", ";", at: 4))
        add("--br with command substitution", "$(id)", HostileCase.invalidCharacter("$(id)", "$", at: 1))
        add("--br with a double quote", "br0\"", HostileCase.invalidCharacter("br0\\\"", "\\\"", at: 4))
        add("--br with a backslash", "br0\\", HostileCase.invalidCharacter("br0\\\\", "\\\\", at: 4))
        add("--br is a glob star", "*", HostileCase.invalidCharacter("*", "*", at: 1))
        add("--br is a policy glob", "glob:br0", HostileCase.invalidCharacter("glob:br0", ":", at: 5))
        add("--br named like the keyword all", "all", exit: 3, HostileCase.noRule("all"))
        add("--br of 4096 bytes", HostileArgument(stringLiteral: String(repeating: "b", count: 4096)),
            HostileCase.tooLong(String(repeating: "b", count: 4096)))
        add("--br of 100000 bytes", HostileArgument(stringLiteral: String(repeating: "r", count: 100_000)),
            HostileCase.tooLong(String(repeating: "r", count: 100_000)))
        return cases
    }()

    // MARK: Policy files

    static let policyFiles: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A root request for br0 under `files`, with --policy=@CASE@/`policy`.
        func add(_ name: String, _ files: [HostileFile], policy: String = "@CASE@/netfd.policy", exit: Int32 = 2,
                 _ message: HostileExpectedLine) {
            cases.append(HostileCase(name: name, category: .policyFile,
                                     arguments: ["--use-vnet", "--fd=3", "--br=br0", "--policy=\(policy)"],
                                     files: files, expectedExit: exit, expectedMessage: message))
        }
        /// A root request for br0 under a single policy file holding `text`.
        func add(_ name: String, text: String, exit: Int32 = 2, _ message: HostileExpectedLine) {
            add(name, [HostileCase.policy(text)], exit: exit, message)
        }
        let requirement = HostileCase.ownershipRequirement
        let file = "@CASE@/netfd.policy"
        // File security.
        add("policy writable by group", [HostileCase.policy("allow any tap\n", mode: 0o664)],
            HostileCase.policyError("\(file): refusing policy file writable by group or others (mode 0664); \(requirement)"))
        add("policy writable by others", [HostileCase.policy("allow any tap\n", mode: 0o646)],
            HostileCase.policyError("\(file): refusing policy file writable by group or others (mode 0646); \(requirement)"))
        add("policy mode 0777", [HostileCase.policy("allow any tap\n", mode: 0o777)],
            HostileCase.policyError("\(file): refusing policy file writable by group or others (mode 0777); \(requirement)"))
        add("policy owned by a named user", [HostileCase.policy("allow any tap\n", owner: 4250)],
            HostileCase.policyError("\(file): refusing policy file owned by uid 4250 (alice); \(requirement)"))
        add("policy owned by an unnamed uid", [HostileCase.policy("allow any tap\n", owner: 4299)],
            HostileCase.policyError("\(file): refusing policy file owned by uid 4299; \(requirement)"))
        add("policy is a symlink", [HostileCase.policy("allow any tap\n", name: "real.policy"), .symlink("netfd.policy", target: "real.policy")],
            HostileCase.policyError("\(file): refusing symlink; policy files must be regular files (name the target instead)"))
        add("policy below a symlinked directory",
            [HostileCase.policy("allow any tap\n", name: "real/netfd.policy"), .symlink("linked", target: "@CASE@/real")],
            policy: "@CASE@/linked/netfd.policy",
            HostileCase.policyError("@CASE@/linked: refusing symlinked directory; policy paths must not go through symlinks (use the real path)"))
        add("policy below a group-writable directory",
            [HostileCase.policy("allow any tap\n", name: "shared/netfd.policy"), .directory("shared", mode: 0o775)],
            policy: "@CASE@/shared/netfd.policy",
            HostileCase.policyError("@CASE@/shared: refusing directory writable by group or others (mode 0775); \(requirement)"))
        add("policy below a sticky world-writable directory",
            [HostileCase.policy("allow any tap\n", name: "tmp/netfd.policy"), .directory("tmp", mode: 0o1777)],
            policy: "@CASE@/tmp/netfd.policy",
            HostileCase.policyError("@CASE@/tmp: refusing directory writable by group or others (mode 1777); \(requirement)"))
        add("policy below a directory owned by alice",
            [HostileCase.policy("allow any tap\n", name: "alices/netfd.policy"), .directory("alices", owner: 4250, group: 4250)],
            policy: "@CASE@/alices/netfd.policy",
            HostileCase.policyError("@CASE@/alices: refusing directory owned by uid 4250 (alice); \(requirement)"))
        // Includes.
        add("include itself", text: "include netfd.policy\n",
            HostileCase.policyError("\(file):1:9: include loop: \(file) -> \(file)"))
        add("include loop A -> B -> A",
            [HostileCase.policy("allow any tap bridge br0\ninclude b.policy\n"), HostileCase.policy("# b includes its includer\ninclude \"netfd.policy\"\n", name: "b.policy")],
            HostileCase.policyError("@CASE@/b.policy:2:9: include loop: \(file) -> @CASE@/b.policy -> \(file)"))
        add("include loop through a hard link",
            [HostileCase.policy("include again.policy\n"), .hardLink("again.policy", to: "netfd.policy")],
            HostileCase.policyError("\(file):1:9: include loop: \(file) -> @CASE@/again.policy"))
        add("include loop through a directory",
            [HostileCase.policy("include d\n"), HostileCase.policy("include ..\n", name: "d/x.policy")],
            HostileCase.policyError("@CASE@/d/x.policy:1:9: include loop: \(file) -> @CASE@/d/x.policy -> \(file)"))
        let deepChain = (0...17).map { "@CASE@/d\($0).policy" }
        add("include nested 17 deep",
            (0...16).map { HostileCase.policy("include d\($0 + 1).policy\n", name: "d\($0).policy") } + [HostileCase.policy("allow any tap\n", name: "d17.policy")],
            policy: "@CASE@/d0.policy",
            HostileCase.policyError("@CASE@/d16.policy:1:9: @CASE@/d17.policy: includes are nested more than 16 deep: " + deepChain.joined(separator: " -> ")))
        add("include nested exactly 16 deep still applies its deny",
            (0...15).map { HostileCase.policy("allow any tap\ninclude d\($0 + 1).policy\n", name: "d\($0).policy") } + [HostileCase.policy("deny br0\n", name: "d16.policy")],
            policy: "@CASE@/d0.policy", exit: 3, HostileCase.deniedBy("deny br0", line: 1, in: "@CASE@/d16.policy"))
        add("include of a missing file", text: "allow any tap\ninclude missing.policy\n",
            HostileCase.policyError("\(file):2:9: cannot include \"@CASE@/missing.policy\": No such file or directory"))
        add("include of a directory holding a symlinked .policy",
            [HostileCase.policy("include d\n"), HostileCase.policy("allow any tap\n", name: "target.txt"), .symlink("d/evil.policy", target: "@CASE@/target.txt")],
            HostileCase.policyError("\(file):1:9: @CASE@/d/evil.policy: refusing symlink; policy files must be regular files (name the target instead)"))
        add("include of a directory holding a directory named .policy",
            [HostileCase.policy("include d\n"), .directory("d/sub.policy")],
            HostileCase.policyError("\(file):1:9: @CASE@/d/sub.policy: refusing directory inside an included directory (directory includes are not recursive)"))
        add("include of a FIFO", [HostileCase.policy("include fifo.policy\n"), .fifo("fifo.policy")],
            HostileCase.policyError("\(file):1:9: @CASE@/fifo.policy: refusing policy file that is not a regular file"))
        add("include of /dev/zero", text: "include /dev/zero\n",
            HostileCase.policyError("\(file):1:9: /dev/zero: refusing policy file that is not a regular file"))
        add("include through /proc/self", text: "include /proc/self/status\n",
            HostileCase.policyError("\(file):1:9: /proc/self: refusing symlinked directory; policy paths must not go through symlinks (use the real path)"))
        add("include of a group-writable file",
            [HostileCase.policy("include inc.policy\n"), HostileCase.policy("allow any tap\n", name: "inc.policy", mode: 0o664)],
            HostileCase.policyError("\(file):1:9: @CASE@/inc.policy: refusing policy file writable by group or others (mode 0664); \(requirement)"))
        add("include of a name longer than NAME_MAX", text: "include \(String(repeating: "n", count: 300)).policy\n",
            HostileCase.policyError("\(file):1:9: cannot include \"@CASE@/\(String(repeating: "n", count: 300)).policy\": File name too long"))
        // Paths are normalised lexically (netfd.policy(5)): what is checked is what is read.
        add("policy path with a trailing slash is the file", [HostileCase.policy("deny br0\n")], policy: "@CASE@/netfd.policy/",
            exit: 3, HostileCase.deniedBy("deny br0", line: 1))
        add("policy path through a symlink and .. never follows the symlink",
            [HostileCase.policy("deny br0\n"), .symlink("linked", target: "/etc")], policy: "@CASE@/linked/../netfd.policy",
            exit: 3, HostileCase.deniedBy("deny br0", line: 1))
        add("include of an empty path", text: "include \"\"\n", HostileCase.policyError("\(file):1:9: empty include path"))
        add("include without a path", text: "include\n", HostileCase.policyError("\(file):1:8: expected a path after \"include\", found end of line"))
        add("include with a trailing word", text: "include a b\n", HostileCase.policyError("\(file):1:11: unexpected \"b\" after the include path"))
        // Limits.
        add("1001 policy files", [.manyFiles("many", count: 1001, bytes: [])], policy: "@CASE@/many",
            HostileCase.policyError("@CASE@/many/1001.policy: more than 1000 policy files"))
        add("policy of 1 MiB + 1 byte", [.file("netfd.policy", Array("deny br0\n".utf8) + [UInt8](repeating: UInt8(ascii: "#"), count: (1 << 20) - 9) + [0x0a])],
            HostileCase.policyError("\(file): file is larger than the limit of 1048576 bytes"))
        add("policy of exactly 1 MiB still applies its deny",
            [.file("netfd.policy", Array("deny br0\n".utf8) + [UInt8](repeating: UInt8(ascii: "#"), count: (1 << 20) - 10) + [0x0a])],
            exit: 3, HostileCase.deniedBy("deny br0", line: 1))
        // Encoding and lexing.
        add("NUL byte in a rule", [HostileCase.policyBytes(Array("allow any tap bridge br0\ndeny any tap bridge b".utf8) + [0] + Array("r0\n".utf8))],
            HostileCase.policyError("\(file):2:22: NUL byte in policy file"))
        add("NUL byte in a comment", [HostileCase.policyBytes(Array("# comment ".utf8) + [0] + Array("\nallow any tap\n".utf8))],
            HostileCase.policyError("\(file):1:11: NUL byte in policy file"))
        add("invalid UTF-8 byte 0xff", [HostileCase.policyBytes(Array("allow any tap bridge br0\ndeny any tap bridge br".utf8) + [0xff, 0x0a])],
            HostileCase.policyError("\(file):2:23: invalid UTF-8 (byte 0xFF)"))
        add("overlong UTF-8 NUL", [HostileCase.policyBytes(Array("deny br0".utf8) + [0xc0, 0x80] + Array("\n".utf8))],
            HostileCase.policyError("\(file):1:9: invalid UTF-8 (byte 0xC0)"))
        add("UTF-8 encoded surrogate in a comment", [HostileCase.policyBytes(Array("allow br0\n# ".utf8) + [0xed, 0xa0, 0x80, 0x0a])],
            HostileCase.policyError("\(file):2:3: invalid UTF-8 (byte 0xED)"))
        add("truncated UTF-8 sequence at end of file", [HostileCase.policyBytes(Array("allow br0\n".utf8) + [0xe2, 0x82])],
            HostileCase.policyError("\(file):2:1: invalid UTF-8 (byte 0xE2)"))
        add("CRLF line ends: the deny still applies", text: "allow any tap\r\ndeny br0\r\n", exit: 3, HostileCase.deniedBy("deny br0", line: 2))
        add("lone carriage return inside a line", text: "allow\rbr0\n", HostileCase.policyError("\(file):1:6: control character 0x0D in policy text"))
        add("form feed after a name", text: "allow any tap bridge br0\u{0C}\n", HostileCase.policyError("\(file):1:25: control character 0x0C in policy text"))
        add("vertical tab as a separator", text: "allow\u{0B}br0\n", HostileCase.policyError("\(file):1:6: control character 0x0B in policy text"))
        add("unterminated quote", text: "include \"/x\n", HostileCase.policyError("\(file):1:9: unterminated string; expected a closing \""))
        add("unknown escape in a quoted string", text: "include \"a\\nb\"\n",
            HostileCase.policyError("\(file):1:11: unknown escape in string; only \\\" and \\\\ are allowed"))
        add("text glued to a closing quote", text: "include \"a\"b\n", HostileCase.policyError("\(file):1:12: expected a blank after the closing quote"))
        let statements = "expected \"allow\", \"deny\", \"include\" or \"set\""
        add("unknown keyword permit", text: "permit br0\n", HostileCase.policyError("\(file):1:1: unknown statement \"permit\"; \(statements)"))
        add("upper-case keyword ALLOW", text: "ALLOW br0\n", HostileCase.policyError("\(file):1:1: unknown statement \"ALLOW\"; \(statements)"))
        add("byte order mark before the first keyword", text: "\u{FEFF}allow br0\n",
            HostileCase.policyError("\(file):1:1: invisible or control character U+FEFF in policy text"))
        add("no-break space as a separator", text: "allow\u{A0}br0\n",
            HostileCase.policyError("\(file):1:1: unknown statement \"allow\\xA0br0\"; \(statements)"))
        add("line separator hiding a second statement", text: "deny br0\u{2028}allow all\n",
            HostileCase.policyError("\(file):1:9: invisible or control character U+2028 in policy text"))
        // Rules.
        add("glob with an unterminated set", text: "allow any tap bridge glob:[a-\n",
            HostileCase.policyError("\(file):1:27: unterminated \"[\" in glob pattern"))
        add("empty glob", text: "allow any tap bridge glob:\n", HostileCase.policyError("\(file):1:27: empty glob pattern"))
        add("glob with a slash", text: "allow any tap bridge glob:br/*\n",
            HostileCase.policyError("\(file):1:29: glob pattern contains \"/\", which cannot occur in an interface name"))
        add("glob with a reversed range", text: "allow any tap bridge glob:[z-a]\n",
            HostileCase.policyError("\(file):1:28: reversed range \"z-a\" in glob pattern"))
        add("glob with a backslash escape", text: "allow any tap bridge glob:br\\*\n",
            HostileCase.policyError("\(file):1:29: glob pattern contains \"\\\\\", which cannot occur in an interface name"))
        add("glob with an empty set", text: "allow any tap bridge glob:[]\n", HostileCase.policyError("\(file):1:27: empty \"[]\" in glob pattern"))
        add("glob characters without glob:", text: "allow any tap bridge br*\n",
            HostileCase.policyError("\(file):1:22: \"br*\" contains glob characters; write \"glob:br*\" to match a pattern"))
        add("glob characters in a bridge.conf line", text: "allow br*\n",
            HostileCase.policyError("\(file):1:7: \"br*\" contains glob characters; bridge.conf lines take exact names; use a full rule with \"bridge glob:br*\""))
        add("non-ASCII bridge name in a rule", text: "allow any tap bridge br\u{FC}\n",
            HostileCase.policyError("\(file):1:24: interface name \"br\u{FC}\" contains \"\u{FC}\" at offset 3; only A-Z a-z 0-9 . _ + - are allowed"))
        add("unknown user name matches nobody", text: "allow user netfd-no-such-user tap bridge br0\n", exit: 3, HostileCase.noRule("br0"))
        add("unknown group name matches nobody", text: "allow group netfd-no-such-group tap bridge br0\n", exit: 3, HostileCase.noRule("br0"))
        add("user ID beyond 32 bits", text: "allow user 4294967296 tap\n",
            HostileCase.policyError("\(file):1:12: user ID \"4294967296\" is not an unsigned 32-bit decimal number"))
        add("negative user ID", text: "allow user -1 tap\n", HostileCase.policyError("\(file):1:12: user ID \"-1\" is not an unsigned 32-bit decimal number"))
        add("signed user ID +0", text: "allow user +0 tap\n", HostileCase.policyError("\(file):1:12: user ID \"+0\" is not an unsigned 32-bit decimal number"))
        add("group ID beyond 32 bits", text: "allow group 99999999999 tap\n",
            HostileCase.policyError("\(file):1:13: group ID \"99999999999\" is not an unsigned 32-bit decimal number"))
        add("rule without a kind", text: "allow user alice\n", HostileCase.policyError("\(file):1:17: expected a kind (tap, macvtap or raw) after the subject, found end of line"))
        add("reserved kind routed-tap", text: "allow any routed-tap\n",
            HostileCase.policyError("\(file):1:11: kind \"routed-tap\" is not supported by this version of netfd (supported: tap, macvtap, raw)"))
        add("unknown kind tun", text: "allow any tun\n",
            HostileCase.policyError("\(file):1:11: unknown kind \"tun\"; expected tap, macvtap or raw (reserved for later versions: routed-tap)"))
        add("tap rule with link", text: "allow any tap link vA\n", HostileCase.policyError("\(file):1:15: tap rules take \"bridge\", not \"link\""))
        add("bridge without a name", text: "allow any tap bridge\n",
            HostileCase.policyError("\(file):1:21: expected a bridge name, glob:PATTERN or \"all\" after \"bridge\", found end of line"))
        add("deny rule with an option", text: "deny any tap bridge br0 vnet-hdr=no\n",
            HostileCase.policyError("\(file):1:25: deny rules take no options; a deny refuses the whole request"))
        add("reserved option mtu", text: "allow any tap bridge br0 mtu=9000\n",
            HostileCase.policyError("\(file):1:26: option \"mtu\" is not supported by this version of netfd (valid options for tap rules: vnet-hdr, queues, vhost, quota)"))
        add("option of another kind (queues on raw)", text: "allow any raw link eth0 queues=2\n",
            HostileCase.policyError("\(file):1:25: option \"queues\" does not apply to raw rules; valid options for raw rules: vnet-hdr, promisc"))
        add("MAC pattern that can only match multicast", text: "allow any macvtap link eth0 mac=01:00:5e:*\n",
            HostileCase.policyError("\(file):1:33: MAC pattern \"01:00:5e:*\" can only match multicast addresses (the first octet is odd); a guest needs a unicast address"))
        add("relative vhost device", text: "set vhost-device dev/vhost-net\n",
            HostileCase.policyError("\(file):1:18: vhost device \"dev/vhost-net\" is not an absolute path"))
        add("misspelt option vnet_hdr", text: "allow any tap bridge br0 vnet_hdr=yes\n",
            HostileCase.policyError("\(file):1:26: unknown option \"vnet_hdr\"; valid options for tap rules: vnet-hdr, queues, vhost, quota"))
        add("option value maybe", text: "allow any tap bridge br0 vnet-hdr=maybe\n",
            HostileCase.policyError("\(file):1:35: expected \"yes\" or \"no\" after \"vnet-hdr=\", found \"maybe\""))
        add("option given twice", text: "allow any tap bridge br0 vnet-hdr=yes vnet-hdr=no\n",
            HostileCase.policyError("\(file):1:39: option \"vnet-hdr\" is given more than once"))
        add("trailing word after a rule", text: "allow any tap bridge br0 please\n", HostileCase.policyError("\(file):1:26: unexpected \"please\" after the rule"))
        // Settings: the tap prefix becomes the kernel's name template, so format strings matter.
        add("tap prefix %d", text: "set tap-prefix %d\n",
            HostileCase.policyError("\(file):1:16: tap prefix \"%d\" contains a character other than A-Z a-z 0-9 . _ + - at offset 1"))
        add("tap prefix with %s%n", text: "set tap-prefix tap%s%n\n",
            HostileCase.policyError("\(file):1:19: tap prefix \"tap%s%n\" contains a character other than A-Z a-z 0-9 . _ + - at offset 4"))
        add("tap prefix of 13 bytes", text: "set tap-prefix abcdefghijklm\n",
            HostileCase.policyError("\(file):1:16: tap prefix \"abcdefghijklm\" is 13 bytes long; it must be 1 to 12 bytes so that the kernel's number fits in 15 bytes"))
        add("tap prefix with a leading dash", text: "set tap-prefix -x\n", HostileCase.policyError("\(file):1:16: tap prefix \"-x\" must not start with \"-\""))
        add("tap prefix set differently in two files",
            [HostileCase.policy("set tap-prefix vm\ninclude b.policy\n"), HostileCase.policy("set tap-prefix br0\n", name: "b.policy")],
            HostileCase.policyError("@CASE@/b.policy:1:16: tap-prefix \"br0\" conflicts with tap-prefix \"vm\" set at \(file):1:16"))
        add("unknown setting", text: "set tap-name x\n", HostileCase.policyError("\(file):1:5: unknown setting \"tap-name\"; known settings: tap-prefix, vhost-device"))
        return cases
    }()

    // MARK: check

    static let checkCommand: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A `check` case as `caller`, with the br0 policy file in place.
        func add(_ name: String, _ arguments: [HostileArgument], caller: HostileCaller = .root, exit: Int32 = 1,
                 category: HostileCategory = .checkCommand, files: [HostileFile] = [HostileCase.allowBr0],
                 _ message: HostileExpectedLine) {
            cases.append(HostileCase(name: name, category: category, caller: caller, arguments: ["check"] + arguments,
                                     files: files, expectedExit: exit, expectedMessage: message))
        }
        let policy: [HostileArgument] = ["--policy", "@CASE@/netfd.policy"]
        add("check --user of a nonexistent user", policy + ["--user", "netfd-no-such-user", "tap", "bridge", "br0"], "unknown user \"netfd-no-such-user\"")
        add("check --user differing only in case", policy + ["--user", "ALICE", "tap", "bridge", "br0"], "unknown user \"ALICE\"")
        add("check --group of a nonexistent group", policy + ["--group", "netfd-no-such-group", "tap", "bridge", "br0"], "unknown group \"netfd-no-such-group\"")
        add("check --user uid without a passwd entry", policy + ["--user", "4299", "tap", "bridge", "br0"],
            "uid 4299 has no entry in /etc/passwd; give its primary group with --group")
        add("check --user empty", policy + ["--user=", "tap", "bridge", "br0"], "unknown user \"\"")
        add("check --user beyond 32 bits", policy + ["--user", "4294967296", "tap", "bridge", "br0"], "unknown user \"4294967296\"")
        add("check --user with an ANSI escape", policy + ["--user", "\u{1B}[2J", "tap", "bridge", "br0"], "unknown user \"\\x1b[2J\"")
        add("check --user with invalid UTF-8", policy + [.raw("--user=ali", [0xff]), "tap", "bridge", "br0"],
            "argument \"--user=ali\\xff\" is not valid UTF-8")
        add("check --policy relative", ["--policy", "netfd.policy"], "--policy must be an absolute path")
        add("check --policy without a value", ["--policy"], "--policy needs a value")
        add("check --policy twice", policy + ["--policy=/etc/shadow"], "--policy given twice")
        add("check --user twice", policy + ["--user", "root", "--user", "alice"], "--user given twice")
        add("check request with an extra word", policy + ["tap", "bridge", "br0", "extra"],
            "a request reads: tap bridge NAME [--vnet-hdr], or KEY=VALUE words (kind=macvtap link=eth0 ...); found \"tap bridge br0 extra\"")
        add("check request without tap", policy + ["bridge", "br0"], "a request reads: tap bridge NAME [--vnet-hdr], or KEY=VALUE words (kind=macvtap link=eth0 ...); found \"bridge br0\"")
        add("check --vnet-hdr without a request", policy + ["--vnet-hdr"], "--vnet-hdr needs a request: check tap bridge NAME --vnet-hdr")
        add("check bridge name with a slash", policy + ["tap", "bridge", "br0/x"], HostileCase.invalidCharacter("br0/x", "/", at: 4, option: "bridge"))
        add("check --netns", ["--netns=/proc/1/ns/net"], "unknown check option \"--netns=/proc/1/ns/net\"")
        add("check -u root", ["-u", "root"], "unknown check option \"-u\"")
        add("check with the helper's --fd", ["--fd=3", "--br=br0"], "unknown check option \"--fd=3\"")
        add("check of an insecure policy", policy, exit: 2, files: [HostileCase.policy("allow any tap\n", mode: 0o666)],
            HostileCase.policyError("@CASE@/netfd.policy: refusing policy file writable by group or others (mode 0666); \(HostileCase.ownershipRequirement)"))
        add("check --user unknown, run by alice", ["--user", "netfd-no-such-user", "tap", "bridge", "br0"], caller: .alice,
            "unknown user \"netfd-no-such-user\"")
        return cases
    }()

    // MARK: Installation mistakes

    static let installation: [HostileCase] = [
        HostileCase(name: "setuid-root copy run by alice", category: .installation, caller: .alice, executable: .setuidRootCopy,
                    arguments: HostileCase.userRequest("br0"), expectedExit: 4,
                    expectedMessage: "refusing to run setuid or setgid; install with file capabilities: setcap cap_net_admin,cap_setpcap=ep"),
        HostileCase(name: "setgid-root copy run by alice", category: .installation, caller: .alice, executable: .setgidRootCopy,
                    arguments: HostileCase.userRequest("br0"), expectedExit: 4,
                    expectedMessage: "refusing to run setuid or setgid; install with file capabilities: setcap cap_net_admin,cap_setpcap=ep"),
        HostileCase(name: "copy without capabilities, argv[0] with terminal escapes", category: .installation, caller: .alice,
                    executable: .copyWithoutCapabilities(linkName: Array("helper-\u{1B}]0;owned\u{07}".utf8)),
                    arguments: HostileCase.userRequest("br0"), expectedExit: 4,
                    expectedMessage: "missing CAP_NET_ADMIN; install the helper with: setcap cap_net_admin,cap_setpcap=ep \"@CASE@/helper-\\x1b]0;owned\\x07\""),
    ]

    // MARK: CVE-2019-13164: qemu-bridge-helper truncated names longer than IFNAMSIZ

    static let cve2019_13164: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A root request for `bridge` under `policyText` (qemu's bridge.conf form by default).
        func add(_ name: String, _ bridge: HostileArgument, policy policyText: String = "allow all\ndeny br0-private-lan\n",
                 exit: Int32 = 1, _ message: HostileExpectedLine) {
            cases.append(HostileCase(name: name, category: .cve2019_13164, arguments: HostileCase.rootRequest(bridge),
                                     files: [HostileCase.policy(policyText)], expectedExit: exit, expectedMessage: message))
        }
        let denied = "br0-private-lan"   // 15 bytes, and it exists in the namespace
        add("CVE-2019-13164: the denied 15-char bridge itself", HostileArgument(stringLiteral: denied), exit: 3,
            HostileCase.deniedBy("deny br0-private-lan", line: 2, bridge: denied))
        add("CVE-2019-13164: 16 chars truncating to the denied bridge", "\(denied)X", HostileCase.tooLong("\(denied)X"))
        add("CVE-2019-13164: 17 chars truncating to the denied bridge", "\(denied)XY", HostileCase.tooLong("\(denied)XY"))
        add("CVE-2019-13164: 4096 chars truncating to the denied bridge", HostileArgument(stringLiteral: denied + String(repeating: "X", count: 4081)),
            HostileCase.tooLong(denied + String(repeating: "X", count: 4081)))
        add("CVE-2019-13164: denied name plus a trailing blank", "\(denied) ",
            .exact("invalid --br: interface name \"\(denied) \" is 16 bytes long; the limit is 15 bytes (names are never truncated)"))
        add("CVE-2019-13164: br0 padded to 16 under deny br0", "br0\(String(repeating: "0", count: 13))", policy: "allow all\ndeny br0\n",
            HostileCase.tooLong("br0" + String(repeating: "0", count: 13)))
        add("CVE-2019-13164: br0 padded to 15 is another name", "br0\(String(repeating: "0", count: 12))", policy: "allow all\ndeny br0\n", exit: 5,
            .exact("bridge br0" + String(repeating: "0", count: 12) + " does not exist"))
        add("CVE-2019-13164: 16 chars truncating to the only allowed bridge", "\(denied)Z", policy: "allow \(denied)\n",
            HostileCase.tooLong("\(denied)Z"))
        add("CVE-2019-13164: 16-char deny rule in bridge.conf form", "br0", policy: "allow all\ndeny \(denied)X\n", exit: 2,
            HostileCase.policyError("@CASE@/netfd.policy:2:6: interface name \"\(denied)X\" is 16 bytes long; the limit is 15 bytes (names are never truncated)"))
        add("CVE-2019-13164: 16-char deny rule in full form", "br0", policy: "allow any tap\ndeny any tap bridge \(denied)X\n", exit: 2,
            HostileCase.policyError("@CASE@/netfd.policy:2:21: interface name \"\(denied)X\" is 16 bytes long; the limit is 15 bytes (names are never truncated)"))
        add("CVE-2019-13164: 15 chars plus overlong NUL", .raw(denied, [0xc0, 0x80]),
            "argument \"--br=\(denied)\\xc0\\x80\" is not valid UTF-8")
        add("CVE-2019-13164: glob deny covers the 15-char bridge", HostileArgument(stringLiteral: denied),
            policy: "allow all\ndeny any tap bridge glob:br0-private-*\n", exit: 3,
            HostileCase.deniedBy("deny any tap bridge glob:br0-private-*", line: 2, bridge: denied))
        let installed = "allow user alice tap\ndeny any tap bridge \(denied)\n"
        cases.append(HostileCase(name: "CVE-2019-13164: alice, 16 chars truncating to the denied bridge", category: .cve2019_13164,
                                 caller: .alice, arguments: HostileCase.userRequest("\(denied)X"), installedPolicy: installed,
                                 expectedExit: 1, expectedMessage: HostileCase.tooLong("\(denied)X")))
        cases.append(HostileCase(name: "CVE-2019-13164: alice, the denied bridge itself", category: .cve2019_13164,
                                 caller: .alice, arguments: HostileCase.userRequest(HostileArgument(stringLiteral: denied)), installedPolicy: installed,
                                 expectedExit: 3, expectedMessage: HostileCase.deniedBy("deny any tap bridge \(denied)", line: 2, bridge: denied,
                                                                                        for: "user alice (uid 4250)", in: "/etc/netfd/netfd.policy")))
        cases.append(HostileCase(name: "CVE-2019-13164: alice, check with 16 chars", category: .cve2019_13164, caller: .alice,
                                 arguments: ["check", "tap", "bridge", "\(denied)X"], installedPolicy: installed,
                                 expectedExit: 1, expectedMessage: HostileCase.tooLong("\(denied)X", option: "bridge")))
        return cases
    }()

    // MARK: CVE-2017-5985: lxc-user-nic acted on a namespace the caller had no right to

    static let cve2017_5985: [HostileCase] = {
        var cases: [HostileCase] = []
        /// A request with `extra` arguments appended (options that would direct the helper elsewhere).
        func option(_ name: String, _ extra: [HostileArgument], caller: HostileCaller = .root, _ quoted: String) {
            let arguments = caller == .root ? HostileCase.rootRequest("br0") : HostileCase.userRequest("br0")
            cases.append(HostileCase(name: name, category: .cve2017_5985, caller: caller, arguments: arguments + extra,
                                     files: [HostileCase.allowBr0], expectedExit: 1, expectedMessage: HostileCase.unknownArgument(quoted)))
        }
        option("CVE-2017-5985: --netns=/proc/1/ns/net", ["--netns=/proc/1/ns/net"], "--netns=/proc/1/ns/net")
        option("CVE-2017-5985: --netns as a separate word", ["--netns", "/proc/1/ns/net"], "--netns")
        option("CVE-2017-5985: --pid=1", ["--pid=1"], "--pid=1")
        option("CVE-2017-5985: --ifname=vA", ["--ifname=vA"], "--ifname=vA")
        option("CVE-2017-5985: --tap=vA", ["--tap=vA"], "--tap=vA")
        option("CVE-2017-5985: --dev=vA", ["--dev=vA"], "--dev=vA")
        option("CVE-2017-5985: --uid=0", ["--uid=0"], "--uid=0")
        option("CVE-2017-5985: alice --netns=/proc/1/ns/net", ["--netns=/proc/1/ns/net"], caller: .alice, "--netns=/proc/1/ns/net")
        option("CVE-2017-5985: alice --pid=1", ["--pid=1"], caller: .alice, "--pid=1")
        option("CVE-2017-5985: alice --ifname=vA", ["--ifname=vA"], caller: .alice, "--ifname=vA")
        option("CVE-2017-5985: alice --tap=tap0", ["--tap=tap0"], caller: .alice, "--tap=tap0")
        option("CVE-2017-5985: alice --user=root", ["--user=root"], caller: .alice, "--user=root")

        /// --fd=5 holding an object that is not the caller's own unix stream socket.
        func descriptor(_ name: String, _ kind: HostileDescriptor, caller: HostileCaller = .root, _ message: HostileExpectedLine? = nil) {
            let arguments = caller == .root ? HostileCase.rootRequest("br0", fd: "5") : HostileCase.userRequest("br0", fd: "5")
            cases.append(HostileCase(name: name, category: .cve2017_5985, caller: caller, arguments: arguments, files: [HostileCase.allowBr0],
                                     descriptors: [5: kind], expectedExit: 1, expectedMessage: message ?? HostileCase.notAStreamSocket("5")))
        }
        descriptor("CVE-2017-5985: --fd is a network namespace", .networkNamespace)
        descriptor("CVE-2017-5985: --fd is an rtnetlink socket", .netlinkRoute)
        descriptor("CVE-2017-5985: --fd is the tun clone device", .tunCloneDevice)
        descriptor("CVE-2017-5985: alice --fd is the host's network namespace", .networkNamespace, caller: .alice)
        descriptor("CVE-2017-5985: alice --fd is an rtnetlink socket", .netlinkRoute, caller: .alice)
        descriptor("CVE-2017-5985: alice --fd is a UDP socket", .udp, caller: .alice)
        descriptor("CVE-2017-5985: alice --fd is a listening socket", .listeningUnixStream, caller: .alice,
                   "--fd=5 is a unix stream socket that is not connected")

        /// A request for a link that exists but is not a bridge: the tap must not be attached to it.
        func link(_ name: String, _ bridge: String, caller: HostileCaller = .root, _ message: String) {
            let arguments = caller == .root ? HostileCase.rootRequest(HostileArgument(stringLiteral: bridge))
                                            : HostileCase.userRequest(HostileArgument(stringLiteral: bridge))
            cases.append(HostileCase(name: name, category: .cve2017_5985, caller: caller, arguments: arguments,
                                     files: [HostileCase.policy("allow all\n")], installedPolicy: "allow user alice tap\n",
                                     expectedExit: 5, expectedMessage: .exact(message)))
        }
        link("CVE-2017-5985: --br is the veth port vA", "vA", "vA is not a bridge (it is a veth link)")
        link("CVE-2017-5985: --br is loopback", "lo", "lo is not a bridge (it is a device without a kind)")
        link("CVE-2017-5985: --br is the veth peer vB (not a bridge port)", "vB", "vB is not a bridge (it is a veth link)")
        link("CVE-2017-5985: alice --br is the veth peer vB", "vB", caller: .alice, "vB is not a bridge (it is a veth link)")
        return cases
    }()

    // MARK: CVE-2018-6556: lxc-user-nic opened caller-chosen paths with privilege

    static let cve2018_6556: [HostileCase] = {
        var cases: [HostileCase] = []
        let readable = HostileCase.policy("allow any tap\n", name: "readable.policy")
        /// alice passes --policy=`path`: refused before anything is opened.
        func alice(_ name: String, _ path: String, check: Bool = false, watch: [String] = []) {
            let arguments: [HostileArgument] = check ? ["check", "--policy", HostileArgument(stringLiteral: path)]
                                                     : HostileCase.userRequest("br0") + ["--policy=\(path)"]
            cases.append(HostileCase(name: name, category: .cve2018_6556, caller: .alice, arguments: arguments,
                                     files: [readable, .fifo("fifo.policy")], expectedExit: 1,
                                     expectedMessage: HostileCase.onlyRootChoosesPolicy, mustNotOpen: watch))
        }
        alice("CVE-2018-6556: alice --policy=/etc/shadow", "/etc/shadow")
        alice("CVE-2018-6556: alice --policy of a world-readable allow-all file", "@CASE@/readable.policy", watch: ["@CASE@/readable.policy"])
        alice("CVE-2018-6556: alice --policy of a FIFO", "@CASE@/fifo.policy", watch: ["@CASE@/fifo.policy"])
        alice("CVE-2018-6556: alice --policy=/dev/zero", "/dev/zero")
        alice("CVE-2018-6556: alice --policy=/proc/self/environ", "/proc/self/environ")
        alice("CVE-2018-6556: alice --policy of a directory", "@CASE@")
        alice("CVE-2018-6556: alice --policy naming the default file", "/etc/netfd/netfd.policy")
        alice("CVE-2018-6556: alice check --policy=/etc/shadow", "/etc/shadow", check: true)
        alice("CVE-2018-6556: alice check --policy of a readable file", "@CASE@/readable.policy", check: true, watch: ["@CASE@/readable.policy"])
        cases.append(HostileCase(name: "CVE-2018-6556: alice --policy relative", category: .cve2018_6556, caller: .alice,
                                 arguments: HostileCase.userRequest("br0") + ["--policy=etc/shadow"], expectedExit: 1,
                                 expectedMessage: "--policy must be an absolute path"))

        /// root passes --policy=`path` naming something that is not a policy file.
        func root(_ name: String, _ path: String, files: [HostileFile] = [], exit: Int32 = 2, watch: [String] = [], _ message: HostileExpectedLine) {
            cases.append(HostileCase(name: name, category: .cve2018_6556, arguments: ["--use-vnet", "--fd=3", "--br=br0", "--policy=\(path)"],
                                     files: files, expectedExit: exit, expectedMessage: message, mustNotOpen: watch))
        }
        root("CVE-2018-6556: root --policy of a FIFO", "@CASE@/fifo.policy", files: [.fifo("fifo.policy")], watch: ["@CASE@/fifo.policy"],
             HostileCase.policyError("@CASE@/fifo.policy: refusing policy file that is not a regular file"))
        root("CVE-2018-6556: root --policy=/dev/zero", "/dev/zero", HostileCase.policyError("/dev/zero: refusing policy file that is not a regular file"))
        root("CVE-2018-6556: root --policy of a directory without .policy files", "@CASE@/dir",
             files: [HostileCase.policy("allow all\n", name: "dir/allow-all.conf")], exit: 3, HostileCase.noRule("br0", in: "the policy"))
        root("CVE-2018-6556: root --policy of a symlink to an allow-all file", "@CASE@/link.policy",
             files: [readable, .symlink("link.policy", target: "@CASE@/readable.policy")], watch: ["@CASE@/readable.policy"],
             HostileCase.policyError("@CASE@/link.policy: refusing symlink; policy files must be regular files (name the target instead)"))
        root("CVE-2018-6556: root --policy=/proc/self/environ", "/proc/self/environ",
             HostileCase.policyError("/proc/self: refusing symlinked directory; policy paths must not go through symlinks (use the real path)"))
        root("CVE-2018-6556: root --policy=/dev/stdin", "/dev/stdin",
             HostileCase.policyError("/dev/stdin: refusing symlink; policy files must be regular files (name the target instead)"))
        root("CVE-2018-6556: root --policy of a shadow-like file", "@CASE@/shadow",
             files: [.file("shadow", Array("root:$y$j9T$notarealhash:19000:0:99999:7:::\n".utf8), mode: 0o640)],
             HostileCase.policyError("@CASE@/shadow:1:1: unknown statement \"root:$y$j9T$notarealhash:19000:0:99999:7:::\"; expected \"allow\", \"deny\", \"include\" or \"set\""))
        // The helper must open exactly the bytes it was given: a path with a byte 0xff must not load
        // the file whose name is the UTF-8 replacement character (it allows everything).
        cases.append(HostileCase(name: "root --policy path with invalid UTF-8 names another file", category: .cve2018_6556,
                                 arguments: ["--use-vnet", "--fd=3", "--br=br0", .raw("--policy=@CASE@/", [0xff], ".policy")],
                                 files: [HostileCase.policy("allow any tap\n", name: "\u{FFFD}.policy")], expectedExit: 1,
                                 expectedMessage: "argument \"--policy=@CASE@/\\xff.policy\" is not valid UTF-8",
                                 mustNotOpen: ["@CASE@/\u{FFFD}.policy"]))
        return cases
    }()

    // MARK: CVE-2022-47952: lxc-user-nic's errors revealed whether protected paths exist

    static let cve2022_47952: [HostileCase] = {
        var cases: [HostileCase] = []
        let protected: [HostileFile] = [HostileCase.policy("allow any tap\n", name: "protected/exists.policy"), .directory("protected", mode: 0o700)]
        /// alice passes a protected path; `twin` must produce byte-identical output.
        func alice(_ name: String, _ arguments: [HostileArgument], twin: String? = nil) {
            cases.append(HostileCase(name: name, category: .cve2022_47952, caller: .alice, arguments: arguments, files: protected,
                                     expectedExit: 1, expectedMessage: HostileCase.onlyRootChoosesPolicy, sameOutputAs: twin))
        }
        let request = HostileCase.userRequest("br0")
        alice("CVE-2022-47952: alice --policy=/root (exists)", request + ["--policy=/root"])
        alice("CVE-2022-47952: alice --policy=/root/netfd-does-not-exist", request + ["--policy=/root/netfd-does-not-exist"],
              twin: "CVE-2022-47952: alice --policy=/root (exists)")
        alice("CVE-2022-47952: alice --policy of an existing file in a 0700 directory", request + ["--policy=@CASE@/protected/exists.policy"])
        alice("CVE-2022-47952: alice --policy of a missing file in a 0700 directory", request + ["--policy=@CASE@/protected/missing.policy"],
              twin: "CVE-2022-47952: alice --policy of an existing file in a 0700 directory")
        alice("CVE-2022-47952: alice check --policy /root", ["check", "--policy", "/root"])
        alice("CVE-2022-47952: alice check --policy /root/netfd-does-not-exist", ["check", "--policy", "/root/netfd-does-not-exist"],
              twin: "CVE-2022-47952: alice check --policy /root")
        // A refused bridge reads the same whether it exists or not (the lookup comes after the decision).
        for (name, bridge) in [("existing", "br0-private-lan"), ("missing", "br9")] {
            cases.append(HostileCase(name: "CVE-2022-47952: alice refused for the \(name) bridge \(bridge)", category: .cve2022_47952,
                                     caller: .alice, arguments: HostileCase.userRequest(HostileArgument(stringLiteral: bridge)), expectedExit: 3,
                                     expectedMessage: HostileCase.noRule(bridge, for: "user alice (uid 4250)", in: "/etc/netfd/netfd.policy")))
        }
        return cases
    }()

    // MARK: CVE-2026-39402: names and owners compared by prefix

    static let cve2026_39402: [HostileCase] = {
        var cases: [HostileCase] = []
        /// `caller` (named `callerName` in refusals) asks for br0 under the installed policy `installed`.
        func user(_ name: String, _ caller: HostileCaller, _ callerName: String, installed: String, exit: Int32 = 3,
                  _ message: HostileExpectedLine? = nil) {
            cases.append(HostileCase(name: name, category: .cve2026_39402, caller: caller, arguments: HostileCase.userRequest("br0"),
                                     installedPolicy: installed, expectedExit: exit,
                                     expectedMessage: message ?? HostileCase.noRule("br0", for: callerName, in: "/etc/netfd/netfd.policy")))
        }
        let installed = "/etc/netfd/netfd.policy"
        user("CVE-2026-39402: user alice rule, caller alice2", .alice2, "user alice2 (uid 4251)", installed: "allow user alice tap bridge br0\n")
        user("CVE-2026-39402: user alice rule, caller alic", .alic, "user alic (uid 4252)", installed: "allow user alice tap bridge br0\n")
        user("CVE-2026-39402: user alice rule, caller uid 42500", .user(uid: 42500, gid: 42500, groups: []), "uid 42500",
             installed: "allow user alice tap bridge br0\n")
        user("CVE-2026-39402: group kvm rule, caller in kvm2", .user(uid: 4251, gid: 4251, groups: [4261]), "user alice2 (uid 4251)",
             installed: "allow group kvm tap bridge br0\n")
        user("CVE-2026-39402: group kvm rule, caller's primary group kv", .user(uid: 4252, gid: 4262, groups: []), "user alic (uid 4252)",
             installed: "allow group kvm tap bridge br0\n")
        user("CVE-2026-39402: group kvm rule, caller only listed in /etc/group", .alice2, "user alice2 (uid 4251)",
             installed: "allow group kvm tap bridge br0\n")
        user("CVE-2026-39402: user 10 rule, caller uid 100", .user(uid: 100, gid: 100, groups: []), "uid 100", installed: "allow user 10 tap bridge br0\n")
        user("CVE-2026-39402: user 100 rule, caller uid 10", .user(uid: 10, gid: 10, groups: []), "uid 10", installed: "allow user 100 tap bridge br0\n")
        user("CVE-2026-39402: user 1 rule, caller uid 10", .user(uid: 10, gid: 10, groups: []), "uid 10", installed: "allow user 1 tap bridge br0\n")
        user("CVE-2026-39402: user 42 rule, caller named 42", .user(uid: 4253, gid: 4253, groups: []), "user 42 (uid 4253)",
             installed: "allow user 42 tap bridge br0\n")
        user("CVE-2026-39402: group 10 rule, caller gid 100", .user(uid: 100, gid: 100, groups: []), "uid 100", installed: "allow group 10 tap bridge br0\n")
        user("CVE-2026-39402: deny user alice applies to alice", .alice, "user alice (uid 4250)",
             installed: "deny user alice tap\nallow any tap bridge br0\n",
             HostileCase.deniedBy("deny user alice tap", line: 1, for: "user alice (uid 4250)", in: installed))
        user("CVE-2026-39402: deny group kvm applies to a kvm member", .user(uid: 4251, gid: 4251, groups: [4260]), "user alice2 (uid 4251)",
             installed: "deny group kvm tap\nallow any tap bridge br0\n",
             HostileCase.deniedBy("deny group kvm tap", line: 1, for: "user alice2 (uid 4251)", in: installed))

        /// root asks for `bridge` under a policy that names a similar one.
        func bridge(_ name: String, _ bridge: String, policy policyText: String, _ message: HostileExpectedLine? = nil) {
            cases.append(HostileCase(name: name, category: .cve2026_39402, arguments: HostileCase.rootRequest(HostileArgument(stringLiteral: bridge)),
                                     files: [HostileCase.policy(policyText)], expectedExit: 3, expectedMessage: message ?? HostileCase.noRule(bridge)))
        }
        let br0 = "allow any tap bridge br0\n"
        bridge("CVE-2026-39402: bridge br0 rule, request br0.1", "br0.1", policy: br0)
        bridge("CVE-2026-39402: bridge br0 rule, request br00", "br00", policy: br0)
        bridge("CVE-2026-39402: bridge br0 rule, request br", "br", policy: br0)
        bridge("CVE-2026-39402: bridge br0 rule, request Br0", "Br0", policy: br0)
        bridge("CVE-2026-39402: bridge br0 rule, request br0-private-lan", "br0-private-lan", policy: br0)
        bridge("CVE-2026-39402: bridge.conf allow br0, request br00", "br00", policy: "allow br0\n")
        bridge("CVE-2026-39402: glob br[0-9], request br10", "br10", policy: "allow any tap bridge glob:br[0-9]\n")
        bridge("CVE-2026-39402: glob br?, request br", "br", policy: "allow any tap bridge glob:br?\n")
        bridge("CVE-2026-39402: glob vm*, request xvm1", "xvm1", policy: "allow any tap bridge glob:vm*\n")
        bridge("CVE-2026-39402: glob [!b]r0, request br0", "br0", policy: "allow any tap bridge glob:[!b]r0\n")
        bridge("CVE-2026-39402: glob BR*, request br0", "br0", policy: "allow any tap bridge glob:BR*\n")
        bridge("CVE-2026-39402: glob br0 without wildcards, request br0.1", "br0.1", policy: "allow any tap bridge glob:br0\n")
        bridge("CVE-2026-39402: glob br[0], request br00", "br00", policy: "allow any tap bridge glob:br[0]\n")
        bridge("CVE-2026-39402: glob *lan deny matches the whole name", "br0-private-lan", policy: "allow all\ndeny any tap bridge glob:*lan\n",
               HostileCase.deniedBy("deny any tap bridge glob:*lan", line: 2, bridge: "br0-private-lan"))
        return cases
    }()
}
