import XCTest
@testable import NetFDPolicy

/// The compiled form decides exactly as the text does, and is used only while every source is
/// unchanged; anything else makes it step aside (and say why).
final class CompiledPolicyTests: XCTestCase {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed by its seed.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
    }

    static let bridges = ["br0", "br1", "br-a", "vmbr0", "brx", "user"]
    static let identities: [Identity] = [
        root, alice, bob, carol,
        Identity(uid: 1003, gid: 108, supplementaryGroups: [109, 108, 5]),
        Identity(uid: 0, gid: 109, supplementaryGroups: Array(100..<112)),
    ]

    static let links = ["eth0", "eth1", "veth-a", "wlan0", "user"]

    /// One random statement, of any kind, with options valid for its kind.
    static func randomStatement(_ random: inout Generator) -> String {
        let effect = random.pick(["allow", "deny"])
        if random.below(10) == 0 { return "\(effect) \(random.pick(["br0", "br1", "all", "user"]))" }   // bridge.conf form
        let subject = random.pick(["any", "user root", "user alice", "user 1001", "user 1003", "user nosuchuser",
                                   "group kvm", "group netdev", "group 108", "group 5", "group nosuchgroup", "user 0"])
        let kind = random.pick(["tap", "tap", "macvtap", "raw"])
        let target: String
        if kind == "tap" {
            target = random.pick(["", " bridge br0", " bridge br1", " bridge br-a", " bridge vmbr0", " bridge all",
                                  " bridge glob:br*", " bridge glob:br?", " bridge glob:vm[a-z]*", " bridge glob:*", " bridge user"])
        } else {
            target = random.pick(["", " link eth0", " link eth1", " link veth-a", " link all", " link glob:eth*", " link glob:*[0-9]", " link user"])
        }
        var options = ""
        if effect == "allow" {
            var choices = [" vnet-hdr=no", " vnet-hdr=yes"]
            switch kind {
            case "tap": choices += [" queues=2", " queues=4", " queues=64", " vhost=yes", " vhost=no", " quota=1", " quota=7"]
            case "macvtap": choices += [" queues=2", " queues=4", " vhost=yes", " quota=3", " quota=100000", " mode=vepa", " mode=passthru,bridge",
                                        " mode=private,vepa,bridge,passthru", " mac=any", " mac=52:54:00:*", " mac=52:54:00:12:34:56,0e:*"]
            default: choices += [" promisc=yes", " promisc=no"]
            }
            // Up to three distinct options.
            for _ in 0..<random.below(4) {
                let option = random.pick(choices)
                let key = option.prefix { $0 != "=" }
                if !options.contains(key + "=") { options += option }
            }
        }
        let comment = random.below(5) == 0 ? "   # note \(random.below(100))" : ""
        return "\(effect) \(subject) \(kind)\(target)\(options)\(comment)"
    }

    /// Requests of every kind, with and without the features the options limit.
    static let requests: [PolicyRequest] = {
        var requests: [PolicyRequest] = []
        for bridge in bridges {
            for vnet in [true, false] { requests.append(tap(bridge, vnetHeader: vnet)) }
        }
        requests += [tap("br0", queues: 2), tap("br0", queues: 4, vhost: true), tap("br1", vhost: true), tap("br-a", vnetHeader: false, queues: 64)]
        for link in links {
            requests += [macvtap(link), macvtap(link, mode: .vepa, vnetHeader: true), macvtap(link, mode: .passthru, queues: 2),
                         macvtap(link, mac: "52:54:00:12:34:56", queues: 4, vhost: true), macvtap(link, mode: .private, mac: "0e:01:02:03:04:05"),
                         raw(link), raw(link, vnetHeader: true, promiscuous: true), raw(link, protocol: 0x0800)]
        }
        return requests
    }()

    /// A random policy of about `rules` rules over a main file, an included file and an included
    /// directory of two files; sometimes with a tap prefix.
    static func randomPolicy(_ random: inout Generator, rules: Int) -> InMemoryPolicyFileSystem {
        var texts = ["", "", "", ""]
        for _ in 0..<rules { texts[random.below(4)] += randomStatement(&random) + "\n" }
        let fs = InMemoryPolicyFileSystem()
        let prefix = (random.below(3) == 0 ? "set tap-prefix vm\n" : "") + (random.below(3) == 0 ? "set vhost-device /dev/vhost-test\n" : "")
        fs.addFile(mainPolicy, contents: prefix + texts[0] + "include extra.policy\ninclude netfd.policy.d\n" + texts[0])
        fs.addFile("/etc/netfd/extra.policy", contents: texts[1])
        fs.addFile("/etc/netfd/netfd.policy.d/10-a.policy", contents: texts[2])
        fs.addFile("/etc/netfd/netfd.policy.d/20-b.policy", contents: texts[3])
        addUserDatabase(fs)
        return fs
    }

    /// /etc/passwd and /etc/group, as the compiler records them when names are resolved.
    static func addUserDatabase(_ fs: InMemoryPolicyFileSystem) {
        fs.addFile("/etc/passwd", contents: "root:x:0:0::/root:/bin/sh\n")
        fs.addFile("/etc/group", contents: "root:x:0:\n")
    }

    /// Compiles `path` on `fs` (the clock moved past the settle time first) and installs the
    /// result as the compiled file, root-owned 0644.
    @discardableResult
    static func compile(_ fs: InMemoryPolicyFileSystem, path: String = mainPolicy, file: StaticString = #filePath, line: UInt = #line) throws -> [UInt8] {
        fs.advanceClock(seconds: 10)
        let outcome = try PolicyCompiler(fileSystem: fs, users: testUsers).compile(path: path, started: fs.now)
        guard case .compiled(let bytes, _) = outcome else {
            XCTFail("expected a compiled policy, got \(outcome)", file: file, line: line)
            return []
        }
        fs.addFile(CompiledPolicyFormat.compiledPath(for: path), bytes: bytes)
        return bytes
    }

    /// Counts loads of the text.
    final class Counter { var value = 0 }

    /// Opens the compiled form of `path`; `fallbacks` counts loads of the text.
    static func open(_ fs: InMemoryPolicyFileSystem, path: String = mainPolicy, fallbacks: Counter = Counter()) -> Result<CompiledPolicy, CompiledPolicy.Unusable> {
        Result { () throws(CompiledPolicy.Unusable) in
            try CompiledPolicy.open(policyPath: path, fileSystem: fs) { () throws(PolicyError) in
                fallbacks.value += 1
                return try PolicyLoader(fileSystem: fs, users: testUsers).load(path: path)
            }
        }
    }

    /// Every identity and request of every kind, decided by both forms.
    /// - Returns: the shape (`shape`) of every decision.
    @discardableResult
    func assertSameDecisions(_ policy: Policy, _ compiled: CompiledPolicy, context: String, file: StaticString = #filePath, line: UInt = #line) throws -> Set<String> {
        XCTAssertEqual(compiled.tapNamePrefix, policy.tapNamePrefix, context, file: file, line: line)
        XCTAssertEqual(compiled.vhostDevicePath, policy.vhostDevicePath, context, file: file, line: line)
        XCTAssertEqual(compiled.mainFile, policy.files.first, context, file: file, line: line)
        var shapes: Set<String> = []
        for identity in Self.identities {
            for request in Self.requests {
                let expected = policy.decide(request, for: identity)
                XCTAssertEqual(try compiled.decide(request, for: identity), expected,
                               "\(context): \(request.summary) for \(identity)", file: file, line: line)
                shapes.insert(Self.shape(expected, request))
            }
        }
        return shapes
    }

    func testCompiledDecisionsEqualTheText() throws {
        // 48 policies from 0 to ~1,100 rules: runs of one subject span several 64-record blocks.
        var outcomes: Set<String> = []
        for seed in 0..<48 {
            var random = Generator(state: UInt64(seed))
            let fs = Self.randomPolicy(&random, rules: seed < 40 ? seed * 3 : 300 + seed * 20)
            let policy = try load(fs)
            try Self.compile(fs)
            let fallbacks = Counter()
            let compiled = try Self.open(fs, fallbacks: fallbacks).get()
            outcomes.formUnion(try assertSameDecisions(policy, compiled, context: "seed \(seed), \(policy.rules.count) rules"))
            XCTAssertEqual(fallbacks.value, 0, "seed \(seed): a current compiled form must not fall back to the text")
        }
        // The comparison covered every kind of outcome for every kind of request.
        for kind in ["tap", "macvtap", "raw"] {
            for outcome in ["allowed", "denied", "not allowed", "exceeds"] {
                XCTAssertTrue(outcomes.contains("\(kind) \(outcome)"), "no \(kind) request was \(outcome)")
            }
        }
        XCTAssertTrue(outcomes.contains("tap allowed with quota"))
        XCTAssertTrue(outcomes.contains("macvtap allowed with quota"))
    }

    /// "macvtap exceeds", "tap allowed with quota": what a decision was, for coverage.
    static func shape(_ decision: Decision, _ request: PolicyRequest) -> String {
        let kind = request.kind.rawValue
        switch decision {
        case .allowed(let grant, _): return grant.quota == nil ? "\(kind) allowed" : "\(kind) allowed with quota"
        case .denied: return "\(kind) denied"
        case .notAllowed: return "\(kind) not allowed"
        case .exceeds: return "\(kind) exceeds"
        }
    }

    func testEveryOptionAndSettingSurvivesCompilation() throws {
        let fs = fileSystem([mainPolicy: """
            set vhost-device /dev/vhost-test
            allow group kvm macvtap link eth0 mode=passthru,vepa queues=8 vhost=yes mac=52:54:00:AB:*,0E:00:00:00:00:01,any quota=100000 vnet-hdr=no
            allow any raw link glob:eth? promisc=yes vnet-hdr=no
            allow any tap bridge br0 queues=64 vhost=yes quota=1
            deny user bob macvtap link eth0
            """])
        Self.addUserDatabase(fs)
        let policy = try load(fs)
        try Self.compile(fs)
        let compiled = try Self.open(fs).get()
        XCTAssertEqual(compiled.vhostDevicePath, "/dev/vhost-test")
        // `.allowed` carries the rules themselves: every option came back exactly.
        XCTAssertEqual(try compiled.decide(macvtap("eth0", mode: .vepa, mac: "52:54:00:ab:00:01", queues: 8, vhost: true), for: alice),
                       .allowed(Grant(vnetHeader: false, quota: 100_000), by: [policy.rules[0]]))
        XCTAssertEqual(try compiled.decide(macvtap("eth0", mode: .bridge), for: alice),
                       .exceeds(rule: policy.rules[0], reason: "allows modes passthru, vepa, not bridge"))
        XCTAssertEqual(try compiled.decide(raw("eth1", promiscuous: true), for: alice), .allowed(Grant(vnetHeader: false), by: [policy.rules[1]]))
        XCTAssertEqual(try compiled.decide(tap("br0", queues: 64, vhost: true), for: alice), .allowed(Grant(vnetHeader: true, quota: 1), by: [policy.rules[2]]))
        XCTAssertEqual(try compiled.decide(macvtap("eth0"), for: bob), .denied(by: [policy.rules[3]]))
        XCTAssertEqual(try compiled.decide(raw("eth10"), for: alice), .notAllowed)
        try assertSameDecisions(policy, compiled, context: "every option")

        // Without the setting, the compiled form has none either.
        let plain = fileSystem([mainPolicy: "allow any macvtap\n"])
        try Self.compile(plain)
        XCTAssertNil(try Self.open(plain).get().vhostDevicePath)
    }

    func testTenThousandRulesOfDistinctSubjects() throws {
        // The benchmark's shape: 9,999 rules for other users and groups, one that matches root.
        var text = ""
        for i in 1..<10_000 {
            switch i % 4 {
            case 0: text += "allow user \(20000 + i) tap bridge br-vm\(i)\n"
            case 1: text += "deny user \(20000 + i) tap bridge glob:br-lab\(i)-*\n"
            case 2: text += "allow group \(30000 + i) tap bridge br-team\(i) vnet-hdr=no\n"
            default: text += "allow user \(20000 + i) tap bridge br\(i)  # tenant \(i)\n"
            }
        }
        text += "allow user root tap bridge br0\n"
        let fs = fileSystem([mainPolicy: text])
        Self.addUserDatabase(fs)
        let policy = try load(fs)
        try Self.compile(fs)
        let compiled = try Self.open(fs).get()
        try assertSameDecisions(policy, compiled, context: "10k rules")
        let tenant = Identity(uid: 20003, gid: 20003, supplementaryGroups: [30002])
        for bridge in ["br3", "br-team2", "br-vm4", "br-lab1-x", "br2"] {
            XCTAssertEqual(try compiled.decide(tap(bridge), for: tenant), policy.decide(tap(bridge), for: tenant), bridge)
        }
        XCTAssertEqual(try compiled.decide(tap("br0"), for: root).summary, "allowed vnet-hdr=yes by [allow user root tap bridge br0]")
    }

    func testRefusalNamesTheSameRuleAndLocation() throws {
        let fs = fileSystem([mainPolicy: "allow any tap\n# x\n  deny user alice tap bridge glob:br*   # no\n"])
        Self.addUserDatabase(fs)
        try Self.compile(fs)
        let decision = try Self.open(fs).get().decide(tap("br0"), for: alice)
        guard case .denied(let rules) = decision else { return XCTFail("\(decision)") }
        XCTAssertEqual(rules.map(\.text), ["deny user alice tap bridge glob:br*"])
        XCTAssertEqual(rules.first?.location, SourceLocation(file: mainPolicy, line: 3, column: 3))
    }

    // MARK: when the compiled form steps aside

    /// Compiles the default fixture: a main file that includes a directory, names a user.
    func compiledFixture() throws -> InMemoryPolicyFileSystem {
        let fs = fileSystem([mainPolicy: "allow user alice tap bridge br0\ninclude netfd.policy.d\n",
                             "/etc/netfd/netfd.policy.d/10-a.policy": "deny group 5 tap bridge br1\nallow any macvtap link eth0 mode=vepa mac=52:54:00:* quota=2\n"])
        Self.addUserDatabase(fs)
        try Self.compile(fs)
        guard case .success = Self.open(fs) else { XCTFail("fixture not usable"); throw Unusable() }
        return fs
    }
    struct Unusable: Error {}

    /// Asserts the compiled form is not used after `change`, for `expected` reason.
    func assertStale(_ expected: CompiledPolicy.Unusable, after change: (InMemoryPolicyFileSystem) -> Void,
                     file: StaticString = #filePath, line: UInt = #line) throws {
        let fs = try compiledFixture()
        change(fs)
        switch Self.open(fs) {
        case .success: XCTFail("the compiled form was used after the change", file: file, line: line)
        case .failure(let reason): XCTAssertEqual(reason, expected, file: file, line: line)
        }
    }

    func testEditedInPlaceIsStale() throws {
        try assertStale(.stale(path: mainPolicy, reason: "has changed")) {
            $0.rewriteFile(mainPolicy, contents: "allow user alice tap bridge br9\ninclude netfd.policy.d\n")
        }
    }

    func testSameSizeSameSecondEditIsStaleByChangeTime() throws {
        // Same length; only the change time (which no system call can set back) moved.
        try assertStale(.stale(path: mainPolicy, reason: "has changed")) { fs in
            let before = try! fs.metadata(atPath: mainPolicy)
            fs.rewriteFile(mainPolicy, contents: "allow user alice tap bridge br9\ninclude netfd.policy.d\n")
            fs.setTimes(mainPolicy, modified: before.modified, changed: fs.now)
        }
    }

    func testReplacedFileIsStale() throws {
        try assertStale(.stale(path: mainPolicy, reason: "was replaced")) {
            $0.addFile(mainPolicy, contents: "allow user alice tap bridge br0\ninclude netfd.policy.d\n")
        }
    }

    func testFileAddedToIncludedDirectoryIsStale() throws {
        try assertStale(.stale(path: "/etc/netfd/netfd.policy.d", reason: "has changed entries")) {
            $0.addFile("/etc/netfd/netfd.policy.d/30-new.policy", contents: "allow any tap\n")
        }
    }

    func testFileRemovedFromIncludedDirectoryIsStale() throws {
        try assertStale(.stale(path: "/etc/netfd/netfd.policy.d", reason: "has changed entries")) {
            $0.remove("/etc/netfd/netfd.policy.d/10-a.policy")
        }
    }

    func testIncludedFileEditedIsStale() throws {
        try assertStale(.stale(path: "/etc/netfd/netfd.policy.d/10-a.policy", reason: "has changed")) {
            $0.rewriteFile("/etc/netfd/netfd.policy.d/10-a.policy", contents: "deny group 5 tap bridge br2\n")
        }
    }

    func testUserDatabaseChangeIsStaleWhenNamesWereResolved() throws {
        try assertStale(.stale(path: "/etc/passwd", reason: "was replaced")) {
            $0.addFile("/etc/passwd", contents: "root:x:0:0::/root:/bin/sh\nalice:x:2000:2000::/:/bin/sh\n")
        }
        try assertStale(.stale(path: "/etc/group", reason: "has changed")) {
            $0.rewriteFile("/etc/group", contents: "root:x:0:\nkvm:x:5:\n")
        }
    }

    func testNumericPolicyDoesNotDependOnTheUserDatabase() throws {
        let fs = fileSystem([mainPolicy: "allow user 1000 tap bridge br0\ndeny group 5 tap\n"])
        Self.addUserDatabase(fs)
        try Self.compile(fs)
        fs.addFile("/etc/passwd", contents: "someone:x:1:1::/:/bin/sh\n")
        XCTAssertEqual(try Self.open(fs).get().decide(tap("br0"), for: alice).isAllowed, true)
    }

    func testPolicyMadeWritableOrChownedIsNotTrusted() throws {
        try assertStale(.stale(path: mainPolicy, reason: "is writable by group or others")) { $0.changeAttributes(mainPolicy, mode: 0o666) }
        try assertStale(.stale(path: mainPolicy, reason: "is owned by uid 1000")) { $0.changeAttributes(mainPolicy, owner: 1000) }
        try assertStale(.stale(path: "/etc/netfd", reason: "is writable by group or others")) { $0.changeAttributes("/etc/netfd", mode: 0o777) }
        try assertStale(.stale(path: "/etc", reason: "is owned by uid 1000")) { $0.changeAttributes("/etc", owner: 1000) }
    }

    func testDirectoryReplacedBySymlinkIsStale() throws {
        try assertStale(.stale(path: "/etc/netfd/netfd.policy.d", reason: "is no longer a directory")) {
            $0.remove("/etc/netfd/netfd.policy.d")
            $0.addSymlink("/etc/netfd/netfd.policy.d", target: "/tmp/x")
        }
    }

    func testCompiledFileItselfMustBeTrusted() throws {
        let compiledPath = CompiledPolicyFormat.compiledPath(for: mainPolicy)
        try assertStale(.untrusted("writable by group or others")) { $0.changeAttributes(compiledPath, mode: 0o664) }
        try assertStale(.untrusted("owned by uid 1000")) { $0.changeAttributes(compiledPath, owner: 1000) }
        try assertStale(.untrusted("a symlink")) {
            $0.remove(compiledPath)
            $0.addSymlink(compiledPath, target: "/tmp/x")
        }
        XCTAssertEqual(Self.open(InMemoryPolicyFileSystem()).failureReason, .missing)
    }

    func testCompiledForAnotherPathIsNotUsed() throws {
        let fs = try compiledFixture()
        let bytes = try fs.readFile(atPath: CompiledPolicyFormat.compiledPath(for: mainPolicy), maxBytes: 1 << 20).bytes
        fs.addFile("/etc/netfd/other.policy", contents: "allow any tap\n")
        fs.addFile("/etc/netfd/other.policy.compiled", bytes: bytes)
        XCTAssertEqual(Self.open(fs, path: "/etc/netfd/other.policy").failureReason, .mismatched("compiled for /etc/netfd/netfd.policy"))
    }

    func testTruncationsAreRefusedAndDamageNeverReadsOutOfBounds() throws {
        // Cut short anywhere, the file is refused (the head's sections must add up to its size).
        // Damaged anywhere, every read stays in bounds: open refuses it, or decisions come from
        // records that decode, or from the text. (Its contents are trusted as the root-owned
        // text is: a root who writes "allow" into either gets "allow".)
        let fs = try compiledFixture()
        let path = CompiledPolicyFormat.compiledPath(for: mainPolicy)
        let bytes = try fs.readFile(atPath: path, maxBytes: 1 << 20).bytes
        for length in 0..<bytes.count {
            fs.addFile(path, bytes: Array(bytes.prefix(length)))
            guard case .failure = Self.open(fs) else { return XCTFail("a compiled file cut at \(length) bytes was used") }
        }
        var opened = 0
        for offset in 0..<bytes.count {
            for flip: UInt8 in [0x01, 0xFF] {
                var damaged = bytes
                damaged[offset] ^= flip
                fs.addFile(path, bytes: damaged)
                guard case .success(let compiled) = Self.open(fs) else { continue }
                opened += 1
                for identity in Self.identities {
                    for request in [tap("br0"), tap("br1"), macvtap("eth0", mode: .vepa, mac: "52:54:00:00:00:01"), raw("eth0")] {
                        _ = try? compiled.decide(request, for: identity)
                    }
                }
            }
        }
        XCTAssertGreaterThan(opened, 0, "some damage (in records or text) should get past open")
    }

    /// The compiled fixture with its first record's effect byte (after the 27-byte key) out of its
    /// domain: the head passes `open`, the record does not decode.
    func fixtureWithMalformedRecord() throws -> InMemoryPolicyFileSystem {
        let fs = try compiledFixture()
        let path = CompiledPolicyFormat.compiledPath(for: mainPolicy)
        var bytes = try fs.readFile(atPath: path, maxBytes: 1 << 20).bytes
        let recordsOffset = Int(bytes[20]) | Int(bytes[21]) << 8 | Int(bytes[22]) << 16 | Int(bytes[23]) << 24
        bytes[recordsOffset + 27] = 7
        fs.addFile(path, bytes: bytes)
        return fs
    }

    func testMalformedRecordFallsBackToTheText() throws {
        let fs = try fixtureWithMalformedRecord()
        let fallbacks = Counter()
        let compiled = try Self.open(fs, fallbacks: fallbacks).get()
        XCTAssertEqual(try compiled.decide(tap("br0"), for: alice).summary, "allowed vnet-hdr=yes by [allow user alice tap bridge br0]")
        XCTAssertEqual(fallbacks.value, 1)
    }

    func testFallbackReportsTheTextsError() throws {
        let fs = try fixtureWithMalformedRecord()
        let compiled = try Self.open(fs).get()
        // The text breaks after the open (a race the fallback must still report, not hide).
        fs.rewriteFile(mainPolicy, contents: "allow user alice tap bridge br0 bogus\n")
        XCTAssertThrowsError(try compiled.decide(tap("br0"), for: alice)) { error in
            XCTAssertTrue("\(error)".hasPrefix("/etc/netfd/netfd.policy:1:"), "\(error)")
        }
    }

    // MARK: compiling

    func testRecentChangeIsLeftToSettle() throws {
        let fs = fileSystem([mainPolicy: "allow any tap\n"])
        let compiler = PolicyCompiler(fileSystem: fs, users: testUsers)
        let changed = try fs.metadata(atPath: mainPolicy).changed
        // Started one second after the last change: a later edit might share the timestamp.
        guard case .unsettled(let path, let at) = try compiler.compile(path: mainPolicy, started: changed.adding(seconds: 1)) else {
            return XCTFail("a file changed 1 s before compiling must be left to settle")
        }
        XCTAssertEqual(path, mainPolicy)
        XCTAssertEqual(at, changed)
        guard case .compiled = try compiler.compile(path: mainPolicy, started: changed.adding(seconds: CompiledPolicyFormat.settleSeconds + 1)) else {
            return XCTFail("a settled file must compile")
        }
    }

    func testCompileReportsThePolicyError() throws {
        let fs = fileSystem([mainPolicy: "allow any tap\nallow bogus\nfrobnicate\n"])
        fs.advanceClock(seconds: 10)
        XCTAssertThrowsError(try PolicyCompiler(fileSystem: fs, users: testUsers).compile(path: mainPolicy, started: fs.now)) { error in
            XCTAssertEqual("\(error)", loadError(fs))
        }
    }

    func testDependsOnSymlinkedUserDatabaseIsRefused() throws {
        let fs = fileSystem([mainPolicy: "allow user alice tap\n"])
        fs.addSymlink("/etc/passwd", target: "/usr/share/passwd")
        fs.addFile("/etc/group", contents: "")
        fs.advanceClock(seconds: 10)
        XCTAssertThrowsError(try PolicyCompiler(fileSystem: fs, users: testUsers).compile(path: mainPolicy, started: fs.now)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }
}

extension Result {
    /// The failure, or nil on success.
    var failureReason: Failure? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
