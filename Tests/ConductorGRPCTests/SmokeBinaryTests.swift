import ConductorGRPC
import Foundation
import Testing

/// The `conductor-smoke` executable end to end: its exit code for each outcome, and its JSON.
@Suite(.serialized, .enabled(if: SmokeBinary.url != nil, "conductor-smoke is not built next to the tests: run swift build --build-tests"))
struct SmokeBinaryTests {
    @Test func passesAgainstTheReferenceConductor() async throws {
        let server = try await ReferenceConductor.start()
        let output = try await SmokeBinary.run(["--target", server.url, "--duration", "0.5", "--concurrency", "4"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("ok    HealthCheck"))
        #expect(output.stdout.contains("load: "))
        #expect(output.stdout.contains("circuit breaker: 127.0.0.1:\(server.port) closed"))
        #expect(output.stdout.hasSuffix("all checks passed\n"))
    }

    @Test func aFailingCheckExitsWith1() async throws {
        let server = try await ReferenceConductor.start(["--error", "GetDayProof=INTERNAL"])
        let output = try await SmokeBinary.run(["--target", server.url])
        #expect(output.status == 1, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("FAIL  GetDayProof(1)"))
        #expect(output.stdout.contains("INTERNAL: injected INTERNAL"))
        #expect(output.stdout.contains("errors by code: INTERNAL×1"))
        #expect(output.stdout.contains("ok    SubmitEvent"), "the later checks still run")
    }

    @Test func metadataFromTheCommandLineAuthenticatesAndIsRedactedInTheDryRun() async throws {
        let tokens = try TokenFiles(serverToken: "x")
        let server = try await ReferenceConductor.start(["--token-file", tokens.server.path])
        let authorized = try await SmokeBinary.run(["--target", server.url, "--metadata", "authorization=Bearer x"])
        #expect(authorized.status == 0, "\(authorized.stdout)\(authorized.stderr)")
        #expect(server.log().allSatisfy { $0.metadata["authorization"] == "Bearer x" })

        let anonymous = try await SmokeBinary.run(["--target", server.url])
        #expect(anonymous.status == 1, "\(anonymous.stdout)\(anonymous.stderr)")
        #expect(anonymous.stdout.contains("UNAUTHENTICATED: missing or invalid bearer token"))

        let dryRun = try await SmokeBinary.run(["--target", server.url, "--metadata", "authorization=Bearer x", "--dry-run"],
                                               environment: ["CONDUCTOR_METADATA": "x-tenant=acme"])
        #expect(dryRun.status == 0, "\(dryRun.stdout)\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("x-tenant=acme, authorization=<redacted>"), "\(dryRun.stdout)")
        #expect(!dryRun.stdout.contains("Bearer x"))
        let bad = try await SmokeBinary.run(["--target", server.url, "--metadata", "grpc-status=Bearer x"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--metadata") && !bad.stderr.contains("Bearer x"), "\(bad.stderr)")
    }

    @Test func theDryRunSaysWhichNameOrPresetEachValueCameFrom() async throws {
        let output = try await SmokeBinary.run(["--dry-run"], environment: [
            "BRIDGE_CONDUCTOR_BASE_URL": "grpc://bridge:50051", "CONDUCTOR_PRESET": "low-latency", "CONDUCTOR_TIMEOUT": "3",
        ])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("CONDUCTOR_BASE_URL=bridge:50051  # BRIDGE_CONDUCTOR_BASE_URL"))
        #expect(output.stdout.contains("CONDUCTOR_CACHE_TTL=600  # preset low-latency"))
        #expect(output.stdout.contains("CONDUCTOR_TIMEOUT=3\n"))
    }

    @Test func versionIsPrinted() async throws {
        let output = try await SmokeBinary.run(["--version"])
        #expect(output.status == 0)
        #expect(output.stdout == ConductorClient.version + "\n")
    }

    @Test func aMissingDayIsReportedAsSuchWithAllowMissing() async throws {
        let server = try await ReferenceConductor.start()
        let missing = try await SmokeBinary.run(["--target", server.url, "--day", "5000"])
        #expect(missing.status == 1)
        #expect(missing.stdout.contains("NOT_FOUND: no proof for day 5000"))
        let allowed = try await SmokeBinary.run(["--target", server.url, "--day", "5000", "--allow-missing", "--json"])
        #expect(allowed.status == 0, "\(allowed.stdout)\(allowed.stderr)")
        let report = try jsonObject(allowed.stdout)
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.first { $0["id"] as? String == "day_proof" }?["status"] as? String == "not_found")
        #expect(checks.first { $0["id"] as? String == "day_proof" }?["code"] as? String == "NOT_FOUND")
    }

    @Test func badConfigurationExitsWith2AndNamesTheVariable() async throws {
        let output = try await SmokeBinary.run(["--target", "grpc://127.0.0.1:50051"],
                                               environment: ["CONDUCTOR_MAX_RETRIES": "42", "CONDUCTOR_TIMEOUT": "0"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("CONDUCTOR_MAX_RETRIES=42 is out of range 0...10"))
        #expect(output.stderr.contains("CONDUCTOR_TIMEOUT=0"), "every bad variable is listed")
        #expect(output.stdout.isEmpty)

        let json = try await SmokeBinary.run(["--json"], environment: ["CONDUCTOR_MAX_RETRIES": "42", "CONDUCTOR_BASE_URL": "grpc://h:1"])
        #expect(json.status == 2)
        let report = try jsonObject(json.stdout)
        #expect(report["outcome"] as? String == "invalid_configuration")
        #expect(report["exit_code"] as? Int == 2)
        #expect((report["error"] as? String)?.contains("CONDUCTOR_MAX_RETRIES=42") == true)

        let noTarget = try await SmokeBinary.run([])
        #expect(noTarget.status == 2)
        #expect(noTarget.stderr.contains("CONDUCTOR_BASE_URL is required"))
    }

    @Test func badArgumentsExitWith2() async throws {
        let output = try await SmokeBinary.run(["--mode", "memory", "--batch-size", "0"])
        #expect(output.status == 2)
        #expect(output.stderr.contains("--batch-size must be in 1...10000"))
        #expect(try await SmokeBinary.run(["--no-such-option"]).status == 2)
        #expect(try await SmokeBinary.run(["--mode", "carrier-pigeon"]).status == 2)
    }

    @Test func anUnreachableConductorExitsWith3() async throws {
        let server = try await ReferenceConductor.start()
        let closed = server.url
        server.stop()
        let output = try await SmokeBinary.run(["--target", closed, "--json"])
        #expect(output.status == 3, "\(output.stdout)\(output.stderr)")
        let report = try jsonObject(output.stdout)
        #expect(report["outcome"] as? String == "unreachable")
        let statuses = (report["checks"] as? [[String: Any]])?.map { $0["status"] as? String }
        #expect(statuses == ["failed", "skipped", "skipped", "skipped"])
    }

    @Test func restModePassesAgainstTheReferenceRESTConductorAndExitsWith3WhenItIsGone() async throws {
        let server = try await ReferenceConductor.start(protocol: .rest)
        let rest = ["CONDUCTOR_PROTOCOL": "http"]
        let output = try await SmokeBinary.run(["--target", server.url, "--duration", "0.5", "--concurrency", "4"], environment: rest)
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("ok    SubmitEventsBatch(10)"))
        #expect(output.stdout.hasSuffix("all checks passed\n"))
        #expect(Set(server.log().map(\.httpVersion)) == ["1.1"])
        let dryRun = try await SmokeBinary.run(["--target", server.url, "--dry-run"], environment: rest)
        #expect(dryRun.stdout.contains("CONDUCTOR_PROTOCOL=http"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("CONDUCTOR_MAX_CONNECTIONS_PER_ENDPOINT=16"), "\(dryRun.stdout)")
        let closed = server.url
        server.stop()
        let unreachable = try await SmokeBinary.run(["--target", closed, "--json"], environment: rest)
        #expect(unreachable.status == 3, "\(unreachable.stdout)\(unreachable.stderr)")
        #expect(try jsonObject(unreachable.stdout)["outcome"] as? String == "unreachable")
    }

    @Test func memoryModeNeedsNoConductor() async throws {
        let output = try await SmokeBinary.run(["--mode", "memory", "--duration", "0.3"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.contains("in-memory conductor"))
        #expect(output.stdout.contains("source in-memory-conductor"))
        let fromEnvironment = try await SmokeBinary.run([], environment: ["CONDUCTOR_MODE": "memory"])
        #expect(fromEnvironment.status == 0)
    }

    @Test func dryRunValidatesAndPrintsTheConfiguration() async throws {
        let output = try await SmokeBinary.run(["--dry-run", "--target", "grpc://[::1]:6000"], environment: ["CONDUCTOR_MAX_RETRIES": "7"])
        #expect(output.status == 0)
        #expect(output.stdout.contains("CONDUCTOR_BASE_URL=[::1]:6000"))
        #expect(output.stdout.contains("CONDUCTOR_MAX_RETRIES=7"))
        let tls = try await SmokeBinary.run(["--dry-run", "--target", "grpcs://conductor.example:443"],
                                            environment: ["CONDUCTOR_TLS_SERVER_NAME": "conductor.internal"])
        #expect(tls.stdout.contains("CONDUCTOR_BASE_URL=grpcs://conductor.example:443"), "\(tls.stdout)")
        #expect(tls.stdout.contains("CONDUCTOR_TLS_SERVER_NAME=conductor.internal"))
        #expect(tls.stdout.contains("CONDUCTOR_TLS_CA_FILE=\n"), "unset: the system trust store")
        let json = try jsonObject(try await SmokeBinary.run(["--dry-run", "--json", "--mode", "memory"]).stdout)
        #expect(json["outcome"] as? String == "dry_run")
        #expect((json["configuration"] as? [String: Any])?["CONDUCTOR_MODE"] as? String == "memory")
    }

    @Test func helpTeachesURLFormsAndVariables() async throws {
        let output = try await SmokeBinary.run(["--help"])
        #expect(output.status == 0)
        for text in ["unix:///path/to/socket", "grpc://[::1]:50051", "grpcs://host:port", "CONDUCTOR_BASE_URL",
                     "CONDUCTOR_KEEPALIVE_TIMEOUT", "CONDUCTOR_TLS_CA_FILE", "EXIT CODES"] {
            #expect(output.stdout.contains(text), "--help mentions \(text)")
        }
    }

    @Test func jsonReportHasTheDocumentedFields() async throws {
        let server = try await ReferenceConductor.start()
        let output = try await SmokeBinary.run(["--target", server.url, "--json", "--metrics", "--duration", "0.5",
                                                "--concurrency", "2", "--batch-size", "3", "--day", "7"])
        #expect(output.status == 0, "\(output.stdout)\(output.stderr)")
        #expect(output.stdout.split(separator: "\n").count == 1, "one JSON object on one line")
        let report = try jsonObject(output.stdout)
        #expect(report["version"] as? Int == 1)
        #expect(report["outcome"] as? String == "passed")
        #expect(report["exit_code"] as? Int == 0)
        #expect(report["mode"] as? String == "http")
        #expect(report["target"] as? String == "127.0.0.1:\(server.port)")
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.map { $0["id"] as? String } == ["health", "day_proof", "submit_event", "submit_batch", "load"])
        #expect(checks.map { $0["name"] as? String } == ["HealthCheck", "GetDayProof(7)", "SubmitEvent", "SubmitEventsBatch(3)",
                                                          "GetDayProof load (2 in flight)"])
        #expect(checks.allSatisfy { $0["status"] as? String == "passed" })
        #expect(checks.prefix(4).allSatisfy { $0["code"] as? String == "OK" })
        #expect(checks.allSatisfy { ($0["latency_ms"] as? Double ?? -1) >= 0 })
        let load = try #require(report["load"] as? [String: Any])
        let calls = try #require(load["calls"] as? Int)
        #expect(calls > 0)
        #expect(load["errors"] as? Int == 0)
        #expect(load["concurrency"] as? Int == 2)
        let p50 = try #require(load["p50_ms"] as? Double)
        let p95 = try #require(load["p95_ms"] as? Double)
        let p99 = try #require(load["p99_ms"] as? Double)
        #expect(p50 > 0 && p50 <= p95 && p95 <= p99)
        #expect((load["calls_per_second"] as? Double ?? 0) > 0)
        #expect((report["errors_by_code"] as? [String: Int])?.isEmpty == true)
        let breakers = try #require(report["circuit_breakers"] as? [[String: String]])
        #expect(breakers == [["endpoint": "127.0.0.1:\(server.port)", "state": "closed"]])
        let configuration = try #require(report["configuration"] as? [String: Any])
        #expect(configuration["CONDUCTOR_BASE_URL"] as? [String] == ["127.0.0.1:\(server.port)"])
        #expect(configuration["CONDUCTOR_MAX_RETRIES"] as? Int == 3)
        let metrics = try #require(report["metrics"] as? String)
        #expect(metrics.contains("bridge_conductor_requests_total"), "the library's metrics are recorded")
        #expect(metrics.contains("bridge_conductor_latency_seconds_bucket"))
    }

    private func jsonObject(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text)")
    }
}
