import ConductorGRPC
import Hummingbird

// The JSON the relay answers with. Field names follow the conductor's protobuf messages.

/// The answer to `POST /events`: the receipt, whose hash identifies the event's content.
struct ReceiptResponse: ResponseEncodable {
    var eventHash: String
    var epoch: Int32

    enum CodingKeys: String, CodingKey {
        case eventHash = "event_hash", epoch
    }

    init(_ receipt: ConductorReceipt) {
        eventHash = receipt.eventHash
        epoch = receipt.epoch
    }
}

/// The answer to `GET /proofs/:day`.
struct DayProofResponse: ResponseEncodable {
    var dayNumber: Int32
    var proof: String
    var proofHash: String
    var canonical: Bool
    var source: String

    enum CodingKeys: String, CodingKey {
        case dayNumber = "day_number", proof, proofHash = "proof_hash", canonical, source
    }

    init(_ proof: DayProof) {
        dayNumber = proof.dayNumber
        self.proof = proof.proof
        proofHash = proof.proofHash
        canonical = proof.canonical
        source = proof.source
    }
}
