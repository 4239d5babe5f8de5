import ConductorGRPC
import Foundation
import GRPCWire
import Testing

/// Callers on ``ConductorClient/loopExecutor``: they run on the event-loop thread, their calls
/// complete, and deadlines and cancellation behave as on any other executor.
@Suite(.serialized) struct LoopExecutorTests {
    private var onLoop: Bool { LoopTaskExecutor.shared.isCurrent }

    @Test func callsRunAndResumeOnTheLoopThread() async throws {
        let server = try await ReferenceConductor.start()
        let client = try makeClient(server.url)
        let executor = try #require(client.loopExecutor)
        #expect((executor as? LoopTaskExecutor) === LoopTaskExecutor.shared)
        #expect(!onLoop)
        struct Observed: Sendable { var day: Int32; var answered: Int32; var startedOnLoop: Bool; var resumedOnLoop: Bool }
        let observed = await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: Observed.self) { group in
                for day in Int32(1)...200 {
                    group.addTask {
                        let started = onLoop
                        let proof = try? await client.dayProof(day, options: ConductorCallOptions(cachePolicy: .reload))
                        return Observed(day: day, answered: proof?.dayNumber ?? -1, startedOnLoop: started, resumedOnLoop: onLoop)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(observed.count == 200)
        #expect(observed.filter { $0.answered != $0.day }.isEmpty, "every caller gets its own day's proof")
        #expect(observed.allSatisfy { $0.startedOnLoop && $0.resumedOnLoop })
        let receipt = try await withTaskExecutorPreference(executor) {
            try await client.submit(ConductorEvent(eventType: "loop", epoch: 3, payload: Array("on the loop".utf8)))
        }
        #expect(server.log().first { $0.method == "SubmitEvent" }?.eventHashes == [receipt.eventHash])
        #expect(!onLoop)
        await client.shutdown()
    }

    @Test func cancellationAndDeadlineOnTheLoop() async throws {
        let server = try await FaultServer.start(mode: "never-ends")
        let client = try makeClient(server.url) { $0.maxRetries = 0 }
        let executor = try #require(client.loopExecutor)
        let streams = { Set(server.log("headers").filter { $0.path?.hasSuffix("GetDayProof") == true }.map(\.stream)) }
        let cancelled = { Set(server.log("reset").filter { $0.code == "CANCEL" }.map(\.stream)) }

        // Cancellation first: once its request is seen, the connection is up for the deadline's call.
        let task = Task(executorPreference: executor) { () async -> ConductorError? in
            // .reload: a cache miss's load is shared and outlives a cancelled waiter (by design).
            await conductorError { () async throws(ConductorError) in
                try await client.dayProof(3, options: ConductorCallOptions(cachePolicy: .reload))
            }
        }
        let sent = await server.waitForLog(timeout: .seconds(30)) { _ in streams().count == 1 }
        #expect(sent != nil, "the call reached the server")
        task.cancel()
        #expect(await task.value?.code == .cancelled)
        #expect(await server.waitForLog(timeout: .seconds(30)) { _ in cancelled() == streams() } != nil,
                "the server saw the stream reset with CANCEL: \(server.log("reset"))")

        let deadline = await withTaskExecutorPreference(executor) {
            await conductorError { () async throws(ConductorError) in
                try await client.dayProof(1, options: ConductorCallOptions(timeout: .milliseconds(500)))
            }
        }
        #expect(deadline?.code == .deadlineExceeded, "\(String(describing: deadline))")
        // A stalled machine may end the call before its request left; whatever the server saw was reset.
        #expect(await server.waitForLog(timeout: .seconds(30)) { _ in cancelled() == streams() } != nil,
                "every stream the server saw was reset with CANCEL: \(server.log("reset"))")
        await client.shutdown()
    }
}
