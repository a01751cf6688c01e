import XCTest
@testable import NetFDPolicy

/// The native request words, their summary, and MAC addresses.
final class RequestParserTests: XCTestCase {
    func parse(_ words: String...) throws -> PolicyRequest {
        try PolicyRequest.parse(words)
    }

    func parseError(_ words: [String], file: StaticString = #filePath, line: UInt = #line) -> String {
        do {
            let request = try PolicyRequest.parse(words)
            XCTFail("parsed as \(request) but an error was expected", file: file, line: line)
            return "<parsed>"
        } catch {
            return error.message
        }
    }

    func testParsesEachKindWithDefaultsAndEveryKey() throws {
        XCTAssertEqual(try parse("kind=tap", "bridge=br0"), .tap(TapRequest(bridge: interface("br0"), vnetHeader: false, queues: 1, vhost: false)))
        XCTAssertEqual(try parse("bridge=br0", "queues=4", "kind=tap", "vnet-hdr=yes", "vhost=yes"),
                       .tap(TapRequest(bridge: interface("br0"), vnetHeader: true, queues: 4, vhost: true)))
        XCTAssertEqual(try parse("kind=macvtap", "link=eth0"), .macvtap(MacvtapRequest(link: interface("eth0"))))
        let macvtap = try parse("kind=macvtap", "link=eth0", "mode=passthru", "mac=52:54:00:AB:cd:EF", "queues=64", "vnet-hdr=no", "vhost=yes")
        XCTAssertEqual(macvtap, .macvtap(MacvtapRequest(link: interface("eth0"), mode: .passthru, address: MacAddress(bytes: [0x52, 0x54, 0, 0xAB, 0xCD, 0xEF]),
                                                        queues: 64, vnetHeader: false, vhost: true)))
        XCTAssertEqual(try parse("kind=raw", "link=veth0"), .raw(RawRequest(link: interface("veth0"), ethernetProtocol: 0x0003, vnetHeader: false, promiscuous: false)))
        XCTAssertEqual(try parse("link=veth0", "kind=raw", "protocol=0x88cC", "promisc=yes", "vnet-hdr=yes"),
                       .raw(RawRequest(link: interface("veth0"), ethernetProtocol: 0x88CC, vnetHeader: true, promiscuous: true)))
        for (text, value) in [("all", 0x0003), ("0x3", 0x0003), ("0x800", 0x0800), ("0xFFFF", 0xFFFF), ("0x0806", 0x0806)] {
            XCTAssertEqual(try parse("kind=raw", "link=eth0", "protocol=" + text), .raw(RawRequest(link: interface("eth0"), ethernetProtocol: UInt16(value))), text)
        }
        for mode in MacvtapMode.allCases {
            XCTAssertEqual(try parse("kind=macvtap", "link=eth0", "mode=" + mode.rawValue), .macvtap(MacvtapRequest(link: interface("eth0"), mode: mode)))
        }
        let parsed = try parse("kind=macvtap", "link=eth0", "queues=2")
        XCTAssertEqual(parsed.kind, .macvtap)
        XCTAssertEqual(parsed.target, interface("eth0"))
    }

    func testRefusesWithOneLineMessages() {
        let tapKeys = "keys for tap requests: kind, bridge, queues, vnet-hdr, vhost"
        let macvtapKeys = "keys for macvtap requests: kind, link, mode, mac, queues, vnet-hdr, vhost"
        let rawKeys = "keys for raw requests: kind, link, vnet-hdr, protocol, promisc"
        let nameRule = "only A-Z a-z 0-9 . _ + - are allowed"
        let cases: [([String], String)] = [
            ([], "a request needs kind=tap, kind=macvtap or kind=raw"),
            (["bridge=br0"], "a request needs kind=tap, kind=macvtap or kind=raw"),
            (["kind=tap", "bridge=br0", "kind=tap"], "key \"kind\" is given more than once"),
            (["kind=vhost"], "unknown kind \"vhost\"; expected tap, macvtap or raw"),
            (["kind=TAP"], "unknown kind \"TAP\"; expected tap, macvtap or raw"),
            (["kind="], "unknown kind \"\"; expected tap, macvtap or raw"),
            (["kind=tap", "br0"], "expected KEY=VALUE, found \"br0\""),
            (["br0", "kind=tap"], "expected KEY=VALUE, found \"br0\""),
            (["kind=tap", ""], "expected KEY=VALUE, found \"\""),
            (["kind=tap", "bridge=br0", "link=eth0"], "key \"link\" does not apply to tap requests; \(tapKeys)"),
            (["kind=tap", "bridge=br0", "mode=vepa"], "key \"mode\" does not apply to tap requests; \(tapKeys)"),
            (["kind=raw", "link=eth0", "queues=2"], "key \"queues\" does not apply to raw requests; \(rawKeys)"),
            (["kind=raw", "link=eth0", "vhost=no"], "key \"vhost\" does not apply to raw requests; \(rawKeys)"),
            (["kind=macvtap", "link=eth0", "promisc=yes"], "key \"promisc\" does not apply to macvtap requests; \(macvtapKeys)"),
            (["kind=macvtap", "bridge=br0"], "key \"bridge\" does not apply to macvtap requests; \(macvtapKeys)"),
            (["kind=macvtap", "link=eth0", "colour=blue"], "unknown key \"colour\"; \(macvtapKeys)"),
            (["kind=tap", "bridge=br0", "Queues=2"], "unknown key \"Queues\"; \(tapKeys)"),
            (["kind=tap", "bridge=br0", "=2"], "unknown key \"\"; \(tapKeys)"),
            (["kind=tap", "bridge=br0", "a\u{1B}[0m=1"], "unknown key \"a\\x1b[0m\"; \(tapKeys)"),
            (["kind=tap", "bridge=br0", "queues=2", "queues=2"], "key \"queues\" is given more than once"),
            (["kind=tap", "bridge=br0", "bridge=br0"], "key \"bridge\" is given more than once"),
            (["kind=tap"], "a tap request needs bridge=NAME"),
            (["kind=macvtap", "mode=vepa"], "a macvtap request needs link=NAME"),
            (["kind=raw"], "a raw request needs link=NAME"),
            (["kind=tap", "bridge=br0", "queues=0"], "expected a number from 1 to 64 after \"queues=\", found \"0\""),
            (["kind=tap", "bridge=br0", "queues=65"], "expected a number from 1 to 64 after \"queues=\", found \"65\""),
            (["kind=tap", "bridge=br0", "queues=02"], "expected a number from 1 to 64 after \"queues=\", found \"02\""),
            (["kind=tap", "bridge=br0", "queues=+2"], "expected a number from 1 to 64 after \"queues=\", found \"+2\""),
            (["kind=tap", "bridge=br0", "queues= 2"], "expected a number from 1 to 64 after \"queues=\", found \" 2\""),
            (["kind=tap", "bridge=br0", "queues="], "expected a number from 1 to 64 after \"queues=\", found \"\""),
            (["kind=macvtap", "link=eth0", "queues=1x"], "expected a number from 1 to 64 after \"queues=\", found \"1x\""),
            (["kind=tap", "bridge=br0", "vhost=true"], "expected \"yes\" or \"no\" after \"vhost=\", found \"true\""),
            (["kind=tap", "bridge=br0", "vnet-hdr=Yes"], "expected \"yes\" or \"no\" after \"vnet-hdr=\", found \"Yes\""),
            (["kind=raw", "link=eth0", "promisc="], "expected \"yes\" or \"no\" after \"promisc=\", found \"\""),
            (["kind=macvtap", "link=eth0", "mode=Bridge"], "expected bridge, vepa, private or passthru after \"mode=\", found \"Bridge\""),
            (["kind=macvtap", "link=eth0", "mode=bridge,vepa"], "expected bridge, vepa, private or passthru after \"mode=\", found \"bridge,vepa\""),
            (["kind=macvtap", "link=eth0", "mac=52:54:00:12:34"],
             "expected a MAC address such as 52:54:00:12:34:56 after \"mac=\", found \"52:54:00:12:34\""),
            (["kind=macvtap", "link=eth0", "mac=52:54:00:*"], "expected a MAC address such as 52:54:00:12:34:56 after \"mac=\", found \"52:54:00:*\""),
            (["kind=macvtap", "link=eth0", "mac=any"], "expected a MAC address such as 52:54:00:12:34:56 after \"mac=\", found \"any\""),
            (["kind=macvtap", "link=eth0", "mac=52:54:00:12:34:5"],
             "expected a MAC address such as 52:54:00:12:34:56 after \"mac=\", found \"52:54:00:12:34:5\""),
            (["kind=macvtap", "link=eth0", "mac=01:00:5E:00:00:01"], "mac=01:00:5e:00:00:01 is a multicast address; a guest needs a unicast address"),
            (["kind=macvtap", "link=eth0", "mac=ff:ff:ff:ff:ff:ff"], "mac=ff:ff:ff:ff:ff:ff is a multicast address; a guest needs a unicast address"),
            (["kind=macvtap", "link=eth0", "mac=00:00:00:00:00:00"], "mac=00:00:00:00:00:00 is all zeros; a guest needs a unicast address"),
            (["kind=raw", "link=eth0", "protocol=0x0000"], "protocol=\"0x0000\" receives nothing; give all or an Ethernet protocol such as 0x0800"),
            (["kind=raw", "link=eth0", "protocol=0x"], "expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"0x\""),
            (["kind=raw", "link=eth0", "protocol=0x12345"], "expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"0x12345\""),
            (["kind=raw", "link=eth0", "protocol=0X800"], "expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"0X800\""),
            (["kind=raw", "link=eth0", "protocol=2048"], "expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"2048\""),
            (["kind=raw", "link=eth0", "protocol=ALL"], "expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"ALL\""),
            (["kind=raw", "link=eth0", "protocol=0x-1"], "expected \"all\" or 0x and 1 to 4 hexadecimal digits after \"protocol=\", found \"0x-1\""),
            (["kind=raw", "link=eth0/1"], "invalid link: interface name \"eth0/1\" contains \"/\" at offset 5; \(nameRule)"),
            (["kind=raw", "link="], "invalid link: interface name is empty"),
            (["kind=macvtap", "link=verylongname0123"],
             "invalid link: interface name \"verylongname0123\" is 16 bytes long; the limit is 15 bytes (names are never truncated)"),
            (["kind=tap", "bridge=-br0"], "invalid bridge: interface name \"-br0\" must not start with \"-\""),
            (["kind=tap", "bridge=br\u{E9}"], "invalid bridge: interface name \"br\\xc3\\xa9\" contains \"\\xc3\\xa9\" at offset 3; \(nameRule)"),
            (["kind=tap", "bridge=br0\n"], "invalid bridge: interface name \"br0\\x0a\" contains \"\\x0a\" at offset 4; \(nameRule)"),
            (["kind=tap", "bridge=br\"0"], "invalid bridge: interface name \"br\\\"0\" contains \"\\\"\" at offset 3; \(nameRule)"),
        ]
        for (words, expected) in cases {
            let message = parseError(words)
            XCTAssertEqual(message, expected, "for \(words)")
            XCTAssertFalse(message.unicodeScalars.contains { $0.value < 0x20 || $0.value >= 0x7F }, "one printable ASCII line: \(message)")
        }
    }

    func testSummarySpellsTheRequestWithoutDefaults() throws {
        let cases: [(PolicyRequest, String)] = [
            (tap("br0", vnetHeader: false), "kind=tap bridge=br0"),
            (tap("br0", queues: 4, vhost: true), "kind=tap bridge=br0 queues=4 vnet-hdr=yes vhost=yes"),
            (macvtap("v0", mode: .vepa, queues: 2, vhost: true), "kind=macvtap link=v0 mode=vepa queues=2 vhost=yes"),
            (macvtap("eth0", mac: "52:54:00:AB:CD:EF", vnetHeader: true), "kind=macvtap link=eth0 mac=52:54:00:ab:cd:ef vnet-hdr=yes"),
            (raw("eth0"), "kind=raw link=eth0"),
            (raw("eth0", protocol: 0x800, vnetHeader: true, promiscuous: true), "kind=raw link=eth0 vnet-hdr=yes protocol=0x0800 promisc=yes"),
            (raw("eth0", protocol: 0x88b5), "kind=raw link=eth0 protocol=0x88b5"),
        ]
        for (request, summary) in cases {
            XCTAssertEqual(request.summary, summary)
            // The summary is itself a valid request, which parses back to the same request.
            XCTAssertEqual(try PolicyRequest.parse(summary.split(separator: " ").map(String.init)), request, summary)
        }
    }

    func testMacAddresses() throws {
        let address = try XCTUnwrap(MacAddress(parsing: "52:54:00:aB:Cd:eF"))
        XCTAssertEqual(address.bytes, [0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF])
        XCTAssertEqual(address.description, "52:54:00:ab:cd:ef")
        XCTAssertFalse(address.isMulticast)
        XCTAssertTrue(MacAddress(parsing: "33:33:00:00:00:01")!.isMulticast)
        for invalid in ["", "52:54:00:12:34", "52:54:00:12:34:5", "52:54:00:12:34:567", "52:54:00:12:34:56 ", " 52:54:00:12:34:56",
                        "52:54:00:12:34:56:", "52-54-00-12-34-56", "525400123456", "any", "52:54:00:*", "5:54:00:12:34:56", "g2:54:00:12:34:56"] {
            XCTAssertNil(MacAddress(parsing: invalid), invalid)
        }
        XCTAssertNil(MacAddress(bytes: [1, 2, 3, 4, 5]))
        XCTAssertNil(MacAddress(bytes: [1, 2, 3, 4, 5, 6, 7]))
        XCTAssertEqual(MacAddress(bytes: [2, 0, 0, 0, 0, 1])?.description, "02:00:00:00:00:01")

        // Generated addresses: unicast and locally administered, the rest of the bytes kept.
        let generated = MacAddress.locallyAdministered(random: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(generated.description, "fe:ff:ff:ff:ff:ff")
        XCTAssertEqual(MacAddress.locallyAdministered(random: [0x01, 1, 2, 3, 4, 5, 6]).description, "02:01:02:03:04:05")
        XCTAssertEqual(MacAddress.locallyAdministered(random: [0x52, 0x54]).description, "52:54:00:00:00:00")
        for first: UInt8 in [0, 1, 2, 3, 0x80, 0xFD] {
            let made = MacAddress.locallyAdministered(random: [first, 9, 9, 9, 9, 9])
            XCTAssertFalse(made.isMulticast)
            XCTAssertEqual(made.bytes[0] & 0x02, 0x02)
            XCTAssertEqual(made.bytes[0] & 0xFC, first & 0xFC)
        }
    }
}
