// CompiledPolicyIntegrationTests.swift - `netfd-policy compile` on the real file system, and the
// helper deciding by the compiled form while it is current and by the text once it is not.
import Foundation
import NetFDClient
import XCTest

final class CompiledPolicyIntegrationTests: IntegrationTestCase {
    /// netfd-policy: $NETFD_POLICY_TOOL, else next to the test executable.
    func policyTool() throws -> String {
        try Integration.builtExecutable("netfd-policy", override: "NETFD_POLICY_TOOL")
    }

    /// Runs `netfd-policy compile --policy path` and checks it reports what it wrote.
    @discardableResult
    func compile(_ path: String, file: StaticString = #filePath, line: UInt = #line) throws -> CommandOutput {
        let result = try Command.run([try policyTool(), "compile", "--policy", path])
        XCTAssertEqual(result.status, 0, result.standardError, file: file, line: line)
        XCTAssertTrue(result.standardOutput.hasPrefix("compiled \(path) ("), result.standardOutput, file: file, line: line)
        XCTAssertTrue(result.standardOutput.contains(" into \(path).compiled ("), result.standardOutput, file: file, line: line)
        return result
    }

    /// The helper's openat and pread64 calls for one request, traced by strace.
    func tracedRun(policy: String) throws -> (HelperResult, [String]) {
        guard let strace = Command.find("strace") else { throw XCTSkip("strace is not installed") }
        let log = tree.path("strace.log")
        let result = try runHelper(policy: policy) { invocation in
            invocation.launcher += [strace, "-f", "-qq", "-e", "trace=openat,pread64", "-o", log]
        }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        return (result, lines)
    }

    func testHelperDecidesByTheCurrentCompiledForm() throws {
        var text = ""
        for i in 1...2000 { text += "allow user \(20000 + i) tap bridge br\(i)\n" }
        let policy = try writePolicy(text + "allow user root tap bridge br0\n")
        try compile(policy)
        let status = try FileManager.default.attributesOfItem(atPath: policy + ".compiled")
        XCTAssertEqual(status[.ownerAccountID] as? Int, 0)
        XCTAssertEqual((status[.posixPermissions] as? Int).map { $0 & 0o777 }, 0o644)

        let (result, calls) = try tracedRun(policy: policy)
        let tap = try requireSuccess(result)
        XCTAssertTrue(try namespace.linkNames().contains { $0.hasPrefix("tap") })
        tap.close()
        // The compiled form was opened and read in blocks; the 2,001-rule text was never opened.
        XCTAssertTrue(calls.contains { $0.contains("openat(") && $0.contains("\"\(policy).compiled\"") }, calls.joined(separator: "\n"))
        XCTAssertFalse(calls.contains { $0.contains("openat(") && $0.contains("\"\(policy)\"") }, calls.joined(separator: "\n"))
        let reads = calls.filter { $0.contains("pread64(") }
        XCTAssertGreaterThan(reads.count, 0)
        XCTAssertLessThanOrEqual(reads.count, 8, "a decision reads the head and a few blocks: \(reads)")
    }

    func testEditAfterCompilingIsFollowed() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        try compile(policy)
        // Appended in place (same inode): the helper must notice and read the text.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: policy))
        handle.seekToEndOfFile()
        handle.write(Data("deny all\n".utf8))
        try handle.close()
        let before = try namespace.linkNames()
        let result = try runHelper(policy: policy)
        Integration.assertRefused(result, exitStatus: 3,
                                  message: "netfd-helper: refused tap on bridge br0 for user root (uid 0): denied by \(policy):2 (deny all)")
        XCTAssertEqual(try namespace.linkNames(), before)
    }

    func testCheckSaysWhetherTheCompiledFormIsCurrent() throws {
        let policy = try writePolicy("allow any tap bridge br0\n")
        func checkOutput() throws -> String {
            try Command.run(["ip", "netns", "exec", namespace.name, helper, "check", "--policy", policy]).standardOutput
        }
        var output = try checkOutput()
        XCTAssertTrue(output.contains("\ncompiled form: not used: there is no compiled form\n"), output)
        try compile(policy)
        output = try checkOutput()
        XCTAssertTrue(output.contains("\ncompiled form: \(policy).compiled is current\n"), output)
        try tree.write("policy/netfd.policy", "allow any tap bridge br1\n")
        output = try checkOutput()
        XCTAssertTrue(output.contains("\ncompiled form: not used: the compiled form is out of date: \(policy) "), output)
    }

    func testCompileRefusesAnInvalidPolicyAndWritesNothing() throws {
        let policy = try writePolicy("allow any tap bridge br0\nallow nobody frobnicate\n")
        let result = try Command.run([try policyTool(), "compile", "--policy", policy])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.standardError.hasPrefix("netfd-policy: policy error: \(policy):2:"), result.standardError)
        XCTAssertFalse(FileManager.default.fileExists(atPath: policy + ".compiled"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tree.path("policy")), ["netfd.policy"], "no temporary file left")
    }
}
