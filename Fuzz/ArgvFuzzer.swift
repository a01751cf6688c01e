// ArgvFuzzer.swift - libFuzzer target for netfd-helper's command line: HelperCommand.parse (the
// QEMU bridge-helper form, native `request` and `release`, and `check`), and for `check`, CheckReport.make's resolution of
// --user/--group against a user database.
//
// Input format: the arguments after argv[0]. If the input contains a NUL byte it is split on NUL
// bytes only (so arguments can contain newlines, as real argv can); otherwise on newlines. One
// trailing empty argument after a final separator is dropped, so seed files can end with "\n".
// The bytes go through HelperCommand.decodeArguments, as in netfd-helper (invalid UTF-8 refused).
//
// Oracles besides traps: every refusal is a one-line usage error (exit 1) with no control or
// line-separator characters (QEMU shows it verbatim); what parses is valid (socket > 2, valid
// bridge name, absolute policy path) and parses to the same command when written out again in
// canonical form; `check` reports contain no control characters except newlines.
import NetFDCore
import NetFDPolicy

let users = UserDatabase(
    passwd: Array("""
        root:x:0:0:root:/root:/bin/bash
        alice:x:1000:1000:Alice:/home/alice:/bin/sh
        bob:x:1001:1001::/home/bob:/bin/sh

        """.utf8),
    group: Array("""
        root:x:0:
        kvm:x:108:alice,bob
        alice:x:1000:
        bob:x:1001:

        """.utf8))

let caller = Identity(uid: 1001, gid: 1001, supplementaryGroups: [108])

let policy: Policy = {
    let fs = InMemoryPolicyFileSystem()
    fs.addFile("/etc/netfd/netfd.policy", contents: """
        allow group kvm tap bridge br0
        allow user alice tap bridge glob:vm* vnet-hdr=no
        deny any tap bridge br-mgmt
        allow user 4242 tap

        """)
    return try! PolicyLoader(fileSystem: fs, users: users).load(path: "/etc/netfd/netfd.policy")
}()

/// The raw arguments an input stands for.
func rawArguments(from bytes: [UInt8]) -> [[UInt8]] {
    let separator: UInt8 = bytes.contains(0) ? 0 : UInt8(ascii: "\n")
    var parts = bytes.split(separator: separator, omittingEmptySubsequences: false)
    if parts.count > 1, parts.last!.isEmpty { parts.removeLast() }
    if bytes.isEmpty { parts = [] }
    return parts.map { Array($0) }
}

/// A refusal must be a usage error (exit 1) on one clean line.
func checkRefusal(_ error: HelperFailure, _ what: String) {
    fuzzRequire(error.exitCode == 1, "\(what) refused with exit code \(error.exitCode): \(escaped(error.message))")
    requireOneLine(error.message, what + " usage error")
    fuzzRequire(!error.message.isEmpty, "empty usage error")
}

/// The command written out in one canonical form.
func canonicalArguments(_ command: HelperCommand) -> [String]? {
    switch command {
    case .help: return ["--help"]
    case .version: return ["--version"]
    case .bridgeHelper(let a):
        var out = ["--fd=\(a.socket)", "--br=\(a.bridge.value)"]
        if a.useVnetHeader { out.append("--use-vnet") }
        if let policy = a.policyPath { out.append("--policy=\(policy)") }
        return out
    case .check(let a):
        var out = ["check"]
        if let policy = a.policyPath { out.append("--policy=\(policy)") }
        if let user = a.user { out.append("--user=\(user)") }
        out += a.groups.map { "--group=\($0)" }
        if let request = a.request {
            // The KEY=VALUE words, which every kind has (the short `tap bridge NAME` form parses to the same).
            out += request.summary.split(separator: " ").map(String.init)
        }
        return out
    case .request(let a):
        var out = ["request", "--fd=\(a.socket)"]
        if let policy = a.policyPath { out.append("--policy=\(policy)") }
        return out + a.request.summary.split(separator: " ").map(String.init)
    case .release(let a):
        return ["release", a.link.value]
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // As netfd-helper's main.swift does: raw argv bytes, decoded (invalid UTF-8 refused), parsed.
    let argv: [String]
    do {
        argv = try HelperCommand.decodeArguments(rawArguments(from: Array(UnsafeBufferPointer(start: data, count: size))))
    } catch {
        checkRefusal(error, "argv decoding")
        return 0
    }
    let command: HelperCommand
    do {
        command = try HelperCommand.parse(argv)
    } catch {
        checkRefusal(error, "command line")
        return 0
    }
    switch command {
    case .help, .version:
        break
    case .bridgeHelper(let a):
        fuzzRequire(a.socket > 2, "--fd=\(a.socket) accepted")
        fuzzRequire((try? InterfaceName(validating: a.bridge.value)) == a.bridge, "invalid bridge accepted: \(escaped(a.bridge.value))")
        fuzzRequire(a.policyPath.map { $0.utf8.first == UInt8(ascii: "/") } ?? true, "relative policy path accepted")
    case .request(let a):
        fuzzRequire(a.socket > 2, "--fd=\(a.socket) accepted")
        fuzzRequire(a.policyPath.map { $0.utf8.first == UInt8(ascii: "/") } ?? true, "relative policy path accepted")
        fuzzRequire((try? InterfaceName(validating: a.request.target.value)) == a.request.target, "invalid name accepted: \(escaped(a.request.target.value))")
        requireOneLine(a.request.summary, "request summary")
    case .release(let a):
        fuzzRequire((try? InterfaceName(validating: a.link.value)) == a.link, "invalid release name accepted: \(escaped(a.link.value))")
    case .check(let a):
        fuzzRequire(a.policyPath.map { $0.utf8.first == UInt8(ascii: "/") } ?? true, "relative policy path accepted")
        do {
            let report = try CheckReport.make(a, policy: policy, users: users, caller: caller)
            fuzzRequire(report.exitCode == 0 || report.exitCode == 3, "check exit code \(report.exitCode)")
            for line in report.text.split(separator: "\n", omittingEmptySubsequences: false) {
                requireOneLine(String(line), "check report line")
            }
        } catch {
            checkRefusal(error, "check")
        }
    }
    // Known finding "split-combining": "--name=VALUE" is not split when VALUE starts with a
    // combining mark (the "=" and the mark form one Character).
    if let again = canonicalArguments(command),
       !(knownFindings.contains("split-combining") && again.contains { occursBeforeNonASCII(Array($0.utf8), [UInt8(ascii: "=")]) }) {
        do {
            let reparsed = try HelperCommand.parse(again)
            fuzzRequire(reparsed == command, "\(argv.map(escaped)) parses to \(command) but its canonical form \(again.map(escaped)) to \(reparsed)")
        } catch {
            fuzzRequire(false, "canonical form \(again.map(escaped)) of \(argv.map(escaped)) is refused: \(escaped(error.message))")
        }
    }
    return 0
}
