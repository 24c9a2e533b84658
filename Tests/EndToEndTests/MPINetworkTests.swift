import Foundation
import Testing

/// Runs `command` with /bin/sh; its status and what it printed (both streams).
@discardableResult
private func shell(_ command: String) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", command + " 2>&1"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Why two network namespaces cannot be made here (not root, no `ip`, no namespaces in
/// this container); nil when they can.
let namespacesUnavailable: String? = {
    guard mpirunPath != nil else { return "mpirun (Open MPI) is not installed" }
    let probe = "bpprobe\(getpid())"
    guard let made = try? shell("ip netns add \(probe)") else { return "cannot run ip" }
    guard made.status == 0 else { return "cannot create a network namespace: \(made.output.trimmingCharacters(in: .whitespacesAndNewlines))" }
    _ = try? shell("ip netns del \(probe)")
    return nil
}()

/// Two "machines" on this one: network namespaces joined by a veth pair, each with an
/// address on a subnet of its own. mpirun runs in the first and starts its daemon in the
/// second through an rsh agent that runs `ip netns exec`, so the ranks' gradients cross
/// a real TCP link. Made by the test, removed after.
private final class TwoHosts {
    let names: [String]
    let addresses: [String]
    let subnet: String
    let link: String
    let agent: URL

    init() throws {
        let id = Int(getpid()) % 200 + 20
        names = ["bpA\(getpid())", "bpB\(getpid())"]
        subnet = "10.231.\(id).0/24"
        addresses = ["10.231.\(id).1", "10.231.\(id).2"]
        link = "bpv\(getpid())"
        agent = FileManager.default.temporaryDirectory.appendingPathComponent("backprop-netns-agent-\(getpid()).sh")
        // mpirun calls the agent as `agent HOST COMMAND…`, ssh's way: the command is one shell line.
        let script = """
            #!/bin/sh
            host=$1; shift
            case "$host" in
              \(addresses[0])) namespace=\(names[0]) ;;
              \(addresses[1])) namespace=\(names[1]) ;;
              *) echo "no namespace for host $host" >&2; exit 1 ;;
            esac
            exec ip netns exec "$namespace" /bin/sh -c "$*"

            """
        try Data(script.utf8).write(to: agent)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: agent.path)
        let setUp = try shell("""
            set -e
            ip netns add \(names[0]); ip netns add \(names[1])
            ip link add \(link)a type veth peer name \(link)b
            ip link set \(link)a netns \(names[0]); ip link set \(link)b netns \(names[1])
            ip -n \(names[0]) addr add \(addresses[0])/24 dev \(link)a
            ip -n \(names[1]) addr add \(addresses[1])/24 dev \(link)b
            for n in \(names[0]) \(names[1]); do ip -n $n link set lo up; done
            ip -n \(names[0]) link set \(link)a up; ip -n \(names[1]) link set \(link)b up
            """)
        guard setUp.status == 0 else {
            tearDown()
            throw NamespaceError(description: "setting up the namespaces failed: \(setUp.output)")
        }
    }

    struct NamespaceError: Error, CustomStringConvertible { let description: String }

    /// Removing a namespace removes its end of the veth pair, and with it the other.
    func tearDown() {
        for name in names { _ = try? shell("ip netns del \(name)") }
        try? FileManager.default.removeItem(at: agent)
    }

    deinit { tearDown() }

    /// The mpirun command line for 2 ranks, one per namespace, over TCP on the veth
    /// subnet, with the out-of-band keepalive shortened so that a cut link ends the job
    /// within seconds.
    func mpirun(_ arguments: [String]) -> String {
        let words = ["ip", "netns", "exec", names[0], mpirunPath!, "--allow-run-as-root", "--bind-to", "none",
                     "--host", "\(addresses[0]):1,\(addresses[1]):1", "-np", "2",
                     "--mca", "plm_rsh_agent", agent.path,
                     "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", subnet, "--mca", "oob_tcp_if_include", subnet,
                     "--mca", "oob_tcp_keepalive_time", "1", "--mca", "oob_tcp_keepalive_intvl", "1",
                     "--mca", "oob_tcp_keepalive_probes", "3", "--mca", "mpi_yield_when_idle", "1",
                     "--timeout", "120", MPITests.backprop] + arguments
        return words.map { "'\($0)'" }.joined(separator: " ")
    }
}

@Suite("training across two network namespaces (two hosts on one machine)", .serialized,
       .enabled(if: namespacesUnavailable == nil, "\(namespacesUnavailable ?? "")"))
struct MPINetworkTests {
    @Test("2 ranks over a real TCP link train what one process trains; cutting the link ends the job within seconds with a clear message")
    func acrossTheLink() async throws {
        let hosts = try TwoHosts()
        defer { hosts.tearDown() }
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let flags = ["train", "--data", "toy:moons", "--model", "2-16-bn-tanh-2:softmax", "--batch-size", "50", "--epochs", "6",
                     "--optimizer", "momentum", "--lr", "0.1", "--threads", "1", "--quiet"]
        let alone = try Run(flags + ["--out", directory.appendingPathComponent("one").path])
        #expect(alone.status == 0, "\(alone.error)")
        let linked = directory.appendingPathComponent("linked")
        let run = try shell(hosts.mpirun(flags + ["--out", linked.path, "--overlap", "on"]))
        #expect(run.status == 0, "\(run.output)")
        let expected = try await MPITests.probabilities(directory.appendingPathComponent("one"))
        let got = try await MPITests.probabilities(linked)
        let largest = zip(got, expected).map { abs($0 - $1) }.max() ?? .nan
        #expect(got.count == expected.count && got.count > 0 && largest <= 2e-5, "largest difference \(largest)")

        // A long run, and the link cut under it: never a hang.
        let long = Process()
        long.executableURL = URL(fileURLWithPath: "/bin/sh")
        long.arguments = ["-c", hosts.mpirun(["train", "--data", "toy:moons", "--model", "2-16:tanh-2:softmax", "--batch-size", "50",
                                             "--epochs", "100000", "--threads", "1", "--quiet",
                                             "--out", directory.appendingPathComponent("cut").path])
                          + " > '\(directory.path)/cut.log' 2>&1"]
        long.standardOutput = FileHandle.nullDevice
        long.standardError = FileHandle.nullDevice
        try long.run()
        let started = Date()
        // Training is under way once rank 0 wrote the run's settings.
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("cut/run.json").path)
            && Date().timeIntervalSince(started) < 60 { usleep(50_000) }
        usleep(500_000)
        #expect(long.isRunning, "the long run is still training")
        let cut = Date()
        try shell("ip -n \(hosts.names[0]) link set \(hosts.link)a down")
        while long.isRunning && Date().timeIntervalSince(cut) < 60 { usleep(50_000) }
        let seconds = Date().timeIntervalSince(cut)
        long.waitUntilExit()
        let log = (try? String(contentsOf: directory.appendingPathComponent("cut.log"), encoding: .utf8)) ?? ""
        #expect(seconds < 20, "the job ended \(seconds) s after the cut")
        #expect(long.terminationStatus != 0)
        #expect(log.contains("lost communication with a remote daemon"), "\(log)")
        // Nothing is left running in either namespace.
        usleep(2_000_000)
        for name in hosts.names {
            let left = try shell("ip netns pids \(name)")
            #expect(left.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "processes left in \(name): \(left.output)")
        }
    }
}
