/// A bounded key-value store with least-recently-used eviction; every operation is O(1).
///
/// Entries live in one contiguous array and form a doubly linked recency list through their
/// indices (no per-entry allocation); a dictionary maps keys to indices. Removal moves the last
/// entry into the freed slot, so the array stays dense.
///
/// The lookup path is `@inlinable` so that clients specialize it for their key and element types.
@usableFromInline
struct LRUStorage<Key: Hashable, Element> {
    @usableFromInline
    struct Node {
        @usableFromInline let key: Key
        @usableFromInline var element: Element
        /// The next more recently used node, or `none`.
        @usableFromInline var newer: Int
        /// The next less recently used node, or `none`.
        @usableFromInline var older: Int

        @inlinable
        init(key: Key, element: Element, newer: Int, older: Int) {
            self.key = key
            self.element = element
            self.newer = newer
            self.older = older
        }
    }

    @inlinable
    static var none: Int { -1 }

    @usableFromInline let capacity: Int
    @usableFromInline var nodes: [Node] = []
    @usableFromInline var slots: [Key: Int] = [:]
    @usableFromInline var newest = Self.none
    @usableFromInline var oldest = Self.none

    init(capacity: Int) {
        self.capacity = capacity
        nodes.reserveCapacity(capacity)
        slots.reserveCapacity(capacity)
    }

    var count: Int {
        nodes.count
    }

    /// The slot holding `key`, if any. Slots stay valid until the next insertion or removal.
    ///
    /// The most recently used entry is compared first: a key asked for again and again (today's
    /// day proof) is then found without hashing, which costs more than the rest of a cache hit.
    @inlinable
    func slot(for key: Key) -> Int? {
        if newest != Self.none, nodes[newest].key == key {
            return newest
        }
        return slots[key]
    }

    /// The element in `slot`.
    @inlinable
    func element(at slot: Int) -> Element {
        nodes[slot].element
    }

    /// Runs `body` on the element in `slot` where it lies. For reading a part of an element on a
    /// hot path: `element(at:)` copies it whole, and the compiler copied the whole node for it.
    @inlinable
    func withElement<Result>(at slot: Int, _ body: (borrowing Element) -> Result) -> Result {
        nodes.withUnsafeBufferPointer { body($0[slot].element) }
    }

    /// Makes the entry in `slot` the most recently used.
    @inlinable
    mutating func markUsed(_ slot: Int) {
        guard slot != newest else {
            return
        }
        unlink(slot)
        linkAsNewest(slot)
    }

    /// Stores `element` for `key` as the most recently used entry; returns whether the least
    /// recently used entry was evicted to make room.
    @inlinable
    mutating func set(_ element: Element, for key: Key) -> Bool {
        if let slot = slots[key] {
            nodes[slot].element = element
            markUsed(slot)
            return false
        }
        guard nodes.count == capacity else {
            nodes.append(Node(key: key, element: element, newer: Self.none, older: Self.none))
            slots[key] = nodes.count - 1
            linkAsNewest(nodes.count - 1)
            return false
        }
        let victim = oldest
        unlink(victim)
        slots[nodes[victim].key] = nil
        nodes[victim] = Node(key: key, element: element, newer: Self.none, older: Self.none)
        slots[key] = victim
        linkAsNewest(victim)
        return true
    }

    /// Removes the entry for `key`, if any.
    mutating func removeValue(for key: Key) {
        guard let slot = slots.removeValue(forKey: key) else {
            return
        }
        unlink(slot)
        let last = nodes.count - 1
        if slot != last {
            let moved = nodes[last]
            nodes[slot] = moved
            slots[moved.key] = slot
            if moved.newer == Self.none {
                newest = slot
            } else {
                nodes[moved.newer].older = slot
            }
            if moved.older == Self.none {
                oldest = slot
            } else {
                nodes[moved.older].newer = slot
            }
        }
        nodes.removeLast()
    }

    @inlinable
    mutating func unlink(_ slot: Int) {
        let (newer, older) = (nodes[slot].newer, nodes[slot].older)
        if newer == Self.none {
            newest = older
        } else {
            nodes[newer].older = older
        }
        if older == Self.none {
            oldest = newer
        } else {
            nodes[older].newer = newer
        }
    }

    @inlinable
    mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].newer = Self.none
        nodes[slot].older = newest
        if newest == Self.none {
            oldest = slot
        } else {
            nodes[newest].newer = slot
        }
        newest = slot
    }
}

extension LRUStorage: Sendable where Key: Sendable, Element: Sendable {}

extension LRUStorage.Node: Sendable where Key: Sendable, Element: Sendable {}
