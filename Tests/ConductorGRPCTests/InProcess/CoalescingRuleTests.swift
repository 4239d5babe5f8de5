import BridgeResilience
@testable import ConductorGRPC
import Testing

/// Submit coalescing, driven by hand over the scripted transport and the manual clock.
@Suite("Coalescing rules (in process)", .timeLimit(.minutes(1)))
struct CoalescingRuleTests {
    private static func event(_ index: Int) -> ConductorEvent {
        ConductorEvent(eventType: "coalesced", epoch: Int32(index), payload: [UInt8(index)])
    }

    /// Returns once `count` submits wait for their batch.
    private func waitForGathered(_ count: Int, _ harness: InProcessClient) async {
        for _ in 0..<InProcessClient.patience {
            if harness.client.coalescer?.gatheredCount == count { return }
            await Task.yield()
        }
        Issue.record("\(count) submits never gathered (\(harness.client.coalescer?.gatheredCount ?? -1) did)")
    }

    @Test func aCancelledCallerIsTakenOutOfItsBatchAndTheOthersGetTheirOwnReceipts() async throws {
        let harness = try InProcessClient { $0.submitCoalesceWindow = .milliseconds(10) }
        let windowEnds = harness.clock.now() + .milliseconds(10)
        let calls = (0..<4).map { index in Task { try await harness.client.submit(Self.event(index)) } }
        await waitForGathered(4, harness)
        calls[1].cancel()
        await waitForGathered(3, harness)
        let error = await callError(calls[1])
        #expect(error?.kind == .cancelled)

        await harness.clock.waitForClientSleep { $0 == windowEnds }
        harness.clock.advance(to: windowEnds)
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        let exchange = await connection.exchanges.next()
        #expect(exchange.header(":path") == "/chorus.ConductorBridge/SubmitEventsBatch")
        let sent = try ConductorProtobufCodec.decodeEventBatch(Array(exchange.body.dropFirst(GRPCMessageFramerPrefix.length)))
        #expect(sent.map(\.epoch).sorted() == [0, 2, 3], "the cancelled caller's event is not sent")
        let receipts = sent.map { ConductorReceipt(eventHash: "hash-\($0.epoch)", epoch: $0.epoch) }
        exchange.succeed(Array(ConductorProtobufCodec.encodeReceiptBatch(receipts).dropFirst(GRPCMessageFramerPrefix.length)))
        for index in [0, 2, 3] {
            #expect(try await calls[index].value.eventHash == "hash-\(index)", "each caller gets its own receipt")
        }
        #expect(connection.started == 1)
    }

    @Test func aFullBatchGoesWithoutWaitingForTheWindow() async throws {
        let harness = try InProcessClient { $0.submitCoalesceWindow = .milliseconds(50); $0.submitCoalesceMax = 3 }
        let calls = (0..<3).map { index in Task { try await harness.client.submit(Self.event(index)) } }
        let connection = await harness.transport.connections.next()
        connection.becomeReady()
        let exchange = await connection.exchanges.next()
        let sent = try ConductorProtobufCodec.decodeEventBatch(Array(exchange.body.dropFirst(GRPCMessageFramerPrefix.length)))
        #expect(sent.count == 3)
        exchange.succeed(Array(ConductorProtobufCodec.encodeReceiptBatch(sent.map { ConductorReceipt(eventHash: "h", epoch: $0.epoch) })
            .dropFirst(GRPCMessageFramerPrefix.length)))
        for call in calls { _ = try await call.value }
    }
}

/// The gRPC length prefix, for reading request bodies.
enum GRPCMessageFramerPrefix {
    static let length = 5
}
