import XCTest
@testable import NetFDPolicy

final class UserDatabaseTests: XCTestCase {
    func testParsesPasswdAndGroupTolerantly() {
        let database = UserDatabase(
            passwd: Array("""
                # comment
                root:x:0:0:root:/root:/bin/bash

                daemon:x:1:1
                +nisuser::::::
                -blocked:x:7:7::/:/bin/false
                broken line without colons
                toolong:x:99999999999:1::/:/bin/sh
                negative:x:-1:1::/:/bin/sh
                alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\r
                alice:x:2000:2000::/:/bin/sh
                twin:x:1000:3000::/:/bin/sh
                :x:5:5::/:/bin/sh
                nogid:x:1001:
                """.utf8),
            group: Array("""
                root:x:0:
                kvm:x:108:alice,bob,alice
                netdev:x:109:bob,alice\r
                empty:x:110
                bad:x:abc:alice
                kvm:x:999:carol
                nomembers:x:111:
                """.utf8))
        XCTAssertEqual(database.userID(named: "root"), 0)
        XCTAssertEqual(database.userID(named: "daemon"), 1)
        XCTAssertEqual(database.userID(named: "alice"), 1000)
        XCTAssertEqual(database.userID(named: "twin"), 1000)
        XCTAssertEqual(database.userName(forID: 1000), "alice")
        XCTAssertEqual(database.primaryGroup(ofUserID: 1000), 1000)
        XCTAssertEqual(database.primaryGroup(ofUserID: 1), 1)
        for missing in ["+nisuser", "nisuser", "-blocked", "blocked", "toolong", "negative", "", "nogid", "broken line without colons"] {
            XCTAssertNil(database.userID(named: missing), missing)
        }
        XCTAssertNil(database.userName(forID: 7))
        XCTAssertNil(database.primaryGroup(ofUserID: 4242))

        XCTAssertEqual(database.groupID(named: "kvm"), 108)
        XCTAssertEqual(database.groupID(named: "empty"), 110)
        XCTAssertNil(database.groupID(named: "bad"))
        XCTAssertEqual(database.groupName(forID: 109), "netdev")
        XCTAssertEqual(database.groupName(forID: 999), "kvm")
        XCTAssertEqual(database.supplementaryGroups(ofUser: "alice"), [108, 109])
        XCTAssertEqual(database.supplementaryGroups(ofUser: "bob"), [108, 109])
        XCTAssertEqual(database.supplementaryGroups(ofUser: "carol"), [999])
        XCTAssertEqual(database.supplementaryGroups(ofUser: "nobody"), [])
    }

    func testEmptyDatabases() {
        let database = UserDatabase(passwd: [], group: [])
        XCTAssertNil(database.userID(named: "root"))
        XCTAssertNil(database.groupID(named: "root"))
    }
}
