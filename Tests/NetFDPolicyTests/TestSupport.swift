import XCTest
@testable import NetFDPolicy

/// Users: root 0, alice 1000 (kvm, netdev), bob 1001 (netdev), carol 1002 (no groups).
let testUsers = UserDatabase(
    passwd: Array("""
        root:x:0:0:root:/root:/bin/bash
        alice:x:1000:1000:Alice:/home/alice:/bin/sh
        bob:x:1001:1001::/home/bob:/bin/sh
        carol:x:1002:1002::/home/carol:/bin/sh

        """.utf8),
    group: Array("""
        root:x:0:
        kvm:x:108:alice
        netdev:x:109:alice,bob
        alice:x:1000:
        bob:x:1001:

        """.utf8))

let root = Identity(uid: 0, gid: 0, supplementaryGroups: [])
let alice = Identity(uid: 1000, gid: 1000, supplementaryGroups: [108, 109])
let bob = Identity(uid: 1001, gid: 1001, supplementaryGroups: [109])
let carol = Identity(uid: 1002, gid: 1002, supplementaryGroups: [])

/// The default top-level policy path used by the helpers below.
let mainPolicy = "/etc/netfd/netfd.policy"

/// A validated interface name; traps on invalid test input.
func interface(_ text: String) -> InterfaceName {
    try! InterfaceName(validating: text)
}

/// A tap request for `bridge`.
func tap(_ bridge: String, vnetHeader: Bool = true, queues: Int = 1, vhost: Bool = false) -> PolicyRequest {
    .tap(TapRequest(bridge: interface(bridge), vnetHeader: vnetHeader, queues: queues, vhost: vhost))
}

/// A macvtap request on `link`.
func macvtap(_ link: String, mode: MacvtapMode = .bridge, mac: String? = nil, queues: Int = 1,
             vnetHeader: Bool = false, vhost: Bool = false) -> PolicyRequest {
    .macvtap(MacvtapRequest(link: interface(link), mode: mode, address: mac.map { MacAddress(parsing: $0)! },
                            queues: queues, vnetHeader: vnetHeader, vhost: vhost))
}

/// A raw socket request on `link`.
func raw(_ link: String, protocol ethernetProtocol: UInt16 = 0x0003, vnetHeader: Bool = false, promiscuous: Bool = false) -> PolicyRequest {
    .raw(RawRequest(link: interface(link), ethernetProtocol: ethernetProtocol, vnetHeader: vnetHeader, promiscuous: promiscuous))
}

/// A file system holding `files` (path: contents), root-owned 0644.
func fileSystem(_ files: [String: String]) -> InMemoryPolicyFileSystem {
    let fs = InMemoryPolicyFileSystem()
    for (path, contents) in files { fs.addFile(path, contents: contents) }
    return fs
}

/// Loads `path` from `fs` with the test users.
func load(_ fs: InMemoryPolicyFileSystem, path: String = mainPolicy, trustedOwner: UInt32 = 0,
          limits: PolicyLoader.Limits = .init()) throws -> Policy {
    try PolicyLoader(fileSystem: fs, users: testUsers, trustedOwner: trustedOwner, limits: limits).load(path: path)
}

/// Loads `text` as the main policy plus `others` (path: contents).
func load(_ text: String, others: [String: String] = [:]) throws -> Policy {
    var files = others
    files[mainPolicy] = text
    return try load(fileSystem(files))
}

/// The one-line description of the error loading fails with, or a failure note.
func loadError(_ fs: InMemoryPolicyFileSystem, path: String = mainPolicy, trustedOwner: UInt32 = 0,
               limits: PolicyLoader.Limits = .init(), file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try load(fs, path: path, trustedOwner: trustedOwner, limits: limits)
        XCTFail("policy loaded but an error was expected", file: file, line: line)
        return "<loaded>"
    } catch {
        return "\(error)"
    }
}

/// The error loading `text` as the main policy (plus `others`) fails with.
func loadError(_ text: String, others: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line) -> String {
    var files = others
    files[mainPolicy] = text
    return loadError(fileSystem(files), file: file, line: line)
}

extension Decision {
    /// A compact, comparable rendering: "allowed vnet-hdr=yes by [rule; rule]" (with " quota=N"
    /// after the vnet-hdr when the grant has one), "denied by [rule]", "not allowed", or
    /// "exceeds [rule]: reason".
    var summary: String {
        switch self {
        case let .allowed(grant, rules):
            let quota = grant.quota.map { " quota=\($0)" } ?? ""
            return "allowed vnet-hdr=\(grant.vnetHeader ? "yes" : "no")\(quota) by [\(rules.map(\.text).joined(separator: "; "))]"
        case let .denied(rules):
            return "denied by [\(rules.map(\.text).joined(separator: "; "))]"
        case .notAllowed:
            return "not allowed"
        case let .exceeds(rule, reason):
            return "exceeds [\(rule.text)]: \(reason)"
        }
    }
}
