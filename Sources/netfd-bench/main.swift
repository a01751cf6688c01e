// netfd-bench - spawns bridge helpers exactly as QEMU does and measures them (scripts/bench runs
// it inside a private network namespace). Benchmark-only; never installed.
//
//   netfd-bench latency [--calls N] [--bridge BR] [--floor PATH] LABEL=PATH[,ARG...]...
//       Interleaves the helpers call by call (plus the floor, PATH spawned the same way) and
//       prints min/median/p90/p99 of spawn -> fd received -> exit reaped, in milliseconds.
//       Every received fd is checked to be a tap that is an UP port of BR, then closed;
//       --pause MS sleeps after each call so the next one starts on a settled kernel.
//   netfd-bench rss [--runs N] [--bridge BR] LABEL=PATH[,ARG...]...
//       Peak RSS (VmHWM at the exit stop, KiB) of single calls; prints the largest of N runs.
//   netfd-bench hold [--count N] [--bridge BR] PATH[,ARG...]
//       Creates N taps on BR one call at a time, holds all fds, checks BR has N ports, closes
//       them and checks every tap is gone; prints how long each phase took.
//   netfd-bench trace-code OUT [--bridge BR] LABEL=PATH[,ARG...]
//       Single-steps one call and writes the code it runs, in first-run order, to OUT (the
//       input of scripts/link-order).
//   netfd-bench kinds [--calls N] [--pause MS] [--bridge BR] HELPER[,OPTION...] LINK IP
//       Native requests (macvtap on LINK, 4-queue tap on BR, raw socket on LINK) and the
//       reference `IP link add link LINK ... type macvtap` plus the open of /dev/tapN, interleaved
//       with the floor (Kinds.swift); each macvtap is released, untimed, after its call.
//   netfd-bench ratio NAME A B
//       Prints NAME A/B (used by scripts/bench to print the ratios last).
import CNetFD
import CNetFDBench
import Glibc
import NetFDSystem

/// One helper under test: a label, the executable and any extra arguments.
struct Subject {
    let label: String
    let path: String
    let extraArguments: [String]

    /// Parses `LABEL=PATH[,ARG...]`.
    init(spec: String) {
        guard let equals = spec.firstIndex(of: "=") else { fatal("expected LABEL=PATH, got \(spec)") }
        label = String(spec[..<equals])
        let parts = spec[spec.index(after: equals)...].split(separator: ",").map(String.init)
        guard let first = parts.first else { fatal("no path in \(spec)") }
        path = first
        extraArguments = Array(parts.dropFirst())
    }

    init(label: String, path: String) {
        self.label = label
        self.path = path
        extraArguments = []
    }

    /// QEMU's argv for the helper (net/tap.c net_bridge_run_helper): `--use-vnet --fd=N --br=BR`.
    func arguments(socket: Int32, bridge: String) -> [String] {
        [path, "--use-vnet", "--fd=\(socket)", "--br=\(bridge)"] + extraArguments
    }
}

/// Prints `message` on stderr and exits 1.
func fatal(_ message: String) -> Never {
    var line = "netfd-bench: \(message)\n"
    line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    exit(1)
}

/// Monotonic time in nanoseconds.
func now() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}

/// Runs `body` with `arguments` as a NULL-terminated C argv.
func withCArguments<R>(_ arguments: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = arguments.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}

/// A socketpair whose second end the child inherits (not close-on-exec), as QEMU makes it.
func handoffPair() -> (parent: UnixSocket, child: FileDescriptor) {
    guard let (parent, child) = try? UnixSocket.pair() else { fatal("socketpair failed") }
    _ = fcntl(child.descriptor.rawValue, F_SETFD, 0)
    return (parent, child.descriptor)
}

/// The outcome of one call.
struct Call {
    var nanoseconds: UInt64
    var descriptor: FileDescriptor?
    var waitStatus: Int32
}

/// Spawns `subject` as QEMU does, receives the fd, reaps the exit; times the whole call.
func spawnOnce(_ subject: Subject, bridge: String) -> Call {
    let (parent, child) = handoffPair()
    let start = now()
    var pid: pid_t = 0
    let spawned = withCArguments(subject.arguments(socket: child.rawValue, bridge: bridge)) { argv in
        var environment: [UnsafeMutablePointer<CChar>?] = [nil]
        return posix_spawn(&pid, subject.path, nil, nil, argv, &environment)
    }
    guard spawned == 0 else { fatal("could not spawn \(subject.path): \(Errno(spawned))") }
    child.close()
    let received = (try? parent.receive()) ?? nil
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let elapsed = now() - start
    parent.close()
    return Call(nanoseconds: elapsed, descriptor: received?.descriptor, waitStatus: status)
}

/// Checks that `descriptor` is a tap with a vnet header that is an UP port of `bridge`; fails loudly.
func verifyTap(_ descriptor: FileDescriptor, bridge: String, label: String) -> String {
    var name = [CChar](repeating: 0, count: 16)
    var flags: Int32 = 0
    guard netfd_tun_get_iff(descriptor.rawValue, &name, &flags) == 0 else { fatal("\(label): received fd is not a tun/tap device") }
    let interface = String(cString: name)
    guard flags & Int32(NETFD_IFF_TAP) != 0, flags & Int32(NETFD_IFF_VNET_HDR) != 0 else {
        fatal("\(label): \(interface) is not a tap with a vnet header (flags 0x\(String(flags, radix: 16)))")
    }
    var target = [CChar](repeating: 0, count: 256)
    let length = readlink("/sys/class/net/\(interface)/master", &target, 255)
    let master = length > 0 ? String(cString: target).split(separator: "/").last.map(String.init) : nil
    guard master == bridge else { fatal("\(label): \(interface) is not a port of \(bridge) (master \(master ?? "none"))") }
    guard let upFlags = readSmallFile("/sys/class/net/\(interface)/flags"), (Int(upFlags.dropFirst(2), radix: 16) ?? 0) & 1 == 1 else {
        fatal("\(label): \(interface) is not UP")
    }
    return interface
}

/// The first line of a small sysfs/proc file, or nil.
func readSmallFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return nil }
    defer { Glibc.close(fd) }
    var buffer = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &buffer, 255)
    guard count > 0 else { return nil }
    return String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n").first.map(String.init)
}

/// Nearest-rank percentile of sorted samples.
func percentile(_ sorted: [UInt64], _ p: Double) -> UInt64 {
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[max(0, min(sorted.count - 1, rank - 1))]
}

/// Formats nanoseconds as milliseconds with three decimals.
func ms(_ nanoseconds: UInt64) -> String {
    let micro = (nanoseconds + 500) / 1000
    let fraction = String(micro % 1000)
    return "\(micro / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

/// Pads `text` to `width` columns (right-aligned when `right`).
func pad(_ text: String, _ width: Int, right: Bool = true) -> String {
    let fill = String(repeating: " ", count: max(0, width - text.count))
    return right ? fill + text : text + fill
}

/// Parsed options shared by the modes.
struct Options {
    var calls = 500
    var runs = 5
    var count = 1000
    var warmup = 20
    var bridge = "br0"
    var floor: String?
    var pauseMilliseconds = 0
    var specs: [String] = []

    init(_ arguments: ArraySlice<String>) {
        var rest = arguments
        func value(_ option: String) -> String {
            guard let next = rest.popFirst() else { fatal("\(option) needs a value") }
            return next
        }
        while let argument = rest.popFirst() {
            switch argument {
            case "--calls": calls = Int(value(argument)) ?? calls
            case "--runs": runs = Int(value(argument)) ?? runs
            case "--count": count = Int(value(argument)) ?? count
            case "--warmup": warmup = Int(value(argument)) ?? warmup
            case "--bridge": bridge = value(argument)
            case "--floor": floor = value(argument)
            case "--pause": pauseMilliseconds = Int(value(argument)) ?? 0
            default: specs.append(argument)
            }
        }
    }
}

/// `latency`: interleaved calls, one table row per subject.
func latency(_ options: Options) {
    var subjects = options.specs.map(Subject.init(spec:))
    if let floor = options.floor { subjects.insert(Subject(label: "floor (\(floor))", path: floor), at: 0) }
    var samples = [[UInt64]](repeating: [], count: subjects.count)
    for round in 0..<(options.warmup + options.calls) {
        // Rotate the order every round so no subject always follows the same one.
        for offset in 0..<subjects.count {
            let index = (round + offset) % subjects.count
            let subject = subjects[index]
            let call = spawnOnce(subject, bridge: options.bridge)
            let isFloor = options.floor != nil && index == 0
            if !isFloor {
                guard let descriptor = call.descriptor else {
                    fatal("\(subject.label): no fd received (wait status \(call.waitStatus)); run it by hand to see why")
                }
                _ = verifyTap(descriptor, bridge: options.bridge, label: subject.label)
                descriptor.close()
            }
            guard call.waitStatus == 0 else { fatal("\(subject.label): exited with wait status \(call.waitStatus)") }
            if round >= options.warmup { samples[index].append(call.nanoseconds) }
            // Let the kernel finish tearing the closed tap down before the next call starts.
            if options.pauseMilliseconds > 0 { usleep(useconds_t(options.pauseMilliseconds * 1000)) }
        }
    }
    print("latency over \(options.calls) interleaved calls each (after \(options.warmup) warm-up), spawn -> fd received -> exit reaped, ms")
    print(pad("", 28, right: false) + ["min", "median", "p90", "p99"].map { pad($0, 9) }.joined())
    for (index, subject) in subjects.enumerated() {
        let sorted = samples[index].sorted()
        let row = [sorted[0], percentile(sorted, 50), percentile(sorted, 90), percentile(sorted, 99)].map { pad(ms($0), 9) }
        print(pad(subject.label, 28, right: false) + row.joined())
        print("median-ns \(subject.label) \(percentile(sorted, 50))")
    }
}

/// `rss`: peak RSS of single calls, the largest over `runs`.
func peakRSS(_ options: Options) {
    print("peak RSS of one call (VmHWM at exit, largest of \(options.runs) runs), KiB")
    for subject in options.specs.map(Subject.init(spec:)) {
        var largest = 0
        for _ in 0..<options.runs {
            let (parent, child) = handoffPair()
            var peak = -1
            var status: Int32 = 0
            let result = withCArguments(subject.arguments(socket: child.rawValue, bridge: options.bridge)) { argv in
                netfd_bench_peak_rss(subject.path, argv, &peak, &status)
            }
            child.close()
            guard result == 0, status == 0, peak > 0 else { fatal("\(subject.label): traced run failed (\(result), status \(status))") }
            guard let received = try? parent.receive(), let descriptor = received.descriptor else {
                fatal("\(subject.label): traced run sent no fd")
            }
            _ = verifyTap(descriptor, bridge: options.bridge, label: subject.label)
            descriptor.close()
            parent.close()
            largest = max(largest, peak)
        }
        print(pad(subject.label, 28, right: false) + pad(String(largest), 9))
        print("peak-kib \(subject.label) \(largest)")
    }
}

/// `trace-code OUT`: single-steps one call of each subject (normally just netfd-helper), writing the
/// code granules it runs to OUT (OUT.LABEL with several subjects), for scripts/link-order.
func traceCode(_ options: Options, output: String) {
    let subjects = options.specs.map(Subject.init(spec:))
    for subject in subjects {
        let path = subjects.count == 1 ? output : "\(output).\(subject.label)"
        let (parent, child) = handoffPair()
        var steps = 0
        var status: Int32 = 0
        let result = withCArguments(subject.arguments(socket: child.rawValue, bridge: options.bridge)) { argv in
            netfd_bench_trace_code(subject.path, argv, path, &steps, &status)
        }
        child.close()
        guard result == 0, status == 0 else { fatal("\(subject.label): traced run failed (\(result), status \(status))") }
        guard let received = try? parent.receive(), let descriptor = received.descriptor else {
            fatal("\(subject.label): traced run sent no fd")
        }
        _ = verifyTap(descriptor, bridge: options.bridge, label: subject.label)
        descriptor.close()
        parent.close()
        print("\(subject.label): \(steps) instructions stepped, code granules in \(path)")
    }
}

/// The number of ports of `bridge` (entries of /sys/class/net/BRIDGE/brif).
func portCount(_ bridge: String) -> Int {
    guard let directory = opendir("/sys/class/net/\(bridge)/brif") else { fatal("\(bridge) is not a bridge here") }
    defer { closedir(directory) }
    var count = 0
    while let entry = readdir(directory) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { count += 1 }
    }
    return count
}

/// Whether a link named `name` exists in this network namespace.
func linkExists(_ name: String) -> Bool { access("/sys/class/net/\(name)", F_OK) == 0 }

/// `hold`: N taps held at once on one bridge, then all released.
func hold(_ options: Options) {
    guard let spec = options.specs.first else { fatal("hold needs PATH[,ARG...]") }
    let subject = Subject(spec: "netfd=" + spec)
    var limit = rlimit(rlim_cur: rlim_t(options.count + 64), rlim_max: rlim_t(options.count + 64))
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    limit.rlim_cur = max(limit.rlim_cur, rlim_t(options.count + 64))
    limit.rlim_max = max(limit.rlim_max, limit.rlim_cur)
    guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { fatal("could not raise RLIMIT_NOFILE to \(limit.rlim_cur)") }
    let before = portCount(options.bridge)
    var held: [(FileDescriptor, String)] = []
    var callTimes: [UInt64] = []
    let start = now()
    for index in 0..<options.count {
        let call = spawnOnce(subject, bridge: options.bridge)
        guard call.waitStatus == 0, let descriptor = call.descriptor else {
            fatal("call \(index + 1) of \(options.count) failed (wait status \(call.waitStatus))")
        }
        held.append((descriptor, verifyTap(descriptor, bridge: options.bridge, label: "tap \(index + 1)")))
        callTimes.append(call.nanoseconds)
    }
    let created = now() - start
    let ports = portCount(options.bridge) - before
    guard ports == options.count, Set(held.map(\.1)).count == options.count else {
        fatal("expected \(options.count) new ports on \(options.bridge), found \(ports)")
    }
    let releaseStart = now()
    for (descriptor, _) in held { descriptor.close() }
    let released = now() - releaseStart
    let leftovers = held.filter { linkExists($0.1) }.count
    guard leftovers == 0, portCount(options.bridge) == before else {
        fatal("\(leftovers) taps still exist after their fds were closed")
    }
    let sorted = callTimes.sorted()
    print("\(options.count) taps held at once on \(options.bridge): all created and UP ports (\(ms(created)) ms in all; "
        + "per call median \(ms(percentile(sorted, 50))) ms, first \(ms(callTimes.first!)) ms, last \(ms(callTimes.last!)) ms); "
        + "all \(options.count) gone after closing the fds (\(ms(released)) ms)")
}

/// `ratio NAME A B`: prints `NAME A/B` with two decimals.
func ratio(_ arguments: ArraySlice<String>) {
    let values = Array(arguments)
    guard values.count == 3, let a = Double(values[1]), let b = Double(values[2]), b > 0 else { fatal("ratio NAME A B") }
    let scaled = Int((a / b * 100).rounded())
    print("\(values[0]) \(scaled / 100).\(scaled % 100 < 10 ? "0" : "")\(scaled % 100)")
}

let arguments = CommandLine.arguments.dropFirst()
switch arguments.first {
case "latency": latency(Options(arguments.dropFirst()))
case "rss": peakRSS(Options(arguments.dropFirst()))
case "hold": hold(Options(arguments.dropFirst()))
case "ratio": ratio(arguments.dropFirst())
case "kinds":
    let options = Options(arguments.dropFirst())
    guard options.specs.count == 3 else { fatal("usage: netfd-bench kinds [--calls N] [--pause MS] [--bridge BR] HELPER[,OPTION...] LINK IP") }
    kinds(options, helper: options.specs[0], link: options.specs[1], ip: options.specs[2])
case "trace-code":
    // `arguments` is a slice of CommandLine.arguments: index 1 is the command, 2 is OUT.
    guard arguments.count >= 3 else { fatal("usage: netfd-bench trace-code OUT [--bridge BR] LABEL=PATH[,ARG...]") }
    traceCode(Options(arguments.dropFirst(2)), output: arguments[arguments.startIndex + 1])
default: fatal("usage: netfd-bench latency|rss|hold|ratio ... (see the comment at the top of Sources/netfd-bench/main.swift)")
}
