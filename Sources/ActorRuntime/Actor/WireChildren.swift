import MiniJSON

/// A node's children as they crossed a channel (ActorSpec's subtree, an
/// ErrorInfo's gathered errors): parsed, or still the wire text of their
/// array (`JSONValue.deferred`). Decoding a message parses the top node and
/// its children and keeps deeper levels as text, which an actor passes on
/// unparsed: at depth 7 every actor used to parse and re-encode its whole
/// subtree (8-10% of all actor CPU). Parsed only when someone asks.
struct WireChildren<Element: Equatable & Sendable>: Sendable {
  private var parsed: [Element]
  /// The array's wire text (nil: the children are `parsed`).
  private(set) var text: JSONText?

  init(_ parsed: [Element], text: JSONText? = nil) {
    self.parsed = parsed
    self.text = text
  }

  /// The children, parsing the text with `parse` when they are still text.
  func value(_ parse: (JSONText) -> [Element]) -> [Element] { text.map(parse) ?? parsed }

  /// Replaces them (the text is dropped).
  mutating func set(_ children: [Element]) {
    parsed = children
    text = nil
  }

  /// The `children` member to send on: the text as it came, else the array.
  func json(_ encode: (Element) -> JSONValue) -> JSONValue { text.map { .deferred($0) } ?? .array(parsed.map(encode)) }

  /// Equal when both are the same text (no parse), else when the parsed lists are.
  func equals(_ other: WireChildren, _ parse: (JSONText) -> [Element]) -> Bool {
    if let t = text, t == other.text { return true }
    return value(parse) == other.value(parse)
  }
}
