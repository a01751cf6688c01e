// NetworkNamespace.swift - a named network namespace the test creates and always deletes, with
// the standard topology: br0 (bridge, MTU 1400, up) with vA enslaved, and vA's peer vB (up, free).
import CNetFD
import Foundation
import Glibc
import NetFDSystem
import XCTest

/// One `ip netns` namespace owned by a test. Every link the tests create lives in here.
final class NetworkNamespace {
    /// The namespace's name, `netfd-itest-<pid>-<n>`.
    let name: String
    /// The MTU given to br0, deliberately not 1500 so tests can see it copied onto the tap.
    static let bridgeMTU = 1400
    /// Fixed addresses: the bridge's own is set explicitly so it never adopts a port's address.
    static let bridgeAddress = "02:00:5e:10:00:01"
    static let portAddress = "02:00:5e:10:00:0a"
    static let peerAddress = "02:00:5e:10:00:0b"

    private var deleted = false

    /// Creates an empty namespace with a unique name.
    private init(name: String) throws {
        self.name = name
        try Command.check(["ip", "netns", "add", name])
    }

    /// Creates a namespace with br0, vA (master br0) and vB, and registers its deletion on `testCase`.
    static func withBridge(for testCase: XCTestCase) throws -> NetworkNamespace {
        let namespace = try NetworkNamespace(name: Integration.uniqueName())
        testCase.addTeardownBlock { namespace.delete() }
        do {
            try namespace.ip("link", "add", "br0", "type", "bridge")
            try namespace.ip("link", "set", "br0", "address", bridgeAddress, "mtu", "\(bridgeMTU)", "up")
            try namespace.ip("link", "add", "vA", "address", portAddress, "type", "veth",
                             "peer", "name", "vB", "address", peerAddress)
            try namespace.ip("link", "set", "vA", "master", "br0", "up")
            try namespace.ip("link", "set", "vB", "up")
            try namespace.ip("link", "set", "lo", "up")
        } catch {
            namespace.delete()
            throw error
        }
        return namespace
    }

    /// Deletes the namespace (and with it every link in it); safe to call twice.
    func delete() {
        guard !deleted else { return }
        deleted = true
        if let result = try? Command.run(["ip", "netns", "delete", name]), result.status != 0 {
            print("warning: could not delete network namespace \(name): \(result.standardError)")
        }
    }

    deinit { delete() }

    /// Runs `ip -n NAME ARGS...` and returns its stdout; throws if it fails.
    @discardableResult
    func ip(_ arguments: String...) throws -> String {
        try Command.check(["ip", "-n", name] + arguments)
    }

    /// The names of all links in the namespace (`ip -o link show`), sorted.
    func linkNames() throws -> [String] {
        Self.linkNames(in: try ip("-o", "link", "show"))
    }

    /// The names of the links enslaved to `bridge`, sorted.
    func ports(of bridge: String) throws -> [String] {
        Self.linkNames(in: try ip("-o", "link", "show", "master", bridge))
    }

    /// The link names of `ip -o link show` output ("3: tap0: <...>", "5: vA@vB: <...>"), sorted.
    static func linkNames(in output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: ":", maxSplits: 2)
            guard fields.count >= 2 else { return nil }
            let name = fields[1].trimmingCharacters(in: .whitespaces)
            return String(name.split(separator: "@").first ?? Substring(name))
        }.sorted()
    }

    /// The `ip -d -j link show NAME` object of one link, or nil when the link does not exist.
    func link(_ linkName: String) throws -> [String: Any]? {
        let result = try Command.run(["ip", "-n", name, "-d", "-j", "link", "show", "dev", linkName])
        guard result.status == 0 else { return nil }
        let parsed = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
        return (parsed as? [[String: Any]])?.first
    }

    /// The `ip -d -j` object of `linkName`, failing the test when the link does not exist.
    func requireLink(_ linkName: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let object = try link(linkName)
        XCTAssertNotNil(object, "link \(linkName) should exist in \(name); links: \((try? linkNames()) ?? [])",
                        file: file, line: line)
        guard let object else { throw IntegrationError("link \(linkName) missing") }
        return object
    }

    /// The interface index of `linkName` inside the namespace.
    func index(of linkName: String) throws -> Int32 {
        guard let index = try requireLink(linkName)["ifindex"] as? Int else {
            throw IntegrationError("no ifindex for \(linkName)")
        }
        return Int32(index)
    }

    /// Runs `body` on this thread inside the namespace, then returns the thread to its own namespace
    /// (or stops the tests: carrying on inside would make later tests touch the wrong links).
    /// Sockets that `body` opens stay in this namespace.
    func inside<T>(_ body: () throws -> T) throws -> T {
        let original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
        guard original >= 0 else { throw IntegrationError("open /proc/thread-self/ns/net: \(Errno.current)") }
        defer { Glibc.close(original) }
        let target = open("/run/netns/\(name)", O_RDONLY | O_CLOEXEC)
        guard target >= 0 else { throw IntegrationError("open /run/netns/\(name): \(Errno.current)") }
        defer { Glibc.close(target) }
        let entered = netfd_setns(target, netfd_CLONE_NEWNET)
        guard entered == 0 else { throw IntegrationError("setns into \(name): \(Errno(-entered))") }
        defer {
            let returned = netfd_setns(original, netfd_CLONE_NEWNET)
            guard returned == 0 else { fatalError("could not return to the original network namespace: \(Errno(-returned))") }
        }
        return try body()
    }

    /// Waits (bounded) until `linkName` no longer exists; returns whether it vanished.
    func waitUntilGone(_ linkName: String, timeout: TimeInterval = 5) throws -> Bool {
        try Integration.waitUntil(timeout: timeout) { try !linkNames().contains(linkName) }
    }
}

/// Typed reads of the `ip -d -j link show` JSON object.
extension Dictionary where Key == String, Value == Any {
    /// `linkinfo.info_kind`, e.g. "tun", "bridge", "veth".
    var infoKind: String? { (self["linkinfo"] as? [String: Any])?["info_kind"] as? String }
    /// `linkinfo.info_data`, the kind-specific details.
    var infoData: [String: Any] { ((self["linkinfo"] as? [String: Any])?["info_data"] as? [String: Any]) ?? [:] }
    /// `flags`, e.g. ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"].
    var flags: [String] { (self["flags"] as? [String]) ?? [] }
    /// A stable subset of fields that a helper run must leave unchanged on links it did not create.
    var stableFields: [String: String] {
        var fields: [String: String] = [:]
        for key in ["ifindex", "ifname", "mtu", "address", "broadcast", "master", "operstate", "group", "txqlen"] {
            if let value = self[key] { fields[key] = "\(value)" }
        }
        fields["flags"] = flags.sorted().joined(separator: ",")
        fields["info_kind"] = infoKind ?? ""
        return fields
    }
}
