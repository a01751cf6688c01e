// HelperCommandTests.swift - argument validation: QEMU's argv exactly, nothing else.
@testable import NetFDCore
import NetFDPolicy
import XCTest

final class HelperCommandTests: XCTestCase {
    func parse(_ arguments: String...) throws -> HelperCommand { try HelperCommand.parse(arguments) }

    func assertUsage(_ arguments: [String], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try HelperCommand.parse(arguments), file: file, line: line) { error in
            XCTAssertEqual(error as? HelperFailure, .usage(message), file: file, line: line)
            XCTAssertEqual((error as? HelperFailure)?.exitCode, 1, file: file, line: line)
        }
    }

    func testQemuArgvForms() throws {
        let expected = HelperCommand.bridgeHelper(BridgeHelperArguments(
            socket: 5, bridge: try InterfaceName(validating: "br0"), useVnetHeader: true, policyPath: nil))
        // exec form, and the /bin/sh -c form where --br= came first in the helper string
        XCTAssertEqual(try parse("--use-vnet", "--fd=5", "--br=br0"), expected)
        XCTAssertEqual(try parse("--br=br0", "--use-vnet", "--fd=5"), expected)
        guard case .bridgeHelper(let plain) = try parse("--fd=5", "--br=br0") else { return XCTFail() }
        XCTAssertFalse(plain.useVnetHeader)
        guard case .bridgeHelper(let withPolicy) = try parse("--fd=5", "--br=br0", "--policy=/tmp/p") else { return XCTFail() }
        XCTAssertEqual(withPolicy.policyPath, "/tmp/p")
        XCTAssertEqual(try parse("--help"), .help)
        XCTAssertEqual(try parse("--version"), .version)
    }

    func testBridgeNamesAreValidatedWholeNeverTruncated() {
        // CVE-2019-13164: qemu-bridge-helper truncated this to "br0" past a deny rule.
        assertUsage(["--fd=5", "--br=br0aaaaaaaaaaaaaaaaaaaa"],
                    #"invalid --br: interface name "br0aaaaaaaaaaaaaaaaaaaa" is 23 bytes long; the limit is 15 bytes (names are never truncated)"#)
        for bad in ["", "br/0", "br 0", "br\t0", ".", "..", "-br", "br:0", "br*", "brü"] {
            XCTAssertThrowsError(try HelperCommand.parse(["--fd=5", "--br=" + bad]), bad) { error in
                guard case .usage(let message)? = error as? HelperFailure else { return XCTFail("\(bad): \(error)") }
                XCTAssertTrue(message.hasPrefix("invalid --br: interface name "), message)
            }
        }
        XCTAssertThrowsError(try InterfaceName(validating: "br\u{0}0"))
        XCTAssertNoThrow(try HelperCommand.parse(["--fd=5", "--br=" + String(repeating: "b", count: 15)]))
        let sixteen = String(repeating: "b", count: 16)
        assertUsage(["--fd=5", "--br=" + sixteen],
                    "invalid --br: \(InterfaceNameError.tooLong(name: sixteen, length: 16))")
    }

    func testSocketNumberValidation() {
        assertUsage(["--fd=1", "--br=br0"], "--fd=1 is a standard stream; the socket must be another descriptor")
        assertUsage(["--fd=0", "--br=br0"], "--fd=0 is a standard stream; the socket must be another descriptor")
        for bad in ["", "-3", "+3", "3x", "x", "03", "99999999999", "2147483648", " 3"] {
            assertUsage(["--fd=" + bad, "--br=br0"], "--fd=\(quoted(bad)) is not a descriptor number")
        }
        XCTAssertNoThrow(try HelperCommand.parse(["--fd=2147483647", "--br=br0"]))
    }

    func testExactOptionsOnly() {
        assertUsage(["--fd=5", "--br=br0", "--br=br1"], "--br given twice")
        assertUsage(["--fd=5", "--fd=6", "--br=br0"], "--fd given twice")
        assertUsage(["--fd=5", "--br=br0", "--bridge=br1"], #"unknown argument "--bridge=br1"; see netfd-helper --help"#)
        assertUsage(["--fd", "5", "--br=br0"], "--fd needs a value: --fd=VALUE")
        assertUsage(["--fd=5", "--br=br0", "--use-vnet=1"], "--use-vnet takes no value")
        assertUsage(["--fd=5"], "missing --br=BRIDGE")
        assertUsage(["--br=br0"], "missing --fd=N (the unix socket to send the tap on)")
        assertUsage(["--fd=5", "--br=br0", "--policy=relative"], "--policy must be an absolute path")
        assertUsage(["--fd=5", "--br=br0", "x\u{1}y"], #"unknown argument "x\x01y"; see netfd-helper --help"#)
    }

    func testCheckArguments() throws {
        XCTAssertEqual(try parse("check"), .check(CheckArguments()))
        let request = TapRequest(bridge: try InterfaceName(validating: "br0"), vnetHeader: true)
        XCTAssertEqual(try parse("check", "--user", "alice", "--group=kvm", "--group", "27", "tap", "bridge", "br0", "--vnet-hdr"),
                       .check(CheckArguments(policyPath: nil, user: "alice", groups: ["kvm", "27"], request: .tap(request))))
        XCTAssertEqual(try parse("check", "--policy=/p", "tap", "br0"),
                       .check(CheckArguments(policyPath: "/p", user: nil, groups: [], request: .tap(TapRequest(bridge: request.bridge, vnetHeader: false)))))
        assertUsage(["check", "macvtap", "eth0"], #"a request reads: tap bridge NAME [--vnet-hdr], or KEY=VALUE words (kind=macvtap link=eth0 ...); found "macvtap eth0""#)
        // The native words, as `request` takes them.
        XCTAssertEqual(try parse("check", "--user", "bob", "kind=raw", "link=v0"),
                       .check(CheckArguments(policyPath: nil, user: "bob", groups: [], request: .raw(RawRequest(link: try InterfaceName(validating: "v0"))))))
        assertUsage(["check", "kind=raw", "link=v0", "--vnet-hdr"], "--vnet-hdr goes with the short form; write vnet-hdr=yes in a KEY=VALUE request")
    }

    func testNativeRequestArguments() throws {
        let v0 = try InterfaceName(validating: "v0")
        XCTAssertEqual(try parse("request", "--fd=5", "kind=macvtap", "link=v0", "queues=2"),
                       .request(RequestArguments(socket: 5, request: .macvtap(MacvtapRequest(link: v0, queues: 2)), policyPath: nil)))
        XCTAssertEqual(try parse("request", "kind=raw", "--policy=/p", "link=v0", "--fd=7"),
                       .request(RequestArguments(socket: 7, request: .raw(RawRequest(link: v0)), policyPath: "/p")))
        assertUsage(["request", "kind=raw", "link=v0"], "missing --fd=N (the unix socket to send the reply and descriptors on)")
        assertUsage(["request", "--fd=5"], "missing request: kind=tap|macvtap|raw and its keys (netfd-helper(8))")
        assertUsage(["request", "--fd=5", "--fd=6", "kind=raw", "link=v0"], "--fd given twice")
        assertUsage(["request", "--fd=2", "kind=raw", "link=v0"], "--fd=2 is a standard stream; the socket must be another descriptor")
        assertUsage(["request", "--fd=5", "--br=br0"], #"unknown request option "--br=br0"; see netfd-helper --help"#)
        XCTAssertThrowsError(try parse("request", "--fd=5", "kind=raw")) { error in
            XCTAssertTrue((error as? HelperFailure)?.message.hasPrefix("invalid request: ") == true, "\(error)")
        }
        XCTAssertEqual(try parse("release", "macvtap3"), .release(ReleaseArguments(link: try InterfaceName(validating: "macvtap3"))))
        assertUsage(["release"], "release takes exactly one interface name: netfd-helper release NAME")
        assertUsage(["release", "a", "b"], "release takes exactly one interface name: netfd-helper release NAME")
        assertUsage(["check", "--user"], "--user needs a value")
        assertUsage(["check", "--frob"], #"unknown check option "--frob""#)
    }
}
