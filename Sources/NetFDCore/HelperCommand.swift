// HelperCommand.swift - what the command line asks for. Pure: no syscalls.
import Glibc
import NetFDPolicy

/// The request QEMU's `-netdev bridge` makes: `HELPER --use-vnet --fd=N --br=BRIDGE`.
public struct BridgeHelperArguments: Equatable, Sendable {
    /// The inherited AF_UNIX stream socket to send the tap on.
    public var socket: Int32
    public var bridge: InterfaceName
    /// Whether the caller wants IFF_VNET_HDR (granted if policy and kernel allow).
    public var useVnetHeader: Bool
    /// `--policy=PATH` (root only); nil means the default policy.
    public var policyPath: String?
}

/// `netfd-helper check ...`: validate the policy and explain a hypothetical request.
public struct CheckArguments: Equatable, Sendable {
    public var policyPath: String?
    /// `--user U`: name or uid; nil means the caller.
    public var user: String?
    /// `--group G` (repeatable): extra groups, names or gids.
    public var groups: [String] = []
    /// The request to explain; nil just validates the policy.
    public var request: PolicyRequest?
}

/// `netfd-helper request --fd=N KEY=VALUE...`: the native interface (netfd-helper(8), NATIVE REQUESTS).
public struct RequestArguments: Equatable, Sendable {
    /// The inherited AF_UNIX stream socket the reply and the descriptors go to.
    public var socket: Int32
    public var request: PolicyRequest
    /// `--policy=PATH` (root only); nil means the default policy.
    public var policyPath: String?
}

/// `netfd-helper release NAME`: delete a macvtap netfd created for the caller.
public struct ReleaseArguments: Equatable, Sendable {
    public var link: InterfaceName
}

/// What one invocation of netfd-helper does.
public enum HelperCommand: Equatable, Sendable {
    case bridgeHelper(BridgeHelperArguments)
    case request(RequestArguments)
    case release(ReleaseArguments)
    case check(CheckArguments)
    case help
    case version

    /// Parses argv (without argv[0]). Options are exact: `--fd=N`, not a prefix or abbreviation;
    /// an option given twice is an error, never "last one wins".
    public static func parse(_ arguments: [String]) throws(HelperFailure) -> HelperCommand {
        if arguments.first == "check" { return .check(try parseCheck(arguments.dropFirst())) }
        if arguments.first == "request" { return .request(try parseRequest(arguments.dropFirst())) }
        if arguments.first == "release" { return .release(try parseRelease(arguments.dropFirst())) }
        var socket: Int32?, bridge: InterfaceName?, useVnet = false, policy: String?
        var seen: [String] = []   // an array: four options at most, and no hashing at start-up
        for argument in arguments {
            let (name, value) = splitOption(argument)
            guard !seen.contains(name) else { throw .usage("\(name) given twice") }
            seen.append(name)
            switch (name, value) {
            case ("--help", nil), ("-h", nil): return .help
            case ("--version", nil): return .version
            case ("--use-vnet", nil): useVnet = true
            case ("--fd", let value?): socket = try parseSocketNumber(value)
            case ("--br", let value?): bridge = try parseInterfaceName(value, option: "--br")
            case ("--policy", let value?): policy = try parsePolicyPath(value)
            case ("--use-vnet", _?), ("--help", _?), ("--version", _?):
                throw .usage("\(name) takes no value")
            case ("--fd", nil), ("--br", nil), ("--policy", nil):
                throw .usage("\(name) needs a value: \(name)=VALUE")
            default:
                throw .usage("unknown argument \(quoted(argument)); see netfd-helper --help")
            }
        }
        guard let socket else { throw .usage("missing --fd=N (the unix socket to send the tap on)") }
        guard let bridge else { throw .usage("missing --br=BRIDGE") }
        return .bridgeHelper(BridgeHelperArguments(socket: socket, bridge: bridge, useVnetHeader: useVnet, policyPath: policy))
    }

    /// `request --fd=N [--policy=PATH] KEY=VALUE...`: options exact and once each, like the
    /// bridge-helper form; the words are a request as `PolicyRequest.parse` reads it.
    static func parseRequest(_ arguments: ArraySlice<String>) throws(HelperFailure) -> RequestArguments {
        var socket: Int32?, policy: String?, words: [String] = []
        for argument in arguments {
            let (name, value) = splitOption(argument)
            switch (name, value) {
            case ("--fd", let value?):
                guard socket == nil else { throw .usage("--fd given twice") }
                socket = try parseSocketNumber(value)
            case ("--policy", let value?):
                guard policy == nil else { throw .usage("--policy given twice") }
                policy = try parsePolicyPath(value)
            case ("--fd", nil), ("--policy", nil):
                throw .usage("\(name) needs a value: \(name)=VALUE")
            default:
                guard !argument.utf8.starts(with: "-".utf8) else {
                    throw .usage("unknown request option \(quoted(argument)); see netfd-helper --help")
                }
                words.append(argument)
            }
        }
        guard let socket else { throw .usage("missing --fd=N (the unix socket to send the reply and descriptors on)") }
        return RequestArguments(socket: socket, request: try parseRequestWords(words), policyPath: policy)
    }

    /// The KEY=VALUE words of a request, or a usage failure with the parser's message.
    static func parseRequestWords(_ words: [String]) throws(HelperFailure) -> PolicyRequest {
        guard !words.isEmpty else { throw .usage("missing request: kind=tap|macvtap|raw and its keys (netfd-helper(8))") }
        do {
            return try PolicyRequest.parse(words)
        } catch {
            throw .usage("invalid request: \(error.message)")
        }
    }

    /// `release NAME`.
    static func parseRelease(_ arguments: ArraySlice<String>) throws(HelperFailure) -> ReleaseArguments {
        guard arguments.count == 1, let name = arguments.first, !name.utf8.starts(with: "-".utf8) else {
            throw .usage("release takes exactly one interface name: netfd-helper release NAME")
        }
        return ReleaseArguments(link: try parseInterfaceName(name, option: "release"))
    }

    /// `check [--policy P] [--user U] [--group G]... [tap [bridge] NAME [--vnet-hdr] | KEY=VALUE...]`
    static func parseCheck(_ arguments: ArraySlice<String>) throws(HelperFailure) -> CheckArguments {
        var result = CheckArguments()
        var words: [String] = []
        var vnet = false
        var iterator = arguments.makeIterator()
        func value(for option: String, inline: String?) throws(HelperFailure) -> String {
            if let inline { return inline }
            guard let next = iterator.next() else { throw .usage("\(option) needs a value") }
            return next
        }
        while let argument = iterator.next() {
            let (name, inline) = splitOption(argument)
            switch name {
            case "--policy":
                guard result.policyPath == nil else { throw .usage("--policy given twice") }
                result.policyPath = try parsePolicyPath(try value(for: name, inline: inline))
            case "--user":
                guard result.user == nil else { throw .usage("--user given twice") }
                result.user = try value(for: name, inline: inline)
            case "--group":
                result.groups.append(try value(for: name, inline: inline))
            case "--vnet-hdr", "--use-vnet":
                vnet = true
            default:
                guard !argument.hasPrefix("-") else { throw .usage("unknown check option \(quoted(argument))") }
                words.append(argument)
            }
        }
        if let first = words.first, first.utf8.contains(UInt8(ascii: "=")) {
            if vnet { throw .usage("--vnet-hdr goes with the short form; write vnet-hdr=yes in a KEY=VALUE request") }
            result.request = try parseRequestWords(words)
            return result
        }
        switch words.count {
        case 0:
            if vnet { throw .usage("--vnet-hdr needs a request: check tap bridge NAME --vnet-hdr") }
        case 2 where words[0] == "tap", 3 where words[0] == "tap" && words[1] == "bridge":
            result.request = .tap(TapRequest(bridge: try parseInterfaceName(words.last!, option: "bridge"), vnetHeader: vnet))
        default:
            throw .usage("a request reads: tap bridge NAME [--vnet-hdr], or KEY=VALUE words (kind=macvtap link=eth0 ...); found \(quoted(words.joined(separator: " ")))")
        }
        return result
    }

    /// Splits `--name=value` at the first "="; other arguments have no value.
    static func splitOption(_ argument: String) -> (String, String?) {
        let bytes = argument.utf8   // bytes, not Characters: no grapheme breaking in the helper
        guard bytes.starts(with: "--".utf8), let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else { return (argument, nil) }
        // Decode the byte ranges: subscripting the String with UTF-8 indices would round them to
        // Character boundaries, pulling grapheme breaking into the helper's start-up.
        return (String(decoding: bytes[..<equals], as: UTF8.self), String(decoding: bytes[bytes.index(after: equals)...], as: UTF8.self))
    }

    /// `--fd`: plain decimal digits, no sign, no leading zeros, fits Int32, and not 0/1/2.
    static func parseSocketNumber(_ text: String) throws(HelperFailure) -> Int32 {
        let digits = text.utf8
        guard !digits.isEmpty, digits.count <= 10, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              digits.first != 48 || digits.count == 1,
              let number = Int32(text)
        else { throw .usage("--fd=\(quoted(text)) is not a descriptor number") }
        guard number > 2 else {
            throw .usage("--fd=\(number) is a standard stream; the socket must be another descriptor")
        }
        return number
    }

    static func parseInterfaceName(_ text: String, option: String) throws(HelperFailure) -> InterfaceName {
        do {
            return try InterfaceName(validating: text)
        } catch {
            // netfd-helper(8): names from the command line are shown with non-ASCII bytes escaped.
            // InterfaceNameError quotes like the policy language, which shows printable Unicode as is.
            guard text.utf8.contains(where: { $0 >= 0x80 }) else { throw .usage("invalid \(option): \(error)") }
            throw .usage("invalid \(option): \(error.describe(quoting: quoted))")
        }
    }

    /// argv (without argv[0]) as strings. An argument that is not valid UTF-8 is refused, not
    /// repaired: CommandLine.arguments replaces bad bytes with U+FFFD, so a repaired --policy path
    /// would name another file and a repaired name would be reported with bytes nobody typed.
    public static func decodeArguments(_ arguments: [[UInt8]]) throws(HelperFailure) -> [String] {
        var decoded: [String] = []
        for bytes in arguments {
            // argv strings cannot hold a NUL; one here is not an argument the kernel could pass.
            let text = bytes.contains(0) ? nil : (bytes + [0]).withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { String(validatingCString: $0.baseAddress!) }
            }
            guard let text else { throw .usage("argument \(quoted(bytes: bytes)) is not valid UTF-8") }
            decoded.append(text)
        }
        return decoded
    }

    /// `decodeArguments` straight from the process's `argv` (`count` entries, argv[0] skipped), with
    /// the same refusal: no intermediate byte arrays, and String's non-generic C-string validation.
    public static func decodeArguments(argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, count: Int) throws(HelperFailure) -> [String] {
        var decoded: [String] = []
        var index = 1
        while index < count, let argument = argv[index] {
            guard let text = String(validatingCString: argument) else {
                let bytes = UnsafeRawBufferPointer(start: argument, count: strlen(argument))
                throw .usage("argument \(quoted(bytes: Array(bytes))) is not valid UTF-8")
            }
            decoded.append(text)
            index += 1
        }
        return decoded
    }

    static func parsePolicyPath(_ text: String) throws(HelperFailure) -> String {
        guard text.utf8.first == UInt8(ascii: "/") else { throw .usage("--policy must be an absolute path") }
        return text
    }
}

/// `text` in double quotes with control and non-ASCII bytes escaped, so a refusal is one clean line.
public func quoted(_ text: String) -> String {
    quoted(bytes: Array(text.utf8))
}

/// `bytes` in double quotes with control and non-ASCII bytes escaped (for arguments that are not UTF-8).
public func quoted(bytes: [UInt8]) -> String {
    var out = "\""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(byte))
        case 0x20..<0x7f: out.unicodeScalars.append(UnicodeScalar(byte))
        default:
            let hex = String(byte, radix: 16)
            out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return out + "\""
}
