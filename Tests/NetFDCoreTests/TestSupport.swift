// TestSupport.swift - building policies and identities for core tests.
import NetFDPolicy
import XCTest

/// A user database with alice (uid 1000, in kvm), bob (uid 1001) and mallory (uid 1002, in kvm).
let testUsers = UserDatabase(
    passwd: Array("""
        root:x:0:0:root:/root:/bin/sh
        alice:x:1000:1000::/home/alice:/bin/sh
        bob:x:1001:1001::/home/bob:/bin/sh
        mallory:x:1002:1002::/home/mallory:/bin/sh

        """.utf8),
    group: Array("""
        root:x:0:
        alice:x:1000:
        bob:x:1001:
        mallory:x:1002:
        kvm:x:998:alice,mallory

        """.utf8))

let alice = Identity(uid: 1000, gid: 1000, supplementaryGroups: [998])
let bob = Identity(uid: 1001, gid: 1001, supplementaryGroups: [])
let mallory = Identity(uid: 1002, gid: 1002, supplementaryGroups: [998])

/// Loads `text` as /etc/netfd/netfd.policy from an in-memory root-owned tree.
func makePolicy(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Policy {
    let fs = InMemoryPolicyFileSystem()
    fs.addDirectory("/etc")
    fs.addDirectory("/etc/netfd")
    fs.addFile("/etc/netfd/netfd.policy", contents: text)
    return try PolicyLoader(fileSystem: fs, users: testUsers).load(path: "/etc/netfd/netfd.policy")
}
