// RequestParser.swift - the words of a native request (`netfd-helper request KEY=VALUE...`) as a
// PolicyRequest: exact keys, each at most once, every value checked, nothing guessed.

/// Why the words of a native request are not a request. `message` is one line; user text in it is
/// quoted with control and non-ASCII bytes escaped, as the command line shows arguments.
public struct RequestSyntaxError: Error, Equatable, CustomStringConvertible {
    /// The one-line explanation.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

extension PolicyRequest {
    /// Parses the native request words, e.g. `["kind=macvtap", "link=eth0", "queues=2"]`.
    ///
    /// `kind=tap|macvtap|raw` is required and may come anywhere. Keys per kind (netfd-helper(8)):
    /// tap: bridge (required), queues, vnet-hdr, vhost; macvtap: link (required), mode, mac,
    /// queues, vnet-hdr, vhost; raw: link (required), vnet-hdr, protocol, promisc. Each key at
    /// most once; keys compared byte for byte. Defaults: queues=1, vnet-hdr=no, vhost=no,
    /// mode=bridge, no mac (one is generated), protocol=all, promisc=no.
    /// - Throws: the first problem, in word order after the kind is known.
    public static func parse(_ words: [String]) throws(RequestSyntaxError) -> PolicyRequest {
        // The kind first: which keys are valid depends on it.
        var kind: RuleKind?
        for word in words {
            let (key, value) = try split(word)
            guard key.elementsEqual("kind".utf8) else { continue }
            guard kind == nil else { throw RequestSyntaxError("key \"kind\" is given more than once") }
            if value.elementsEqual("tap".utf8) { kind = .tap }
            else if value.elementsEqual("macvtap".utf8) { kind = .macvtap }
            else if value.elementsEqual("raw".utf8) { kind = .raw }
            else { throw RequestSyntaxError("unknown kind \(requestQuoted(value)); expected tap, macvtap or raw") }
        }
        guard let kind else { throw RequestSyntaxError("a request needs kind=tap, kind=macvtap or kind=raw") }

        var target: InterfaceName?
        var seen: UInt16 = 0
        var queues = 1, vnetHeader = false, vhost = false, promiscuous = false
        var mode = MacvtapMode.bridge, address: MacAddress?, ethernetProtocol = RawRequest.allProtocols
        for word in words {
            let (keyBytes, value) = try split(word)
            guard let key = RequestKey(keyBytes) else {
                throw RequestSyntaxError("unknown key \(requestQuoted(keyBytes)); keys for \(kind.rawValue) requests: \(RequestKey.keys(for: kind))")
            }
            guard key.applies(to: kind) else {
                throw RequestSyntaxError("key \"\(key.name)\" does not apply to \(kind.rawValue) requests; keys for \(kind.rawValue) requests: \(RequestKey.keys(for: kind))")
            }
            if key == .kind { continue }
            guard seen & key.rawValue == 0 else { throw RequestSyntaxError("key \"\(key.name)\" is given more than once") }
            seen |= key.rawValue
            func yesNo() throws(RequestSyntaxError) -> Bool {
                if value.elementsEqual("yes".utf8) { return true }
                if value.elementsEqual("no".utf8) { return false }
                throw RequestSyntaxError("expected \"yes\" or \"no\" after \"\(key.name)=\", found \(requestQuoted(value))")
            }
            switch key {
            case .kind:
                break
            case .bridge, .link:
                let text = String(decoding: value, as: UTF8.self)
                do throws(InterfaceNameError) {
                    target = try InterfaceName(validating: text)
                } catch {
                    throw RequestSyntaxError("invalid \(key.name): \(error.describe(quoting: requestQuoted))")
                }
            case .queues:
                guard let number = decimal(value, in: 1...RuleOptions.queueLimit) else {
                    throw RequestSyntaxError("expected a number from 1 to \(RuleOptions.queueLimit) after \"queues=\", found \(requestQuoted(value))")
                }
                queues = number
            case .vnetHeader: vnetHeader = try yesNo()
            case .vhost: vhost = try yesNo()
            case .promisc: promiscuous = try yesNo()
            case .mode:
                guard let parsed = MacvtapMode(bytes: value) else {
                    throw RequestSyntaxError("expected bridge, vepa, private or passthru after \"mode=\", found \(requestQuoted(value))")
                }
                mode = parsed
            case .mac:
                guard let parsed = MacAddress(parsing: String(decoding: value, as: UTF8.self)) else {
                    throw RequestSyntaxError("expected a MAC address such as 52:54:00:12:34:56 after \"mac=\", found \(requestQuoted(value))")
                }
                guard !parsed.isMulticast else {
                    throw RequestSyntaxError("mac=\(parsed) is a multicast address; a guest needs a unicast address")
                }
                guard !parsed.isZero else {
                    throw RequestSyntaxError("mac=\(parsed) is all zeros; a guest needs a unicast address")
                }
                address = parsed
            case .protocol:
                guard let parsed = protocolValue(value) else {
                    throw RequestSyntaxError("expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \(requestQuoted(value))")
                }
                // Protocol 0 is a socket that receives nothing: never what an emulator wants.
                guard parsed != 0 else { throw RequestSyntaxError("protocol=\(requestQuoted(value)) receives nothing; give all or an Ethernet protocol such as 0x0800") }
                ethernetProtocol = parsed
            }
        }
        guard let target else {
            throw RequestSyntaxError("a \(kind.rawValue) request needs \(kind.targetWord)=NAME")
        }
        switch kind {
        case .tap:
            return .tap(TapRequest(bridge: target, vnetHeader: vnetHeader, queues: queues, vhost: vhost))
        case .macvtap:
            return .macvtap(MacvtapRequest(link: target, mode: mode, address: address, queues: queues, vnetHeader: vnetHeader, vhost: vhost))
        case .raw:
            return .raw(RawRequest(link: target, ethernetProtocol: ethernetProtocol, vnetHeader: vnetHeader, promiscuous: promiscuous))
        }
    }

    /// `word`'s bytes before and after its first "=".
    private static func split(_ word: String) throws(RequestSyntaxError) -> (key: ArraySlice<UInt8>, value: ArraySlice<UInt8>) {
        let bytes = Array(word.utf8)
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else {
            throw RequestSyntaxError("expected KEY=VALUE, found \(requestQuoted(bytes[...]))")
        }
        return (bytes[..<equals], bytes[(equals + 1)...])
    }
}

/// `protocol=`'s value: `all` (ETH_P_ALL), or "0x" and 1 to 4 hexadecimal digits of either case.
private func protocolValue(_ text: ArraySlice<UInt8>) -> UInt16? {
    if text.elementsEqual("all".utf8) { return RawRequest.allProtocols }
    guard text.count >= 3, text.count <= 6, text.starts(with: "0x".utf8) else { return nil }
    var value: UInt16 = 0
    for byte in text.dropFirst(2) {
        guard let digit = hexValue(byte) else { return nil }
        value = value << 4 | UInt16(digit)
    }
    return value
}

/// A key of a native request, and the bit that notes it was given.
private enum RequestKey: UInt16 {
    case kind = 1, bridge = 2, link = 4, mode = 8, mac = 16, queues = 32, vnetHeader = 64, vhost = 128,
         `protocol` = 256, promisc = 512

    /// Every key, in the order `keys(for:)` lists them.
    static let all: [RequestKey] = [.kind, .bridge, .link, .mode, .mac, .queues, .vnetHeader, .vhost, .protocol, .promisc]

    /// The key as written.
    var name: String {
        switch self {
        case .kind: return "kind"
        case .bridge: return "bridge"
        case .link: return "link"
        case .mode: return "mode"
        case .mac: return "mac"
        case .queues: return "queues"
        case .vnetHeader: return "vnet-hdr"
        case .vhost: return "vhost"
        case .protocol: return "protocol"
        case .promisc: return "promisc"
        }
    }

    /// The key `bytes` spell, compared byte for byte; nil for none.
    init?(_ bytes: ArraySlice<UInt8>) {
        for key in RequestKey.all where key.name.utf8.elementsEqual(bytes) {
            self = key
            return
        }
        return nil
    }

    /// Whether a request of `kind` may have the key.
    func applies(to kind: RuleKind) -> Bool {
        switch self {
        case .kind, .vnetHeader: return true
        case .bridge: return kind == .tap
        case .link: return kind != .tap
        case .queues, .vhost: return kind != .raw
        case .mode, .mac: return kind == .macvtap
        case .protocol, .promisc: return kind == .raw
        }
    }

    /// "kind, bridge, queues, vnet-hdr, vhost": the keys of `kind`.
    static func keys(for kind: RuleKind) -> String {
        var text = ""
        for key in all where key.applies(to: kind) { text += (text.isEmpty ? "" : ", ") + key.name }
        return text
    }
}

/// `bytes` in double quotes with `"` and `\` escaped and control and non-ASCII bytes as \xHH, as
/// NetFDCore's `quoted` shows command-line text.
func requestQuoted(_ bytes: ArraySlice<UInt8>) -> String {
    let digits: StaticString = "0123456789abcdef"
    var out: [UInt8] = [UInt8(ascii: "\"")]
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), byte]
        case 0x20..<0x7F: out.append(byte)
        default: out += [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits.utf8Start[Int(byte >> 4)], digits.utf8Start[Int(byte & 0xF)]]
        }
    }
    out.append(UInt8(ascii: "\""))
    return String(decoding: out, as: UTF8.self)
}

/// `text` quoted as `requestQuoted(_:)` quotes bytes.
func requestQuoted(_ text: String) -> String { requestQuoted(Array(text.utf8)[...]) }
