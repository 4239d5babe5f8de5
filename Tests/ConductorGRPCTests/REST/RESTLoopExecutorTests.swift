import ConductorGRPC
import Foundation
import GRPCWire
import Testing

/// A REST client's ``ConductorClient/loopExecutor``: its own loop's thread, and no task left
/// waiting when that loop ends with the client.
@Suite(.serialized) struct RESTLoopExecutorTests {
    @Test func callsRunAndResumeOnTheClientsLoop() async throws {
        let server = try await ReferenceConductor.start(protocol: .rest)
        let client = try makeClient(for: server)
        let executor = try #require(client.loopExecutor as? LoopTaskExecutor)
        #expect(executor !== LoopTaskExecutor.shared, "a REST client has a loop of its own")
        let observed = await withTaskExecutorPreference(executor) {
            await withTaskGroup(of: (Int32, Int32, Bool).self) { group in
                for day in Int32(1)...100 {
                    group.addTask {
                        let started = executor.isCurrent
                        let proof = try? await client.dayProof(day, options: ConductorCallOptions(cachePolicy: .reload))
                        return (day, proof?.dayNumber ?? -1, started && executor.isCurrent)
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(observed.count == 100)
        #expect(observed.filter { $0.0 != $0.1 }.isEmpty, "every caller gets its own day's proof")
        #expect(observed.allSatisfy { $0.2 }, "started and resumed on the client's loop")
        await client.shutdown()
    }

    @Test func tasksOnTheLoopOutliveItsEnd() async throws {
        let server = try await ReferenceConductor.start(["--delay", "GetDayProof=30"], protocol: .rest)
        let client = try makeClient(for: server) { $0.maxRetries = 0 }
        let executor = try #require(client.loopExecutor as? LoopTaskExecutor)
        #expect(try await client.health() == .serving) // connected
        let callers = (Int32(1)...8).map { day in
            Task(executorPreference: executor) { () async -> ConductorError? in
                let error = await conductorError { () async throws(ConductorError) in
                    try await client.dayProof(day, options: ConductorCallOptions(cachePolicy: .reload))
                }
                try? await Task.sleep(for: .milliseconds(1)) // resumes wherever the loop's end left it
                return error
            }
        }
        await client.shutdown(gracePeriod: .zero)
        for caller in callers {
            #expect(await caller.value?.kind == .shutDown, "every caller ends, failed by the shutdown")
        }
        let clock = ContinuousClock()
        let giveUp = clock.now + .seconds(30)
        while !executor.loopHasEnded, clock.now < giveUp { try await Task.sleep(for: .milliseconds(10)) }
        #expect(executor.loopHasEnded, "the client's loop ends after its shutdown")
        let late = await Task(executorPreference: executor) { executor.isCurrent }.value
        #expect(!late, "a task that prefers the ended loop runs on the global executor")
    }
}
