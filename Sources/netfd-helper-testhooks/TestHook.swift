// TestHook.swift - compiled only into netfd-helper-testhooks (this folder; main.swift here is a
// symlink to the shipped helper's). The shipped netfd-helper has none of this.
import Glibc
import NetFDCore
import NetFDSystem

// Package.swift defines NETFD_TEST_HOOKS for this target alone. NETFD_TEST_HOOK=STEP:ACTION, read before the
// environment is cleared, acts at one named step of the flow above:
//   steps:   confined, policy-loaded, then TapRequestFlow.Step (tap-created ... after-handoff) and
//            DeviceRequestFlow.Step (created, queues-open, up, before-handoff, after-handoff)
//   pause:   write "STEP\n" to fd 0 and block until one byte (or EOF) can be read from it; the test
//            inspects the process meanwhile, then SIGKILLs it or lets it go on
//   unlisted-syscall: write "STEP\n" to fd 0, then call getppid(2), which the allow-list lacks: the
//            seccomp filter must kill the process (SIGSYS)
// Only read and write are used, so the test build runs under exactly the production allow-list, and
// fd 0 is the channel because the helper keeps 0, 1 and 2 anyway: descriptor hygiene is unchanged.
enum TestHook {
    enum Action: String { case pause, unlistedSyscall = "unlisted-syscall" }

    static let steps = ["confined", "policy-loaded"] + TapRequestFlow.Step.allCases.map { $0.rawValue }
        + DeviceRequestFlow.Step.allCases.map { $0.rawValue }.filter { !TapRequestFlow.Step.allCases.map { $0.rawValue }.contains($0) }
    nonisolated(unsafe) static var armed: (step: String, action: Action)?

    /// Parses NETFD_TEST_HOOK; a malformed value exits 70 at once (a typo must not pass as "never reached").
    static func load() {
        guard let raw = getenv("NETFD_TEST_HOOK") else { return }
        let value = String(cString: raw)
        let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, steps.contains(parts[0]), let action = Action(rawValue: parts[1]) else {
            emit("netfd-helper-testhooks: bad NETFD_TEST_HOOK=\(value) (STEP:pause|unlisted-syscall, "
                 + "STEP one of \(steps.joined(separator: ", ")))\n", to: .standardError)
            exit(70)
        }
        armed = (parts[0], action)
        TapRequestFlow.stepObserver = { reach($0.rawValue) }
        DeviceRequestFlow.stepObserver = { reach($0.rawValue) }
    }

    /// Acts if `step` is the armed step.
    static func reach(_ step: String) {
        guard let armed, armed.step == step else { return }
        let channel = FileDescriptor.standardInput
        do { try channel.writeAll("\(step)\n".utf8) } catch {
            emit("netfd-helper-testhooks: cannot report step \(step) on fd 0: \(error)\n", to: .standardError)
            exit(70)
        }
        switch armed.action {
        case .pause:
            _ = try? channel.read(upTo: 1)
        case .unlistedSyscall:
            _ = getppid()
            emit("netfd-helper-testhooks: getppid() at \(step) was allowed: no seccomp filter is in force\n", to: .standardError)
            exit(70)
        }
    }
}
