import CommandLineOptions
import Diagnosis
import FaultInjection

/// `faults`: the catalog, one line per fault.
struct Faults: CLICommand {
  static var name: String { "faults" }
  static let spec = CommandSpec(
    name: name, abstract: "List the fault catalog: what each fault does and the class it must be diagnosed as.")

  init(_ a: ParsedArguments) throws(UsageError) {}

  func run() {
    var out = ""
    for e in FaultCatalog.entries {
      out += e.name.padded(22) + e.hangClass.padded(32) + e.summary + "\n"
    }
    emit(out)
  }
}
