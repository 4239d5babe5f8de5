extension InMemoryConductor {
    /// An event the in-memory conductor has applied, with the receipt it answered.
    public struct AppliedEvent: Sendable, Hashable {
        /// The event as submitted.
        public var event: ConductorEvent
        /// The receipt returned for it; its ``ConductorReceipt/eventHash`` identifies the content.
        public var receipt: ConductorReceipt
        /// The method that applied it: ``ConductorMethod/submitEvent`` or ``ConductorMethod/submitEventsBatch``.
        public var method: ConductorMethod

        /// Creates a record of an applied event.
        public init(event: ConductorEvent, receipt: ConductorReceipt, method: ConductorMethod) {
            self.event = event
            self.receipt = receipt
            self.method = method
        }
    }
}
